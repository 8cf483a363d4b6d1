"""Thin argparse entry points: `handwriting data|train|evaluate|recognize|export ...`.

Every command validates its input, prints one line and exits with status 2 on bad input
(no traceback); the work itself lives in the library modules.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

from handwriting import cli_pages, cli_samples, cli_style, cli_synthesis, explain
from handwriting.checkpoint import CheckpointError, config_from
from handwriting.data.iam_ondb import DatasetError
from handwriting.formats.errors import InkFormatError
from handwriting.ink import InkError

DESCRIPTION = ("Read handwriting from ink files (IAM-OnDB XML, InkML, JSON, SVG) and write text "
               "as handwriting (SVG, PNG, InkML, JSON); train, evaluate and look inside the "
               "models. The app is `handwriting-app`.")

# OSError (FileNotFoundError included) is reported apart, as `PATH: reason`.
USER_ERRORS = (DatasetError, InkFormatError, InkError, CheckpointError, ValueError)


def _add_data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iam-ondb", metavar="PATH", default=None,
                   help="IAM-OnDB folder (default: ../shared/data/iam-ondb or $HANDWRITING_IAM_ONDB)")


def _add_train_args(p: argparse.ArgumentParser, out_default: str) -> None:
    from handwriting.training.loop import TrainConfig

    _add_data_arg(p)
    p.add_argument("--out", default=out_default, help="run folder for checkpoints and log.jsonl")
    p.add_argument("--resume", action="store_true", help="continue exactly from OUT/last.pt")
    p.add_argument("--init-from", metavar="CHECKPOINT",
                   help="start from these weights (e.g. the shipped model)")
    for f in fields(TrainConfig):
        if f.name in ("out",):
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool",):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            typ = {"int": int, "float": float, "str": str}.get(
                f.type.split(" | ")[0].replace("int | None", "int"), str)
            p.add_argument(flag, type=typ, default=f.default, help=f"(default {f.default})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handwriting", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="dataset preparation and statistics")
    dsub = data.add_subparsers(dest="action", required=True)
    summ = dsub.add_parser("summary", help="per-split line, point and character counts")
    _add_data_arg(summ)
    summ.add_argument("--json", action="store_true", help="print JSON")
    summ.add_argument("--no-cache", action="store_true", help="re-read the raw files")

    train = sub.add_parser("train", help="train a model")
    tsub = train.add_subparsers(dest="model", required=True)
    rec = tsub.add_parser("recognizer", help="BiLSTM-CTC recognizer")
    _add_train_args(rec, "runs/rec")
    rec.add_argument("--hidden", type=int, default=128)
    rec.add_argument("--layers", type=int, default=3)
    rec.add_argument("--conv-layers", type=int, default=2)
    rec.add_argument("--dropout", type=float, default=0.2)
    rec.add_argument("--no-augment", action="store_true")

    syn = tsub.add_parser("synthesizer", help="Graves (2013) synthesis network")
    _add_train_args(syn, "runs/syn")
    syn.add_argument("--hidden", type=int, default=256)
    syn.add_argument("--layers", type=int, default=3)
    syn.add_argument("--mixtures", type=int, default=20)
    syn.add_argument("--window-gaussians", type=int, default=10)

    exp = sub.add_parser("export", help="export a checkpoint's weights (fp16) for shipping")
    exp.add_argument("checkpoint")
    exp.add_argument("output")
    exp.add_argument("--fp32", action="store_true", help="keep fp32 weights")

    ev = sub.add_parser("evaluate", help="measure a model on a split")
    esub = ev.add_subparsers(dest="model", required=True)
    erec = esub.add_parser("recognizer", help="CER/WER of the recognizer")
    _add_data_arg(erec)
    erec.add_argument("--split", default="testset_v")
    erec.add_argument("--decoder", choices=("greedy", "beam"), default=None)
    erec.add_argument("--model", dest="checkpoint", default=None, help="checkpoint (default: shipped)")
    erec.add_argument("--json", action="store_true")

    eleg = esub.add_parser("legibility", help="synthesize phrases, read them back, report CER")
    eleg.add_argument("--model", dest="checkpoint", default=None, help="synthesizer checkpoint")
    eleg.add_argument("--recognizer", default=None, help="recognizer checkpoint")
    eleg.add_argument("--phrases", default=None,
                      help="phrase file, or a shipped list: 'shipped' (default) or 'digits' "
                           "(digits and punctuation)")
    eleg.add_argument("--bias", type=float, default=0.75)
    eleg.add_argument("--style", default=None)
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
    esyn = esub.add_parser("synthesizer", help="NLL of the synthesizer on a split")
    _add_data_arg(esyn)
    esyn.add_argument("--split", default="testset_v")
    esyn.add_argument("--model", dest="checkpoint", default=None)
    esyn.add_argument("--json", action="store_true")
    cli_pages.add_parser(esub)

    synth = sub.add_parser("synthesize", help="write text as handwriting (SVG, InkML, JSON, PNG)")
    synth.add_argument("text", nargs="?", help="the text to write")
    synth.add_argument("-o", "--output", help="output file: .svg, .inkml, .json or .png")
    synth.add_argument("--text-file", help="batch mode: one output file per input line")
    synth.add_argument("--out-dir", help="batch mode: folder for 0001.ext, 0002.ext, ...")
    synth.add_argument("--format", choices=("svg", "inkml", "json", "png"), default="svg")
    synth.add_argument("--bias", type=float, default=0.75, help="neatness (Graves §5.4)")
    synth.add_argument("--style", help="a shipped style preset name")
    synth.add_argument("--prime", help="an ink file to use as the style (Graves §5.5)")
    synth.add_argument("--prime-text", help="the text written in --prime")
    synth.add_argument("--seed", type=int, default=None)
    synth.add_argument("--model", dest="checkpoint", default=None)
    synth.add_argument("--stroke-width", type=float, default=None, metavar="MM",
                       help="pen width of SVG and PNG output in millimetres (default 0.4); "
                            "SVGs get their width and height in millimetres")
    synth.add_argument("--dpi", type=float, default=None,
                       help="PNG resolution (default 300; a writing height is 6 mm)")
    synth.add_argument("--png-height", type=int, default=None, metavar="PX",
                       help="PNG height in pixels instead of --dpi")
    synth.add_argument("--candidates", type=int, default=None,
                       help="write K candidates of each line, keep the one the recognizer "
                            "reads best (default: measured, see README; 1 = off)")

    bench = sub.add_parser("bench", help="latency and throughput benchmarks (JSON)")
    bench.add_argument("what", choices=("recognize", "synthesize"))
    bench.add_argument("--model", dest="checkpoint", default=None)
    bench.add_argument("--threads", type=int, default=None)
    bench.add_argument("--out", default=None, help="also write the JSON line to this file")
    bench.add_argument("--json", action="store_true")

    styles = dsub.add_parser("styles", help="build style presets from trainset lines")
    _add_data_arg(styles)
    styles.add_argument("output", help="e.g. models/styles.npz")
    styles.add_argument("lines", nargs="+", metavar="NAME=LINE_ID")

    lm = tsub.add_parser("lm", help="character n-gram LM and lexicon (trainset text + wordfreq)")
    _add_data_arg(lm)
    lm.add_argument("--output", default="handwriting/resources", help="folder for both files")
    lm.add_argument("--words", action="store_true",
                    help="build the word bigram LM instead (trainset text + wordfreq)")

    tune = sub.add_parser("tune", help="tune the beam search's LM weight on a validation split")
    tune.add_argument("what", choices=("decoder",))
    _add_data_arg(tune)
    tune.add_argument("--model", dest="checkpoint", required=True)
    tune.add_argument("--split", default="testset_v", choices=("trainset", "testset_v"))
    tune.add_argument("--max-lines", type=int, default=400)
    tune.add_argument("--write", action="store_true", help="store the best settings in the checkpoint")

    explain.add_parser(sub)

    recog = sub.add_parser("recognize", help="recognize ink files (IAM XML, InkML, JSON)")
    recog.add_argument("files", nargs="+")
    recog.add_argument("--model", dest="checkpoint", default=None)
    recog.add_argument("--decoder", choices=("greedy", "beam"), default=None)
    recog.add_argument("--json", action="store_true")
    cli_samples.add_parsers(sub, esub)  # also adds --samples-db/--writer to the verbs above
    cli_style.add_parsers(sub, esub)
    return parser


# --------------------------------------------------------------------------- commands


def cmd_data_summary(args) -> int:
    import time

    from handwriting.data.iam_ondb import load_iam_ondb

    t0 = time.perf_counter()
    ds = load_iam_ondb(args.iam_ondb, cache=not args.no_cache, progress=sys.stderr.isatty())
    summary = ds.summary()
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"IAM-OnDB (source {summary['source_hash']}, {summary['seconds']} s)")
    print(f"{'split':<10} {'forms':>6} {'lines':>6} {'usable':>7} {'points':>10} {'chars':>8}  excluded")
    for name, s in summary["splits"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in s["excluded_reasons"].items()) or "-"
        print(f"{name:<10} {s['forms']:>6} {s['lines']:>6} {s['usable']:>7} {s['points']:>10} "
              f"{s['characters']:>8}  {reasons}")
    return 0


def _final(state) -> dict:
    best = state.best_metric if state.best_metric != float("inf") else None
    return {"step": state.step, "epoch": state.epoch, "best": best, **state.best_metrics}


def _train_config(args, resumed: dict | None = None):
    """The run's TrainConfig from the flags; when resuming, the checkpoint's own config with
    only the flags the user actually gave on this command line on top (an exact resume must
    not pick up, say, the default batch size instead of the one the run started with)."""
    from handwriting.training.loop import TrainConfig

    kw = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if resumed:
        defaults = {f.name: f.default for f in fields(TrainConfig)}
        kw = {**{k: v for k, v in resumed.items() if k in defaults},
              **{k: v for k, v in kw.items() if v != defaults[k]}}
    kw["out"] = args.out
    return TrainConfig(**kw)


def _train(args, kind: str, make_task) -> int:
    """Shared by both `train` commands: refuse to overwrite a run, load the data, take the
    model config (and normalization) from the checkpoint when resuming or initializing,
    build the task with `make_task(train, val, ckpt_or_None, data_info)`, and fit."""
    import torch

    from handwriting.checkpoint import load_checkpoint
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.training.loop import Trainer, init_from

    out = Path(args.out)
    if (out / "last.pt").exists() and not args.resume:
        raise ValueError(f"{out}/last.pt exists: pass --resume to continue it, or another --out")
    _check_writable_folder(out)
    ckpt = None
    if args.resume or args.init_from:
        source = out / "last.pt" if args.resume else Path(args.init_from)
        ckpt = load_checkpoint(source, kind)
        ckpt["source_path"] = str(source)  # for config errors that name the file
    cfg = _train_config(args, ckpt.get("train_config") if args.resume and ckpt else None)
    ds = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty())
    train = ds.split("trainset")[: cfg.max_train_lines]
    val = ds.split("testset_v")[: cfg.max_val_lines]
    data_info = {"dataset": "IAM-OnDB", "source_hash": ds.source_hash, "train_split": "trainset",
                 "train_lines": len(train), "val_split": "testset_v", "val_lines": len(val)}
    torch.manual_seed(cfg.seed)  # the initial weights follow --seed too
    task = make_task(train, val, ckpt, data_info)
    trainer = Trainer(task, cfg)
    try:
        if args.resume:
            trainer.resume(out / "last.pt")
        elif args.init_from:
            init_from(task.model, args.init_from, kind)
        print(json.dumps(_final(trainer.fit())))
    finally:
        trainer.close()
    return 0


def cmd_train_recognizer(args) -> int:
    from handwriting.data.datasets import Augment
    from handwriting.features import Standardizer
    from handwriting.models.configs import RecognizerConfig
    from handwriting.training.recognizer import RecognizerTask

    def make_task(train, val, ckpt, data_info):
        model_cfg = RecognizerConfig(hidden=args.hidden, layers=args.layers,
                                     conv_layers=args.conv_layers, dropout=args.dropout)
        standardizer = None
        if ckpt is not None:
            model_cfg = config_from(ckpt["source_path"], RecognizerConfig, ckpt["model_config"])
            standardizer = Standardizer.from_dict(ckpt["standardizer"])
        return RecognizerTask(train, val, model_cfg,
                              augment=None if args.no_augment else Augment(), seed=args.seed,
                              standardizer=standardizer, data_info=data_info)

    return _train(args, "recognizer", make_task)


def cmd_train_synthesizer(args) -> int:
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.training.synthesizer import SynthesizerTask

    def make_task(train, val, ckpt, data_info):
        model_cfg = SynthesizerConfig(hidden=args.hidden, layers=args.layers,
                                      mixtures=args.mixtures,
                                      window_gaussians=args.window_gaussians)
        offset_scale = None
        if ckpt is not None:
            model_cfg = config_from(ckpt["source_path"], SynthesizerConfig,
                                    ckpt["model_config"])
            offset_scale = ckpt["offset_scale"]
        return SynthesizerTask(train, val, model_cfg, offset_scale=offset_scale,
                               data_info=data_info)

    return _train(args, "synthesizer", make_task)


def cmd_evaluate_recognizer(args) -> int:
    import time

    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.metrics import ErrorCounts
    from handwriting.service import Recognizer

    rec = Recognizer.from_checkpoint(args.checkpoint)
    decoder = args.decoder or rec.default_decoder
    ds = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty())
    lines, unscored = ds.evaluation_lines(args.split)
    if not lines:
        raise ValueError(f"split {args.split!r} has no lines in {args.iam_ondb or 'the default path'}")
    t0 = time.perf_counter()
    counts = ErrorCounts()
    order = sorted(range(len(lines)), key=lambda i: lines[i].ink.num_points)
    for i in range(0, len(order), 32):
        chunk = [lines[j] for j in order[i:i + 32]]
        for ln, lp in zip(chunk, rec.log_posteriors([ln.ink for ln in chunk]), strict=True):
            counts.add(ln.text, rec.decode(lp, decoder)[0].text)
    reasons: dict[str, int] = {}
    for e in unscored:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    result = {"split": args.split, "lines": counts.lines, "cer": round(counts.cer, 5),
              "wer": round(counts.wer, 5), "decoder": decoder,
              "seconds": round(time.perf_counter() - t0, 2),
              "unscored_lines": len(unscored), "unscored_reasons": reasons,
              "model": str(rec.path)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.split}: CER {100 * counts.cer:.2f} %  WER {100 * counts.wer:.2f} %  "
              f"({counts.lines} lines, {decoder}, {result['seconds']} s)")
    return 0


def cmd_tune_decoder(args) -> int:
    """Grid search of LM weight and insertion bonus on validation lines (never test lines)."""
    import itertools

    from handwriting.checkpoint import load_checkpoint, save_checkpoint
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.metrics import ErrorCounts
    from handwriting.service import DecoderSettings, Recognizer

    rec = Recognizer.from_checkpoint(args.checkpoint, use_word_lm=True)
    lines = load_iam_ondb(args.iam_ondb).split(args.split)
    lines = lines[:: max(1, len(lines) // args.max_lines)][: args.max_lines]
    posteriors = []
    for i in range(0, len(lines), 32):
        posteriors += rec.log_posteriors([ln.ink for ln in lines[i:i + 32]])
    results = []

    def trial(s: DecoderSettings) -> None:
        counts = ErrorCounts()
        for ln, lp in zip(lines, posteriors, strict=True):
            counts.add(ln.text, rec.decode(lp, "beam", settings=s)[0].text)
        results.append((counts.cer, s))
        print(json.dumps({"cer": round(counts.cer, 5), "wer": round(counts.wer, 5),
                          **s.__dict__}), file=sys.stderr)

    # character LM first, then the word LM's terms around the best character-LM setting
    for width, lw, ib in itertools.product((8,), (0.3, 0.5, 0.7, 1.0), (0.0, 0.5, 1.0, 1.5, 2.0)):
        trial(DecoderSettings(width, lw, ib))
    char_best = min(results, key=lambda r: r[0])[1]
    for ww, oov, wb in itertools.product((0.1, 0.2, 0.3), (-3.0, -5.0, -8.0), (0.0, 1.0, 2.0)):
        trial(DecoderSettings(char_best.beam_width, char_best.lm_weight,
                              char_best.insertion_bonus, ww, oov, wb))
    greedy = ErrorCounts()
    for ln, lp in zip(lines, posteriors, strict=True):
        greedy.add(ln.text, rec.decode(lp, "greedy")[0].text)
    cer, best = min(results, key=lambda r: r[0])
    print(json.dumps({"split": args.split, "lines": len(lines), "greedy_cer": round(greedy.cer, 5),
                      "best_cer": round(cer, 5), "best": best.__dict__}))
    if args.write:
        ckpt = load_checkpoint(args.checkpoint, "recognizer")
        ckpt["decoder"] = {**best.__dict__, "tuned_on": f"{args.split}, {len(lines)} lines"}
        save_checkpoint({k: v for k, v in ckpt.items() if k != "format_version"}, args.checkpoint)
    return 0


def cmd_export(args) -> int:
    from handwriting.checkpoint import export_weights, load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    export_weights(ckpt, args.output, half=not args.fp32)
    print(f"wrote {args.output} ({Path(args.output).stat().st_size / 1e6:.1f} MB)")
    return 0


def os_error_line(exc: OSError) -> str:
    """`PATH: reason` for an OS error, as one line (`[Errno 28] ...` spelled out)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {reason}" if name else reason


