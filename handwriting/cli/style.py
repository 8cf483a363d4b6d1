"""`handwriting evaluate style`: does primed synthesis write in the primer's hand, and does it
stay legible? Each IAM-OnDB form stands in for one writer: the synthesizer is primed with one
of its lines, writes a few phrases, and the output's style statistics
(`handwriting.style_stats`) are set against the writer's other lines and the other writers';
the judge recognizer reads the output back. `--presets` does the same for the shipped style
presets (issue 14) and needs no dataset."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwriting.cli.common import add_match_hand_arg

DEFAULT_PHRASES = 6  # the first lines of the shipped legibility list: a handful per writer
TARGET_CLOSER = 0.8  # issue 18: >= 80 % of writers closer to themselves than to the others
TARGET_CER_RATIO = 1.5  # issue 18 and 14: primed read-back CER within 1.5x unprimed


def add_parser(esub) -> None:
    """Add `evaluate style` to `handwriting evaluate`'s subcommands."""
    p = esub.add_parser(
        "style", help="style fidelity and legibility of primed synthesis (IAM-OnDB writers, "
                      "or the shipped presets with --presets)")
    p.add_argument("--iam-ondb", metavar="PATH", default=None,
                   help="IAM-OnDB folder (default: ../shared/data/iam-ondb or $HANDWRITING_IAM_ONDB)")
    p.add_argument("--split", default="testset_t")
    p.add_argument("--forms", type=int, default=16, help="writers (forms) to prime with (16)")
    p.add_argument("--form", action="append", metavar="ID", default=None,
                   help="a form to prime with instead of the first --forms (repeat: 2 or more)")
    p.add_argument("--presets", action="store_true",
                   help="evaluate the shipped style presets instead of IAM-OnDB writers")
    p.add_argument("--repeats", type=int, default=4,
                   help="with --presets: seeds each phrase is written with (default 4)")
    p.add_argument("--phrases", default=None,
                   help="phrase file, or 'shipped' (default) or 'digits'")
    p.add_argument("--max-phrases", type=int, default=DEFAULT_PHRASES,
                   help=f"the first N phrases of the list (default {DEFAULT_PHRASES})")
    p.add_argument("--skip-phrases", type=int, default=0,
                   help="start at this phrase of the list (0): choose with other phrases "
                        "than you measure with")
    p.add_argument("--search", type=int, default=0, metavar="N",
                   help="search IAM-OnDB trainset lines for style presets: prime with the N "
                        "most distinct lines in each direction (slant, x-height, letter "
                        "width), read the output with the choosing recognizer (not the "
                        "judge) and propose one preset per direction")
    p.add_argument("--candidates", type=int, default=None,
                   help="self-checking candidates per line (default: synthesize's; 1 = off)")
    p.add_argument("--bias", type=float, default=0.75)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--model", dest="checkpoint", default=None, help="synthesizer checkpoint")
    p.add_argument("--judge", default=None,
                   help="recognizer that reads the output back (default: models/judge.pt; "
                        "never the one that chooses among candidates)")
    add_match_hand_arg(p)
    p.add_argument("--hand-lines", type=int, default=1, metavar="K",
                   help="measure each writer's hand (slant, letter width: what the written ink "
                        "is matched to) on the prime and the form's next K-1 lines, which are "
                        "then not among the writer's own (1: the prime alone)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate_style)


@dataclass
class Written:
    """Lines written for a list of phrases: ink, the text of each line, what the judge read."""

    inks: list
    texts: list[str]
    readings: list[str]
    starts: list[bool]  # the line starts a phrase (its first word is a phrase's first word)


def write_and_read(syn, judge, phrases: list[str], style, seed: int, bias: float) -> Written:
    """All `phrases` written as one text (one sampling batch, a line or more per phrase),
    every line read back by `judge` with its default decoder, as `evaluate legibility`
    does."""
    from handwriting.alphabet import detokenize

    inks = syn.write("\n".join(phrases), bias=bias, style=style, seed=seed)
    starts = [i == 0 for p in phrases for i in range(len(syn.plan(p).lines))]
    if len(starts) != len(inks):
        raise ValueError("the phrases did not wrap into the lines written")  # a bug, not input
    texts = [ink.meta["text"] for ink in inks]
    readings = [detokenize(judge.recognize(ink).text) if ink.num_points > 1 else ""
                for ink in inks]
    return Written(inks, texts, readings, starts)


def _counts(written: list[Written]):
    """(all lines, first words as tokens, first words aligned) error counts over several
    `Written` (`metrics.first_word_errors`: the aligned count does not charge a merge with the
    next word as the whole word's error)."""
    from handwriting.metrics import ErrorCounts, FirstWordCounts

    lines, first, aligned = ErrorCounts(), ErrorCounts(), FirstWordCounts()
    for w in written:
        for text, read, start in zip(w.texts, w.readings, w.starts, strict=True):
            lines.add(text, read)
            if start:
                first.add(text.split()[0], (read.split() or [""])[0])
                aligned.add(text, read)
    return lines, first, aligned


def _stats(written: list[Written]):
    from handwriting.style_stats import mean_stats, style_stats

    return mean_stats([style_stats(ink, text) for w in written
                       for ink, text in zip(w.inks, w.texts, strict=True) if ink.num_points > 1])


def _within_text(written: list[Written]) -> dict:
    """How much slant, x-height and letter width vary between the lines of one text (all the
    phrases are written as one text): the standard deviation over its lines, averaged over
    `written`'s texts. One hand per text keeps them small; each line a new hand does not."""
    from handwriting.style_stats import style_stats

    names = ("slant", "x_height", "letter_width")
    sds = []
    for w in written:
        stats = [style_stats(ink, text) for ink, text in zip(w.inks, w.texts, strict=True)
                 if ink.num_points > 1]
        if len(stats) > 1:
            sds.append([np.std([getattr(s, n) for s in stats]) for n in names])
    return ({n: round(float(v), 4) for n, v in zip(names, np.mean(sds, axis=0), strict=True)}
            if sds else {})


def _models(args):
    from handwriting.results import models_dir
    from handwriting.selfcheck import DEFAULT_CANDIDATES
    from handwriting.service import Recognizer, Synthesizer

    k = DEFAULT_CANDIDATES if args.candidates is None else args.candidates
    syn = Synthesizer.from_checkpoint(args.checkpoint, candidates=k, threads=args.threads,
                                      match_hand=not args.no_match_hand)
    judge_path = Path(args.judge) if args.judge else models_dir() / "judge.pt"
    judge = Recognizer.from_checkpoint(judge_path, threads=args.threads)
    return syn, judge, k, judge_path


def _phrases(args) -> list[str]:
    from handwriting.phrases import PHRASE_LISTS, read_phrases

    if args.max_phrases < 1:
        raise ValueError(f"--max-phrases must be at least 1, got {args.max_phrases}")
    if args.skip_phrases < 0:
        raise ValueError(f"--skip-phrases must be 0 or more, got {args.skip_phrases}")
    source = Path(PHRASE_LISTS.get(args.phrases, args.phrases)) if args.phrases else None
    try:
        phrases = read_phrases(source)[args.skip_phrases: args.skip_phrases + args.max_phrases]
    except UnicodeDecodeError:
        raise ValueError(f"{args.phrases}: not UTF-8 text") from None
    if not phrases:
        raise ValueError(f"{args.phrases}: no phrases in the file")
    return phrases


def _rate(counts) -> float:
    return round(counts.cer, 4)


def _percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.0f} %"


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b > 0 else None


