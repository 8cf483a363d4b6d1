"""`handwriting adapt` (fine-tune the recognizer on a stored writer's samples) and
`handwriting evaluate adaptation` (the IAM-OnDB benchmark of the same adaptation code)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from handwriting.cli.common import add_db_arg, store


def _add_adapt_args(p: argparse.ArgumentParser) -> None:
    from handwriting.training.config import AdaptConfig

    d = AdaptConfig()
    p.add_argument("--steps", type=int, default=d.steps, help=f"(default {d.steps})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"(default {d.lr})")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--trainable", choices=("top", "lstm", "all"), default=d.trainable,
                   help=f"which layers learn (default {d.trainable})")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--model", dest="checkpoint", default=None,
                   help="base recognizer checkpoint (default: shipped)")
    p.add_argument("--decoder", choices=("greedy", "beam"), default=None,
                   help="decoder for the before/after figures (default: the model's default)")
    p.add_argument("--json", action="store_true")



def add_parser(sub) -> None:
    adapt = sub.add_parser("adapt", help="fine-tune the recognizer on a writer's samples")
    add_db_arg(adapt)
    adapt.add_argument("--writer", required=True)
    adapt.add_argument("--output", default=None,
                       help="adapted checkpoint (default: <db>.adapted/writer-<id>.pt)")
    adapt.add_argument("--progress-json", action="store_true",
                       help='one JSON line per stage and step on stderr, e.g. {"stage": '
                            '"adapting", "step": 3, "steps": 80, "loss": 1.2} (for the app)')
    _add_adapt_args(adapt)
    adapt.set_defaults(handler=cmd_adapt)


def add_evaluate_parser(esub) -> None:
    from handwriting.data.iam_ondb import SPLITS

    ev = esub.add_parser("adaptation", help="CER before/after adapting to each writer "
                                            "(IAM-OnDB forms)")
    ev.add_argument("--iam-ondb", metavar="PATH", default=None)
    ev.add_argument("--split", default="testset_v", choices=SPLITS)
    ev.add_argument("--forms", type=int, default=16)
    ev.add_argument("--adapt-lines", type=int, default=4)
    ev.add_argument("--progress-file", default=None,
                    help="append each form's JSON line here as it finishes")
    _add_adapt_args(ev)
    ev.set_defaults(handler=cmd_evaluate_adaptation)


def _config(args):
    from handwriting.training.config import AdaptConfig

    return AdaptConfig(steps=args.steps, lr=args.lr, batch_size=args.batch_size,
                       trainable=args.trainable, augment=not args.no_augment, seed=args.seed)



def cmd_adapt(args) -> int:
    from handwriting.adaptation import (
        Example,
        adapt,
        adapted_recognizer,
        error_counts,
        save_adapted,
    )
    from handwriting.appdata import adapted_model_path, default_db_path
    from handwriting.service import Recognizer

    config = _config(args)
    db_path = Path(args.samples_db or default_db_path())
    with store(args) as db:
        writer = db.writer(args.writer)
        examples = [Example(s.ink, s.text) for s in db.samples(writer.id)]
    if not examples:
        raise ValueError(f"writer {writer.name!r} has no samples in {db_path}")
    rec = Recognizer.from_checkpoint(args.checkpoint)
    decoder = args.decoder or rec.default_decoder
    show = sys.stderr.isatty() and not args.json and not args.progress_json

    def stage(name: str, **fields) -> None:
        if args.progress_json:  # flushed: the app reads it from a pipe as it comes
            print(json.dumps({"stage": name, **fields}), file=sys.stderr, flush=True)

    def progress(step, steps, loss):
        stage("adapting", step=step, steps=steps, loss=round(loss, 4))
        if show:
            print(f"\radapting: step {step}/{steps}, loss {loss:.3f}", end="", file=sys.stderr)

    stage("measuring", steps=config.steps)
    before = error_counts(rec, examples, decoder)
    result = adapt(rec, examples, config, progress=progress)
    if show:
        print(file=sys.stderr)
    stage("measuring", steps=config.steps)
    after = error_counts(adapted_recognizer(rec, result), examples, decoder)
    out = Path(args.output) if args.output else adapted_model_path(db_path, writer.id)
    stage("saving", steps=config.steps)
    card = {"writer": writer.name, "writer_id": writer.id, "samples_db": str(db_path),
            "decoder": decoder, "cer_before": round(before.cer, 5),
            "cer_after": round(after.cer, 5)}
    save_adapted(rec, result, out, card)
    summary = {**card, "model": str(out), "steps": result.steps_done,
               "samples": result.examples, "skipped": len(result.skipped),
               "seconds": round(result.seconds, 1), "cpu_seconds": round(result.cpu_seconds, 1)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"adapted to {writer.name}: {result.examples} samples, {result.steps_done} steps, "
              f"{summary['seconds']} s; CER on the samples {100 * before.cer:.2f} % -> "
              f"{100 * after.cer:.2f} % ({decoder}); wrote {out}")
    return 0


def cmd_evaluate_adaptation(args) -> int:
    import time

    from handwriting.adaptation import benchmark_forms
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.service import Recognizer

    if args.forms < 1 or args.adapt_lines < 1:
        raise ValueError(f"--forms {args.forms} and --adapt-lines {args.adapt_lines} must be >= 1")
    config = _config(args)
    rec = Recognizer.from_checkpoint(args.checkpoint)
    decoder = args.decoder or rec.default_decoder
    lines, _ = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty()).evaluation_lines(
        args.split)
    if not lines:
        raise ValueError(f"split {args.split!r} has no lines in {args.iam_ondb or 'the default path'}")

    def on_form(row):
        if args.progress_file:
            with open(args.progress_file, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        if not args.json:
            print(json.dumps(row), file=sys.stderr)

    t0 = time.perf_counter()
    result = benchmark_forms(rec, lines, args.forms, args.adapt_lines, config, decoder, on_form)
    result = {"split": args.split, "decoder": decoder, **result,
              "seconds": round(time.perf_counter() - t0, 1), "model": str(rec.path)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.split}, {result['forms']} forms, {result['test_lines']} test lines: CER "
              f"{100 * result['cer_before']:.2f} % -> {100 * result['cer_after']:.2f} % "
              f"({decoder}); {result['seconds_per_adaptation']} s per adaptation")
    return 0