def _check_writable_folder(folder: Path) -> None:
    """Refuse a run folder that cannot be written before minutes of data loading; creates
    nothing (the folder itself is made when the first checkpoint is written)."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"--out {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"--out {folder}: {probe} is not writable")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        ("data", "summary"): cmd_data_summary,
        ("train", "recognizer"): cmd_train_recognizer,
        ("train", "synthesizer"): cmd_train_synthesizer,
        ("export", None): cmd_export,
        ("evaluate", "recognizer"): cmd_evaluate_recognizer,
        ("recognize", None): cli_pages.cmd_recognize,
        ("tune", None): cmd_tune_decoder,
        ("explain", None): explain.cmd_explain,
        ("synthesize", None): cli_synthesis.cmd_synthesize,
        ("evaluate", "synthesizer"): cli_synthesis.cmd_evaluate_synthesizer,
        ("evaluate", "legibility"): cli_synthesis.cmd_evaluate_legibility,
        ("evaluate", "pages"): cli_pages.cmd_evaluate_pages,
        ("bench", None): cli_synthesis.cmd_bench,
        ("data", "styles"): cli_synthesis.cmd_data_styles,
        ("train", "lm"): cli_synthesis.cmd_train_lm,
        **cli_samples.HANDLERS,
        **cli_style.HANDLERS,
    }
    key = (args.command, getattr(args, "action", None) or getattr(args, "model", None))
    handler = handlers.get(key) or handlers.get((args.command, None))
    if handler is None:
        print(f"handwriting: '{' '.join(k for k in key if k)}' is not implemented yet",
              file=sys.stderr)
        return 2
    try:
        # Overflow in float32 pen arithmetic on hostile files is handled where it matters
        # (finite checks, bounded sizes); numpy's warnings would only reach users as noise.
        with np.errstate(over="ignore", invalid="ignore"):
            return handler(args)
    except USER_ERRORS as exc:
        print(f"handwriting: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only file system, permission, a folder as -o
        print(f"handwriting: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("handwriting: interrupted", file=sys.stderr)
        return 130