def choose_writers(lines, forms: int, alphabet, only=None,
                   hand_lines: int = 1) -> list[tuple[str, object, list, list]]:
    """The first `forms` forms (in id order, as `evaluate adaptation` takes them), or the forms
    `only`, with more lines than `hand_lines`: (form, the line to prime with, the lines to
    measure the writer's hand on, the others). The prime is the form's first line the
    synthesizer can write without dropping a character; the hand is measured on it and the
    next `hand_lines` - 1 lines, as the app measures a stored writer's on all their samples."""
    from handwriting.adaptation import form_of
    from handwriting.alphabet import detokenize

    by_form: dict[str, list] = {}
    for ln in sorted(lines, key=lambda ln: ln.id):
        by_form.setdefault(form_of(ln.id), []).append(ln)
    chosen = []
    for form in sorted(only or by_form):
        group = by_form.get(form, [])
        ok = [ln for ln in group if not alphabet.normalize(detokenize(ln.text)).dropped
              and len(detokenize(ln.text).split()) >= 2]
        if len(group) < hand_lines + 1 or not ok:
            continue
        rest = [ln for ln in group if ln is not ok[0]]
        chosen.append((form, ok[0], [ok[0], *rest[:hand_lines - 1]], rest[hand_lines - 1:]))
        if len(chosen) == forms and not only:
            break
    return chosen


