"""CLI handlers for synthesis: `synthesize`, `evaluate synthesizer|legibility`, `bench`,
`data styles`, `train lm`. Parsers live in `handwriting.cli`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

FORMATS = ("svg", "inkml", "json", "png")


def _synthesizer(args):
    from handwriting.selfcheck import DEFAULT_CANDIDATES
    from handwriting.service import Recognizer, Synthesizer

    chooser = getattr(args, "chooser", None)
    reader = Recognizer.from_checkpoint(chooser, use_lm=False) if chooser else None
    k = getattr(args, "candidates", None)
    return Synthesizer.from_checkpoint(getattr(args, "checkpoint", None), reader=reader,
                                       candidates=DEFAULT_CANDIDATES if k is None else k)


def _style(syn, args):
    if getattr(args, "prime", None):
        from handwriting.formats import read_ink

        if not args.prime_text:
            raise ValueError("--prime needs --prime-text, the text written in the priming ink")
        return syn.style_from_ink(read_ink(args.prime), args.prime_text, name=Path(args.prime).stem)
    return syn.style(args.style) if args.style else None


def _write(inks, path: Path, args=None) -> None:
    from handwriting.exports import picture_options
    from handwriting.formats import write_ink
    from handwriting.geometry import join_lines

    ink = join_lines(inks)
    write_ink(ink, path, **picture_options(
        ink, path.suffix, getattr(args, "stroke_width", None), dpi=getattr(args, "dpi", None),
        height_px=getattr(args, "png_height", None)))


def cmd_synthesize(args) -> int:
    if (args.text is None) == (args.text_file is None):
        raise ValueError("give either TEXT or --text-file")
    syn = _synthesizer(args)
    style = _style(syn, args)
    if args.text is not None:
        if not args.output:
            raise ValueError("-o/--output is required with TEXT (e.g. -o out.svg)")
        out = Path(args.output)
        if out.suffix.lower().lstrip(".") not in FORMATS:
            raise ValueError(f"unsupported output type {out.suffix!r}; use one of {FORMATS}")
        plan = syn.plan(args.text)
        if plan.dropped:
            print(f"handwriting: warning: dropped characters {''.join(plan.dropped)!r}",
                  file=sys.stderr)
        inks = syn.write(args.text, bias=args.bias, style=style, seed=args.seed)
        _write(inks, out, args)
        print(f"wrote {out} ({len(inks)} lines)")
        return 0
    if not args.out_dir:
        raise ValueError("--text-file needs --out-dir")
    # One file per input line, numbered by its line in the file (blank lines are skipped,
    # so their numbers are unused).
    try:
        lines = Path(args.text_file).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{args.text_file}: not UTF-8 text") from None
    for i, text in enumerate(lines, 1):  # every line is checked before anything is written
        if text.strip():
            try:
                syn.plan(text)
            except ValueError as exc:
                raise ValueError(f"{args.text_file}, line {i}: {exc}") from None
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out-dir {out_dir}: is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    dropped: dict[str, None] = {}
    for i, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            dropped.update(dict.fromkeys(syn.plan(text).dropped))
        except ValueError as exc:  # e.g. a line of emoji only: name the file and line
            raise ValueError(f"{args.text_file}, line {i}: {exc}") from None
        inks = syn.write(text, bias=args.bias, style=style,
                         seed=None if args.seed is None else args.seed + i)
        _write(inks, out_dir / f"{i:04d}.{args.format}", args)
    if dropped:  # named once for the whole file, not once a line
        print(f"handwriting: warning: dropped characters {''.join(dropped)!r}", file=sys.stderr)
    print(f"wrote {len([t for t in lines if t.strip()])} files to {out_dir}")
    return 0


def cmd_evaluate_synthesizer(args) -> int:
    import numpy as np
    import torch

    from handwriting.checkpoint import config_from, load_checkpoint
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.features import SynthesisFeatureConfig
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.service import models_dir

    path = Path(args.checkpoint) if args.checkpoint else models_dir() / "synthesizer.pt"
    ckpt = load_checkpoint(path, "synthesizer")
    ds = load_iam_ondb(args.iam_ondb)
    lines = ds.split(args.split)
    if not lines:
        raise ValueError(f"split {args.split!r} has no usable lines")
    t0 = time.perf_counter()
    from handwriting.alphabet import Alphabet
    from handwriting.data.datasets import SynthesizerDataset, collate_synthesizer
    from handwriting.geometry import correct_slope, normalize_scale
    from handwriting.models.mdn import mixture_log_likelihood
    from handwriting.models.synthesizer import SynthesizerNet

    alphabet = Alphabet(ckpt["alphabet"])
    cfg = config_from(path, SynthesizerConfig, ckpt["model_config"])
    val = SynthesizerDataset(lines, alphabet, config_from(path, SynthesisFeatureConfig,
                                                          ckpt["feature_config"],
                                                          "feature_config"),
                             ckpt["offset_scale"])
    net = SynthesizerNet(cfg)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    net.eval()
    # Graves (2013) reports NLL over raw pen offsets. Ours is a density over offsets in
    # writing heights divided by offset_scale; with k = raw units per scaled unit of a line
    # (offset_scale / normalize's factor), p_raw(d) = p(d / k) / k^2 per point (two
    # continuous coordinates; pen-up is discrete and unchanged): +2 log k nats per point.
    by_id = {getattr(ln, "id", str(i)): ln for i, ln in enumerate(lines)}
    log_k = np.array([np.log(float(ckpt["offset_scale"])
                             / normalize_scale(correct_slope(by_id[i].ink))) for i in val.ids])
    per_line = np.zeros(len(val))
    order = np.argsort(val.lengths())
    with torch.no_grad():
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            b = collate_synthesizer([val[j] for j in idx], cfg.n_chars)
            x = b["x"]
            inputs = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)
            params, _ = net(inputs, b["text"], b["text_mask"])
            ll = (mixture_log_likelihood(params, x) * b["point_mask"]).sum(1)
            per_line[idx] = -ll.double().numpy()
    counts = np.array(val.lengths(), dtype=np.float64)
    total, points = float(per_line.sum()), float(counts.sum())
    raw = per_line + 2.0 * counts * log_k
    result = {"split": args.split, "lines": len(val), "skipped_lines": len(lines) - len(val),
              "nll_per_line": round(total / len(val), 2),
              "nll_per_point": round(total / points, 4), "points": int(points),
              "units": "nats, offsets scaled by offset_scale",
              "nll_per_line_raw_offsets": round(float(raw.mean()), 2),
              "raw_units": "nats per line over the pen offsets in the file's own coordinates "
                           "(IAM-OnDB: raw whiteboard units), at our resampling of ~10 points "
                           "per character (Graves 2013 used every raw point, ~2x as many)",
              "seconds": round(time.perf_counter() - t0, 1), "model": str(path)}
    print(json.dumps(result) if args.json else
          f"{args.split}: NLL {result['nll_per_line']} nats/line, "
          f"{result['nll_per_point']} nats/point ({len(val)} lines)")
    return 0


RESOURCES = Path(__file__).parent / "resources"
# `--phrases NAME` for a shipped list, or a file
PHRASE_LISTS = {"shipped": RESOURCES / "legibility_phrases.txt",
                "digits": RESOURCES / "legibility_phrases_digits.txt"}


def read_phrases(path: Path | None = None) -> list[str]:
    path = path or PHRASE_LISTS["shipped"]
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]


COLLAPSED_CER = 0.30  # a line whose reading is this far off is counted as collapsed


def _written_in_process(args, syn, rec, phrases: list[str], seeds: list[int]):
    """(phrase, seed, [(line text, its reading, its failure class)]) per phrase, written and
    read back through the library, line by line."""
    from handwriting.alphabet import detokenize

    for phrase, seed in zip(phrases, seeds, strict=True):
        inks, how = syn.write_classified(phrase, bias=args.bias, style=args.style, seed=seed)
        yield phrase, seed, [(ink.meta["text"], detokenize(rec.recognize(ink).text), cls)
                             for ink, cls in zip(inks, how, strict=True)]


def _written_via_cli(args, k: int, phrases: list[str], seeds: list[int]):
    """The same, the way a user does it: `handwriting synthesize --text-file` writes one SVG
    per phrase (wrapping as it does), `handwriting recognize` reads the files back; one
    reading per file, failure classes unknown."""
    import os
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
        cli += ["--style", args.style] if args.style else []
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

    from handwriting.metrics import ErrorCounts
    from handwriting.service import Recognizer, models_dir

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
    syn = None if via_cli else _synthesizer(args)
    rec = None if via_cli else Recognizer.from_checkpoint(args.recognizer)
    t0 = time.perf_counter()
    counts, samples, per_repeat, collapsed = ErrorCounts(), [], [], []
    first = ErrorCounts()  # the first word: what a style's priming hand-over can garble
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
              "first_word_cer": round(first.cer, 4),
              "bias": args.bias, "style": args.style, "seed": args.seed,
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


def cmd_bench(args) -> int:
    from handwriting import bench

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.what == "recognize":
        from handwriting.service import Recognizer

        recognizer = Recognizer.from_checkpoint(args.checkpoint)
        recognizer.warm_up()  # as the app's model process does before it reports ready
        result = bench.bench_recognize(recognizer)
    else:
        result = bench.bench_synthesize(_synthesizer(args))
    line = json.dumps(result)
    if args.out:
        Path(args.out).write_text(line + "\n")
    print(line if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def cmd_data_styles(args) -> int:
    """Build style presets from trainset lines only (never the test splits)."""
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.features import synthesis_offsets
    from handwriting.synthesis import Style, save_styles

    ds = load_iam_ondb(args.iam_ondb)
    by_id = {ln.id: ln for ln in ds.split("trainset")}
    styles = []
    for spec in args.lines:
        name, _, line_id = spec.partition("=")
        if line_id not in by_id:
            raise ValueError(f"{line_id!r} is not a usable trainset line")
        ln = by_id[line_id]
        from handwriting.alphabet import detokenize

        styles.append(Style(name, synthesis_offsets(ln.ink), detokenize(ln.text)))
    save_styles(styles, args.output)
    print(f"wrote {len(styles)} styles to {args.output}")
    return 0


def cmd_train_lm(args) -> int:
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.lm import build_default_resources

    ds = load_iam_ondb(args.iam_ondb)
    texts = [ln.text for ln in ds.split("trainset")]  # never the test splits (nor LOB)
    if getattr(args, "words", False):
        from handwriting.wordlm import build_default_word_lm

        paths = [build_default_word_lm(texts, args.output)]
    else:
        paths = build_default_resources(texts, args.output)
    for path in paths:
        print(f"wrote {path} ({Path(path).stat().st_size / 1e6:.2f} MB)")
    print(f"from {len(texts)} trainset lines + wordfreq English words")
    return 0
