"""`handwriting evaluate style --search N`: choose style presets by what priming with them does.

A preset is only worth shipping if the hand it shows carries over: output primed with it must
lean, stand or spread like the prime and not like the model's own average hand, and stay as
legible. Which IAM-OnDB lines do that cannot be read off the lines themselves (the model
follows some primes and ignores others), so this measures it: the trainset lines whose last
words (what the sampler primes with, `priming.trim_style`) are most distinct in one
direction are each used as a prime, the output's style statistics are set against the prime
and against unprimed output, and the choosing recognizer (never the judge, which measures the
shipped presets afterwards) reads it back. One preset is proposed per direction, with the
`handwriting data styles` command that builds them. Trainset lines only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handwriting.cli.style import _counts, _phrases, _rate, _ratio, _stats, write_and_read

# preset name: (statistic, sign) of the hand it should show beside the model's average hand
DIRECTIONS = {"slanted": ("slant", 1.0), "upright": ("slant", -1.0),
              "round": ("x_height", 1.0), "wide": ("letter_width", 1.0)}
BAND = 0.15  # candidates come from the 15 % of lines most distinct in a direction
MIN_WORDS = 3  # a prime line with fewer words has too little ink to show a hand
MAX_CER_RATIO = 1.2  # a proposed preset reads within this of unprimed output (chooser)
MAX_FIRST_WORD_RATIO = 1.2


@dataclass(frozen=True)
class Candidate:
    line_id: str
    text: str
    style: object  # results.Style of the whole line (the sampler trims it)
    prime: object  # StyleStats of the whole line
    used: object  # StyleStats of the words the sampler primes with


def candidates(lines, alphabet) -> list[Candidate]:
    """Every trainset line that can be a prime: writable without dropping a character, at
    least `MIN_WORDS` words, and measurable whole and trimmed."""
    from handwriting.alphabet import detokenize
    from handwriting.features import synthesis_offsets
    from handwriting.ink import InkError, offsets_to_line_ink
    from handwriting.priming import trim_style
    from handwriting.results import Style
    from handwriting.style_stats import style_stats

    out = []
    for ln in lines:
        text = detokenize(ln.text)
        if len(text.split()) < MIN_WORDS or alphabet.normalize(text).dropped:
            continue
        style = Style(ln.id, synthesis_offsets(ln.ink), text)
        used = trim_style(style)
        try:
            prime = style_stats(offsets_to_line_ink(style.offsets, text), text)
            used_stats = style_stats(offsets_to_line_ink(used.offsets, used.text), used.text)
        except (InkError, ValueError):
            continue
        if not all(np.isfinite(getattr(s, n)) for s in (prime, used_stats)
                   for n in ("slant", "x_height", "letter_width")):
            continue
        out.append(Candidate(ln.id, text, style, prime, used_stats))
    return out


def most_distinct(pool: list[Candidate], stat: str, sign: float, n: int) -> list[Candidate]:
    """`n` candidates among the `BAND` of the pool farthest in direction `sign` of `stat`,
    spread evenly over that band by rank: the most extreme lines are often the least legible
    primes, so the band is tried from its edge inwards. Lines are ranked by the lesser of the
    whole line's and the used words' distance from the pool's median (in MADs): a line whose
    last words do not show what the whole line shows is no use as a prime."""
    whole = np.array([getattr(c.prime, stat) for c in pool])
    used = np.array([getattr(c.used, stat) for c in pool])

    def z(v):
        mad = np.median(np.abs(v - np.median(v))) or 1.0
        return sign * (v - np.median(v)) / mad

    order = np.argsort(-np.minimum(z(whole), z(used)), kind="stable")
    band = max(n, int(round(BAND * len(pool))))
    picks = np.unique(np.linspace(0, band - 1, n).round().astype(int))
    return [pool[order[i]] for i in picks]


def search_presets(args, progress) -> dict:
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.service import Recognizer, Synthesizer

    phrases = _phrases(args)
    k = 1 if args.candidates is None else args.candidates  # the model's own hand, unchosen
    syn = Synthesizer.from_checkpoint(args.checkpoint, candidates=k, threads=args.threads)
    reader = Recognizer.from_checkpoint(threads=args.threads)  # the chooser, not the judge
    lines = load_iam_ondb(args.iam_ondb).split("trainset")
    pool = candidates(lines, syn.alphabet)
    progress(f"{len(pool)} trainset lines can prime")
    seeds = [args.seed + r for r in range(args.repeats)]
    unprimed = [write_and_read(syn, reader, phrases, None, s, args.bias) for s in seeds]
    u_stats, (ul, _, ua) = _stats(unprimed), _counts(unprimed)
    progress(f"unprimed: CER {ul.cer:.3f}")
    tried: dict[str, dict] = {}
    for name, (stat, sign) in DIRECTIONS.items():
        for c in most_distinct(pool, stat, sign, args.search):
            if c.line_id in tried:
                continue
            out = [write_and_read(syn, reader, phrases, c.style, s, args.bias) for s in seeds]
            o, (ol, _, oa) = _stats(out), _counts(out)
            row = {"line": c.line_id, "text": c.text, "found_as": name,
                   "prime": c.prime.to_dict(), "used": c.used.to_dict(), "output": o.to_dict(),
                   "cer": _rate(ol), "cer_ratio": _ratio(ol.cer, ul.cer),
                   "first_word_aligned_cer": _rate(oa),
                   "first_word_aligned_cer_ratio": _ratio(oa.cer, ua.cer)}
            for s in ("slant", "x_height", "letter_width"):
                row[f"{s}_closer_to_prime"] = bool(
                    abs(getattr(o, s) - getattr(c.prime, s))
                    < abs(getattr(o, s) - getattr(u_stats, s)))
            tried[c.line_id] = row
            progress(f"{name} {c.line_id}: CER {ol.cer:.3f}, {stat} "
                     f"{getattr(o, stat):+.3f} (prime {getattr(c.prime, stat):+.3f})")
    # every line tried is a candidate in every direction: one found as wide may lean most
    proposal = [_propose(name, stat, [r | {"shift": round(sign * (r["output"][stat]
                                                                  - getattr(u_stats, stat)), 4)}
                                      for r in tried.values()])
                for name, (stat, sign) in DIRECTIONS.items()]
    command = "handwriting data styles models/styles.npz " + " ".join(
        f"{p['direction']}={p['line']}" for p in proposal if p["line"])
    return {"mode": "search", "directions": {n: {"statistic": s, "sign": g}
                                             for n, (s, g) in DIRECTIONS.items()},
            "pool": len(pool), "per_direction": args.search, "phrases": len(phrases),
            "skip_phrases": args.skip_phrases, "repeats": args.repeats, "candidates": k,
            "bias": args.bias, "seed": args.seed, "unprimed": u_stats.to_dict(),
            "unprimed_cer": _rate(ul), "unprimed_first_word_aligned_cer": _rate(ua),
            "tried": list(tried.values()), "proposal": proposal, "command": command}


def _propose(name: str, stat: str, rows: list[dict]) -> dict:
    """The candidate whose output moves farthest in the direction among those that read as
    well as unprimed (within `MAX_CER_RATIO`, first word within `MAX_FIRST_WORD_RATIO`) and
    whose slant and x-height are both closer to the prime than to unprimed output."""
    def legible(r):
        return ((r["cer_ratio"] or 0.0) <= MAX_CER_RATIO
                and (r["first_word_aligned_cer_ratio"] or 0.0) <= MAX_FIRST_WORD_RATIO)

    ok = [r for r in rows if legible(r) and r["slant_closer_to_prime"]
          and r["x_height_closer_to_prime"]]
    reason = "legible, slant and x-height closer to the prime"
    if not ok:
        ok, reason = [r for r in rows if legible(r)], "legible; not closer in slant and x-height"
    if not ok:
        return {"direction": name, "statistic": stat, "line": None,
                "reason": "no candidate reads within the limits"}
    best = max(ok, key=lambda r: r["shift"])
    return {"direction": name, "statistic": stat, "line": best["line"], "text": best["text"],
            "shift": best["shift"], "cer_ratio": best["cer_ratio"],
            "first_word_aligned_cer_ratio": best["first_word_aligned_cer_ratio"],
            "reason": reason}