def _read_own(judge, lines):
    """The judge's errors on a writer's own lines (`lines`: IAM-OnDB lines), read as
    `evaluate recognizer` reads them, detokenized as the synthesized lines are scored."""
    from handwriting.alphabet import detokenize
    from handwriting.metrics import ErrorCounts

    counts = ErrorCounts()
    for ln, lp in zip(lines, judge.log_posteriors([ln.ink for ln in lines]), strict=True):
        counts.add(detokenize(ln.text), detokenize(judge.decode(lp)[0].text))
    return counts


def evaluate_writers(args, progress) -> dict:
    from handwriting.alphabet import detokenize
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.ink import InkError
    from handwriting.metrics import ErrorCounts
    from handwriting.style_stats import (
        SHAPE_STATS,
        fidelity,
        mean_stats,
        own_ink_fidelity,
        per_statistic,
        population_spread,
        style_stats,
    )

    if args.forms < 2:
        raise ValueError(f"--forms must be at least 2 (a writer is compared with the others), "
                         f"got {args.forms}")
    phrases = _phrases(args)
    lines, _ = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty()).evaluation_lines(
        args.split)
    syn, judge, k, judge_path = _models(args)
    only = sorted(set(args.form or ()))
    if args.hand_lines < 1:
        raise ValueError(f"--hand-lines must be at least 1, got {args.hand_lines}")
    writers = choose_writers(lines, args.forms, syn.alphabet, only, args.hand_lines)
    if only and len(writers) < len(only):
        bad = sorted(set(only) - {w[0] for w in writers})
        raise ValueError(f"--form {bad[0]}: not a form of {args.split!r} with more than "
                         f"{args.hand_lines} usable lines")
    if len(writers) < 2:
        raise ValueError(f"split {args.split!r} has {len(writers)} forms with more than "
                         f"{args.hand_lines} usable lines in {args.iam_ondb or 'the default path'}"
                         "; need at least 2")
    rows, primed_all, unprimed_all, own, primed, unprimed = [], [], [], [], [], []
    own_lines = []  # each writer's own lines' stats, for the test's ceiling
    own_read = ErrorCounts()  # the judge on the writers' own lines: how legible each hand is
    for w, (form, prime, hand, others) in enumerate(writers):
        own_stats = []
        for ln in others:
            try:
                own_stats.append(style_stats(ln.ink, detokenize(ln.text)))
            except (InkError, ValueError):
                continue  # a line of punctuation only: nothing per character to measure
        style = syn.style_from_ink(prime.ink, detokenize(prime.text), name=form,
                                   hand_from=[(ln.ink, detokenize(ln.text)) for ln in hand])
        seed = args.seed + w  # the same seed primed and unprimed: a paired comparison
        p = write_and_read(syn, judge, phrases, style, seed, args.bias)
        u = write_and_read(syn, judge, phrases, None, seed, args.bias)
        primed_all.append(p)
        unprimed_all.append(u)
        own.append(mean_stats(own_stats))
        own_lines.append(own_stats)
        primed.append(_stats([p]))
        unprimed.append(_stats([u]))
        pc, uc = _counts([p])[0], _counts([u])[0]
        oc = _read_own(judge, others)
        own_read.merge(oc)
        rows.append({"form": form, "prime_line": prime.id, "prime_text": detokenize(prime.text),
                     "hand_from": [ln.id for ln in hand],
                     "own_lines": len(own_stats), "own": own[-1].to_dict(),
                     "cer_own_ink": _rate(oc),
                     "primed": primed[-1].to_dict(), "unprimed": unprimed[-1].to_dict(),
                     "cer_primed": _rate(pc), "cer_unprimed": _rate(uc),
                     "readings_primed": p.readings})
        progress(f"{form}: primed CER {pc.cer:.3f}, unprimed {uc.cer:.3f} "
                 f"({w + 1}/{len(writers)})")
    own_v = np.stack([s.vector() for s in own])
    spread = population_spread(own_v)
    primed_v = np.stack([s.vector() for s in primed])
    unprimed_v = np.stack([s.vector() for s in unprimed])
    stat_rows = {name: {f"primed_{k}": v for k, v in p.items()}
                 | {f"unprimed_{k}": v for k, v in u.items()}
                 for (name, p), u in zip(per_statistic(primed_v, own_v).items(),
                                         per_statistic(unprimed_v, own_v).values(), strict=True)}
    fid_p, fid_u = fidelity(primed_v, own_v, spread), fidelity(unprimed_v, own_v, spread)
    # the test's ceiling: the writers' own lines, one half scored against the other
    fid_own = (own_ink_fidelity(own_lines, spread)
               if sum(len(ls) >= 2 for ls in own_lines) >= 2 else [])
    for i, (row, fp, fu) in enumerate(zip(rows, fid_p, fid_u, strict=True)):
        row["fidelity_primed"] = {**fp, "nearest": writers[fp["nearest"]][0],
                                  "nearest_is_self": fp["nearest"] == i}
        row["fidelity_unprimed"] = {**fu, "nearest": writers[fu["nearest"]][0],
                                    "nearest_is_self": fu["nearest"] == i}
    (pl, pf, pa), (ul, uf, ua) = _counts(primed_all), _counts(unprimed_all)
    n = len(writers)
    return {
        "mode": "writers", "split": args.split, "forms": n, "phrases": len(phrases),
        "match_hand": syn.match_hand, "hand_lines": args.hand_lines,
        "lines_written_per_condition": pl.lines, "candidates": k, "bias": args.bias,
        "seed": args.seed, "judge": str(judge_path), "statistics": list(SHAPE_STATS),
        "spread": dict(zip(SHAPE_STATS, np.round(spread, 4).tolist(), strict=True)),
        "distance": "RMS over the statistics of (a - b) / spread; spread = 1.4826 x MAD of "
                    "each statistic over the forms' own ink (mean of each form's lines but "
                    "the prime)",
        "primed_closer_fraction": round(sum(r["closer"] for r in fid_p) / n, 4),
        "unprimed_closer_fraction": round(sum(r["closer"] for r in fid_u) / n, 4),
        "own_ink_closer_fraction": (round(sum(r["closer"] for r in fid_own) / len(fid_own), 4)
                                    if fid_own else None),
        "own_ink_writers": len(fid_own),
        "primed_nearest_self_fraction": round(
            sum(r["fidelity_primed"]["nearest_is_self"] for r in rows) / n, 4),
        "unprimed_nearest_self_fraction": round(
            sum(r["fidelity_unprimed"]["nearest_is_self"] for r in rows) / n, 4),
        # priming moved the output towards the writer: the same phrases and seeds, so the
        # phrases' own effect on the statistics (their letters, not the hand) cancels
        "primed_moves_towards_writer_fraction": round(sum(
            p["distance_own"] < u["distance_own"] for p, u in zip(fid_p, fid_u, strict=True))
            / n, 4),
        "per_statistic": stat_rows,
        "primed_cer": _rate(pl), "unprimed_cer": _rate(ul), "cer_ratio": _ratio(pl.cer, ul.cer),
        "own_ink_cer": _rate(own_read), "primed_to_own_ink_cer_ratio": _ratio(pl.cer, own_read.cer),
        "primed_first_word_cer": _rate(pf), "unprimed_first_word_cer": _rate(uf),
        "primed_first_word_aligned_cer": _rate(pa), "unprimed_first_word_aligned_cer": _rate(ua),
        "targets": {"primed_closer_fraction": TARGET_CLOSER, "cer_ratio": TARGET_CER_RATIO},
        "per_writer": rows}


