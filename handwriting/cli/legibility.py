"""`handwriting evaluate legibility`: synthesize phrases, read them back with a recognizer (the
judge), report CER, first-word CER and collapsed lines; `--via-cli` writes and reads files the
way a user does."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from handwriting.cli.common import synthesizer
from handwriting.phrases import PHRASE_LISTS, read_phrases
from handwriting.presets import UNPRIMED, default_style, shipped_style_names


def add_parser(esub) -> None:
    eleg = esub.add_parser("legibility", help="synthesize phrases, read them back, report CER")
    eleg.add_argument("--model", dest="checkpoint", default=None, help="synthesizer checkpoint")
    eleg.add_argument("--recognizer", default=None, help="recognizer checkpoint")
    eleg.add_argument("--phrases", default=None,
                      help="phrase file, or a shipped list: 'shipped' (default), 'digits' "
                           "(digits and punctuation) or 'digits-check' (20 more, held out from "
                           "tuning on 'digits')")
    eleg.add_argument("--bias", type=float, default=0.75)
    eleg.add_argument("--style", default=None,
                      help="a style preset, or 'none' for the model's own hand (default: what "
                           "`handwriting synthesize` writes in, tidy)")
    eleg.add_argument("--seed", type=int, default=0)
    eleg.add_argument("--repeats", type=int, default=3,
                      help="samples per phrase, each with its own seed (default 3): one "
                           "sample per phrase leaves a CER that moves by a point or two "
                           "from seed to seed")
    eleg.add_argument("--samples", action="store_true", help="include each phrase and reading")
    eleg.add_argument("--candidates", type=int, default=None,
                      help="self-checking: candidates per line, the best-reading kept "
                           "(default: synthesize's default; 1 = off)")
    eleg.add_argument("--via-cli", action="store_true",
                      help="write with `handwriting synthesize --text-file` (SVG files, "
                           "wrapped as it does) and read back with `handwriting recognize`")
    eleg.add_argument("--chooser", default=None,
                      help="recognizer checkpoint that chooses among candidates (default: "
                           "shipped); --recognizer names the one that reads back (the judge)")
    eleg.add_argument("--json", action="store_true")
    eleg.set_defaults(handler=cmd_evaluate_legibility)


COLLAPSED_CER = 0.30  # a line whose reading is this far off is counted as collapsed


def _written_in_process(args, syn, rec, phrases: list[str], seeds: list[int]):
    """(phrase, seed, [(line text, its reading, its failure class)]) per phrase, written and
    read back through the library, line by line."""
    from handwriting.alphabet import detokenize

    for phrase, seed in zip(phrases, seeds, strict=True):
        inks, how = syn.write_classified(phrase, bias=args.bias, style=args.style_used,
                                         seed=seed)
        yield phrase, seed, [(ink.meta["text"], detokenize(rec.recognize(ink).text), cls)
                             for ink, cls in zip(inks, how, strict=True)]


def _written_via_cli(args, k: int, phrases: list[str], seeds: list[int]):
    """The same, the way a user does it: `handwriting synthesize --text-file` writes one SVG
    per phrase (wrapping as it does), `handwriting recognize` reads the files back; one
    reading per file, failure classes unknown."""

    import subprocess
    import tempfile

    from handwriting.alphabet import detokenize

    def run(*cli: str) -> str:
        done = subprocess.run([sys.executable, "-m", "handwriting", *cli], capture_output=True,
                              text=True, env=os.environ.copy())
        if done.returncode:
            raise ValueError(f"handwriting {cli[0]} failed: {done.stderr.strip()[-300:]}")
        return done.stdout

    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / "phrases.txt"
        texts.write_text("\n".join(phrases) + "\n", encoding="utf-8")
        # batch mode seeds line i (from 1) with --seed + i: the in-process seeds exactly
        cli = ["synthesize", "--text-file", str(texts), "--out-dir", tmp, "--format", "svg",
               "--seed", str(seeds[0] - 1), "--bias", str(args.bias), "--candidates", str(k)]
        cli += ["--style", args.style_used] if args.style_used else []
        cli += ["--model", args.checkpoint] if args.checkpoint else []
        run(*cli)
        files = [str(Path(tmp) / f"{i:04d}.svg") for i in range(1, len(phrases) + 1)]
        cli = ["recognize", *files, "--json"]
        cli += ["--model", args.recognizer] if args.recognizer else []
        read = {r["file"]: " ".join(detokenize(r["text"]).split())
                for r in json.loads(run(*cli))}
    for phrase, seed, f in zip(phrases, seeds, files, strict=True):
        yield phrase, seed, [(phrase, read[f], "unknown")]


def cmd_evaluate_legibility(args) -> int:
    from collections import Counter

    from handwriting.metrics import ErrorCounts, FirstWordCounts
    from handwriting.results import models_dir
    from handwriting.service import Recognizer

    phrases = read_phrases(Path(PHRASE_LISTS.get(args.phrases, args.phrases))
                           if args.phrases else None)
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    via_cli = getattr(args, "via_cli", False)
    if via_cli and args.chooser:
        raise ValueError("--chooser does not apply to --via-cli: the CLI chooses with the "
                         "shipped recognizer")
    from handwriting.selfcheck import DEFAULT_CANDIDATES

    k = DEFAULT_CANDIDATES if args.candidates is None else args.candidates
    syn = None if via_cli else synthesizer(args)
    # no --style: the default hand, as `handwriting synthesize` writes (presets.DEFAULT_STYLE)
    args.style_used = args.style or (syn.default_style if syn is not None
                                     else default_style(shipped_style_names()))
    rec = None if via_cli else Recognizer.from_checkpoint(args.recognizer)
    t0 = time.perf_counter()
    counts, samples, per_repeat, collapsed = ErrorCounts(), [], [], []
    first = ErrorCounts()  # the first word: what a style's priming hand-over can garble
    first_aligned = FirstWordCounts()  # the same, without charging a merge with the next word
    classes: Counter[str] = Counter()
    lines_written = 0
    for r in range(args.repeats):  # repeat r, phrase i: seed + r * len(phrases) + i
        once = ErrorCounts()
        seeds = [args.seed + r * len(phrases) + i for i in range(len(phrases))]
        written = (_written_via_cli(args, k, phrases, seeds) if via_cli else
                   _written_in_process(args, syn, rec, phrases, seeds))
        for phrase, seed, lines in written:
            hyp = " ".join(read for _, read, _ in lines)
            counts.add(phrase, hyp)
            once.add(phrase, hyp)
            first.add(phrase.split()[0], (hyp.split() or [""])[0])
            first_aligned.add(phrase, hyp)
            samples.append({"text": phrase, "seed": seed, "read": hyp})
            for text, read, cls in lines:  # each written line (each file, via the CLI)
                line = ErrorCounts()
                line.add(text, read)
                lines_written += 1
                classes[cls] += 1
                if line.cer > COLLAPSED_CER:
                    collapsed.append({"text": text, "seed": seed, "read": read,
                                      "cer": round(line.cer, 3), "class": cls})
        per_repeat.append(round(once.cer, 4))
    reader = args.recognizer or models_dir() / "recognizer.pt"
    result = {"phrases": len(phrases), "repeats": args.repeats, "cer": round(counts.cer, 4),
              "wer": round(counts.wer, 4), "cer_per_repeat": per_repeat,
              "digits": counts.digits, "digit_error_rate": (
                  None if counts.digit_error_rate is None else round(counts.digit_error_rate, 4)),
              "first_word_cer": round(first.cer, 4),
              "first_word_aligned_cer": round(first_aligned.cer, 4),
              "bias": args.bias, "style": args.style_used or UNPRIMED, "seed": args.seed,
              "candidates": k, "via_cli": via_cli, "reader": str(reader),
              "chooser": str(args.chooser or models_dir() / "recognizer.pt") if k > 1 else None,
              "recognizer_decoder": rec.default_decoder if rec else "the CLI's default",
              "collapsed_lines": len(collapsed), "collapsed_cer_above": COLLAPSED_CER,
              "written_lines": lines_written,
              "collapsed_classes": dict(Counter(s["class"] for s in collapsed)),
              "line_classes": dict(classes),
              "seconds": round(time.perf_counter() - t0, 1)}
    if args.samples:
        result["samples"] = samples
        result["collapsed"] = collapsed
    print(json.dumps(result) if args.json else
          f"legibility: CER {100 * counts.cer:.1f} %  WER {100 * counts.wer:.1f} % "
          f"({len(phrases)} phrases x {args.repeats}, {k} candidates, "
          f"{len(collapsed)} collapsed)")
    return 0
