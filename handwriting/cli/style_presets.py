"""`handwriting evaluate style --presets`: the shipped style presets, each written with a few
seeds and read back by the judge, their statistics set against the prime's and against
unprimed output (issue 14). Needs no dataset."""

from __future__ import annotations

from handwriting.cli.style import (
    TARGET_CER_RATIO,
    _counts,
    _models,
    _phrases,
    _rate,
    _ratio,
    _stats,
    _within_text,
    write_and_read,
)


def evaluate_presets(args, progress) -> dict:
    from handwriting.ink import offsets_to_line_ink
    from handwriting.priming import trim_style
    from handwriting.style_stats import style_stats

    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    phrases = _phrases(args)
    syn, judge, k, judge_path = _models(args)
    if not syn.styles:
        raise ValueError(f"no style presets beside {syn.path} (styles.npz)")
    seeds = [args.seed + r for r in range(args.repeats)]
    unprimed = [write_and_read(syn, judge, phrases, None, s, args.bias) for s in seeds]
    u_stats, (ul, uf, ua) = _stats(unprimed), _counts(unprimed)
    u_within = _within_text(unprimed)
    progress(f"unprimed: CER {ul.cer:.3f}")
    rows = []
    for name in sorted(syn.styles):
        style = syn.styles[name]
        prime = style_stats(offsets_to_line_ink(style.offsets, style.text), style.text)
        used = trim_style(style)  # the last words of the prime: what the model is primed with
        used_stats = style_stats(offsets_to_line_ink(used.offsets, used.text), used.text)
        out = [write_and_read(syn, judge, phrases, style, s, args.bias) for s in seeds]
        o, (ol, of, oa) = _stats(out), _counts(out)
        row = {"preset": name, "prime_text": style.text, "prime": prime.to_dict(),
               "prime_used_text": used.text, "prime_used": used_stats.to_dict(),
               "output": o.to_dict(), "cer": _rate(ol), "first_word_cer": _rate(of),
               "cer_ratio": _ratio(ol.cer, ul.cer), "first_word_cer_ratio": _ratio(of.cer, uf.cer),
               "first_word_aligned_cer": _rate(oa),
               "first_word_aligned_cer_ratio": _ratio(oa.cer, ua.cer),
               "within_text_sd": _within_text(out)}
        for stat in ("slant", "x_height", "letter_width"):
            to_prime = abs(getattr(o, stat) - getattr(prime, stat))
            to_unprimed = abs(getattr(o, stat) - getattr(u_stats, stat))
            row[f"{stat}_to_prime"] = round(to_prime, 4)
            row[f"{stat}_to_unprimed"] = round(to_unprimed, 4)
            row[f"{stat}_closer_to_prime"] = bool(to_prime < to_unprimed)
        rows.append(row)
        progress(f"{name}: CER {ol.cer:.3f}, slant {o.slant:+.3f} (prime {prime.slant:+.3f}, "
                 f"unprimed {u_stats.slant:+.3f})")
    return {"mode": "presets", "presets": len(rows), "phrases": len(phrases),
            "repeats": args.repeats, "candidates": k, "bias": args.bias, "seed": args.seed,
            "judge": str(judge_path), "unprimed": u_stats.to_dict(),
            "unprimed_within_text_sd": u_within, "default_style": syn.default_style,
            "unprimed_cer": _rate(ul), "unprimed_first_word_cer": _rate(uf),
            "unprimed_first_word_aligned_cer": _rate(ua),
            "presets_slant_and_height_closer_to_prime": sum(
                r["slant_closer_to_prime"] and r["x_height_closer_to_prime"] for r in rows),
            "targets": {"cer_ratio": TARGET_CER_RATIO, "first_word_cer_ratio": 1.2},
            "per_preset": rows}