def cmd_evaluate_style(args: argparse.Namespace) -> int:
    def progress(msg: str) -> None:
        print(f"evaluate style: {msg}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    if args.search:
        from handwriting.cli.style_search import search_presets

        result = search_presets(args, progress)
    elif args.presets:
        from handwriting.cli.style_presets import evaluate_presets

        result = evaluate_presets(args, progress)
    else:
        result = evaluate_writers(args, progress)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result))
    elif args.search:
        for d in result["proposal"]:
            print(f"{d['direction']}: {d['line']} ({d['reason']})")
        print(result["command"])
    elif args.presets:
        for r in result["per_preset"]:
            print(f"{r['preset']}: CER {100 * r['cer']:.1f} % (unprimed "
                  f"{100 * result['unprimed_cer']:.1f} %), slant closer to prime: "
                  f"{r['slant_closer_to_prime']}, x-height: {r['x_height_closer_to_prime']}")
    else:
        print(f"style: {100 * result['primed_closer_fraction']:.0f} % of {result['forms']} "
              f"writers closer to their own ink (unprimed {100 * result['unprimed_closer_fraction']:.0f} %, "
              f"the writers' own lines {_percent(result['own_ink_closer_fraction'])}); "
              f"CER primed {100 * result['primed_cer']:.1f} %, unprimed "
              f"{100 * result['unprimed_cer']:.1f} %")
    return 0
