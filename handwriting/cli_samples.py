"""CLI verbs for the user's own handwriting: `handwriting samples add|list|export|import|
rename|delete`, `handwriting adapt` (fine-tune the recognizer on a writer) and
`handwriting evaluate adaptation` (the IAM-OnDB benchmark of the same adaptation code)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _add_db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples-db", metavar="PATH", default=None,
                   help="samples database (default: the app-data one, or $HANDWRITING_SAMPLES_DB)")


def _add_adapt_args(p: argparse.ArgumentParser) -> None:
    from handwriting.adaptation import AdaptConfig

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


def add_parsers(sub, evaluate_sub) -> None:
    """Add `samples`, `adapt` and `evaluate adaptation` to the main parser."""
    from handwriting.data.iam_ondb import SPLITS

    samples = sub.add_parser("samples", help="your own handwriting samples (SQLite store)")
    ssub = samples.add_subparsers(dest="action", required=True)
    add = ssub.add_parser("add", help="store an ink file as a writer's sample")
    _add_db_arg(add)
    add.add_argument("--writer", required=True, help="writer name (created if new)")
    add.add_argument("--text", required=True, help="what the ink says (what you meant to write)")
    add.add_argument("--device", default="file", help="mouse, tablet, ... (default: file)")
    add.add_argument("--no-recognize", action="store_true",
                     help="do not store the recognizer's reading (faster: no model is loaded)")
    add.add_argument("file", help="ink file (IAM XML, InkML, JSON)")
    lst = ssub.add_parser("list", help="writers, or one writer's samples")
    _add_db_arg(lst)
    lst.add_argument("--writer", default=None)
    lst.add_argument("--json", action="store_true")
    exp = ssub.add_parser("export", help="a writer's samples as a zip of InkML files")
    _add_db_arg(exp)
    exp.add_argument("--writer", required=True)
    exp.add_argument("output", help="zip file to write")
    imp = ssub.add_parser("import", help="a zip written by `samples export`, as a new writer")
    _add_db_arg(imp)
    imp.add_argument("zip")
    imp.add_argument("--name", default=None, help="writer name (default: the one in the zip)")
    ren = ssub.add_parser("rename", help="rename a writer")
    _add_db_arg(ren)
    ren.add_argument("--writer", required=True)
    ren.add_argument("new_name")
    dele = ssub.add_parser("delete", help="delete a writer and all their samples, or one sample")
    _add_db_arg(dele)
    dele.add_argument("--writer", default=None)
    dele.add_argument("--sample", type=int, default=None, help="sample id")

    adapt = sub.add_parser("adapt", help="fine-tune the recognizer on a writer's samples")
    _add_db_arg(adapt)
    adapt.add_argument("--writer", required=True)
    adapt.add_argument("--output", default=None,
                       help="adapted checkpoint (default: <db>.adapted/writer-<id>.pt)")
    adapt.add_argument("--progress-json", action="store_true",
                       help='one JSON line per stage and step on stderr, e.g. {"stage": '
                            '"adapting", "step": 3, "steps": 80, "loss": 1.2} (for the app)')
    _add_adapt_args(adapt)

    ev = evaluate_sub.add_parser("adaptation", help="CER before/after adapting to each writer "
                                                    "(IAM-OnDB forms)")
    ev.add_argument("--iam-ondb", metavar="PATH", default=None)
    ev.add_argument("--split", default="testset_v", choices=SPLITS)
    ev.add_argument("--forms", type=int, default=16)
    ev.add_argument("--adapt-lines", type=int, default=4)
    ev.add_argument("--progress-file", default=None,
                    help="append each form's JSON line here as it finishes")
    _add_adapt_args(ev)

    # `synthesize` itself is built in handwriting.cli; these two flags prime it with a
    # stored writer's sample (Graves §5.5), handled by `cmd_synthesize` below.
    synth = sub.choices["synthesize"]
    _add_db_arg(synth)
    synth.add_argument("--writer", default=None,
                       help="write in this stored writer's hand (primes with their sample that "
                            "covers most of the text's characters)")
    recog = sub.choices["recognize"]
    _add_db_arg(recog)
    recog.add_argument("--writer", default=None,
                       help="use this stored writer's adapted recognizer (`handwriting adapt`)")


def _config(args):
    from handwriting.adaptation import AdaptConfig

    return AdaptConfig(steps=args.steps, lr=args.lr, batch_size=args.batch_size,
                       trainable=args.trainable, augment=not args.no_augment, seed=args.seed)


def _store(args):
    from handwriting.samples import SampleStore, default_db_path

    return SampleStore(args.samples_db or default_db_path())


def cmd_samples(args) -> int:
    from handwriting.formats import read_ink

    if args.action == "add":
        ink = read_ink(args.file)  # read first: a bad file fails before anything is written
        if ink.is_empty:
            raise ValueError(f"{args.file}: ink is empty: nothing to store")
        if not args.text.strip():
            raise ValueError("--text is empty: say what the ink says")
        recognized = ""
        if not args.no_recognize:
            from handwriting.service import Recognizer

            recognized = Recognizer.from_checkpoint().recognize(ink).text
        with _store(args) as store:
            if args.writer not in {w.name for w in store.writers()}:
                store.add_writer(args.writer)
            sid = store.add_sample(args.writer, ink, args.text, recognized, args.device)
        print(json.dumps({"sample": sid, "writer": args.writer, "text": args.text,
                          "recognized": recognized}))
        return 0
    with _store(args) as store:
        if args.action == "list":
            if args.writer is None:
                rows = [{"id": w.id, "name": w.name, "samples": len(store.samples(w.id))}
                        for w in store.writers()]
            else:
                rows = [{"id": s.id, "text": s.text, "recognized": s.recognized,
                         "device": s.device, "points": s.ink.num_points, "created": s.created}
                        for s in store.samples(args.writer)]
            if args.json:
                print(json.dumps(rows))
            else:
                for r in rows:
                    print("\t".join(str(v) for v in r.values()))
        elif args.action == "export":
            n = store.export_writer(args.writer, args.output)
            print(f"wrote {args.output} ({n} samples)")
        elif args.action == "import":
            w = store.import_writer(args.zip, args.name)
            print(f"imported {w.name} ({len(store.samples(w.id))} samples)")
        elif args.action == "rename":
            store.rename_writer(args.writer, args.new_name)
        elif args.action == "delete":
            if (args.writer is None) == (args.sample is None):
                raise ValueError("give either --writer NAME or --sample ID")
            if args.sample is not None:
                store.delete_sample(args.sample)
            else:
                store.delete_writer(args.writer)
    return 0


def cmd_adapt(args) -> int:
    from handwriting.adaptation import (
        Example,
        adapt,
        adapted_recognizer,
        error_counts,
        save_adapted,
    )
    from handwriting.samples import adapted_model_path, default_db_path
    from handwriting.service import Recognizer

    config = _config(args)
    db_path = Path(args.samples_db or default_db_path())
    with _store(args) as store:
        writer = store.writer(args.writer)
        examples = [Example(s.ink, s.text) for s in store.samples(writer.id)]
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


def cmd_synthesize(args) -> int:
    """`handwriting synthesize`, primed with a stored writer's sample when --writer is given."""
    from handwriting import cli_synthesis

    if args.writer is not None:
        if args.style or args.prime:
            raise ValueError("give one of --writer, --style and --prime")
        from handwriting.samples import best_priming_sample
        from handwriting.service import Synthesizer

        with _store(args) as store:
            writer = store.writer(args.writer)
            sample = best_priming_sample(store.samples(writer.id), args.text or "")
        if sample is None:
            raise ValueError(f"writer {writer.name!r} has no samples with text to prime with")
        syn = Synthesizer.from_checkpoint(args.checkpoint)
        args.style = syn.style_from_ink(sample.ink, sample.text, name=writer.name)
    return cli_synthesis.cmd_synthesize(args)


def cmd_recognize(args) -> int:
    """`handwriting recognize`, with a stored writer's adapted model when --writer is given."""
    from handwriting import cli_pages
    from handwriting.samples import adapted_model_path, default_db_path

    if args.writer is not None:
        if args.checkpoint:
            raise ValueError("give either --writer or --model")
        db_path = Path(args.samples_db or default_db_path())
        with _store(args) as store:
            writer = store.writer(args.writer)
        path = adapted_model_path(db_path, writer.id)
        if not path.is_file():
            raise ValueError(f"writer {writer.name!r} has no adapted model ({path}): run "
                             f"`handwriting adapt --samples-db {db_path} --writer NAME` first")
        args.checkpoint = str(path)
    return cli_pages.cmd_recognize(args)


HANDLERS = {
    ("recognize", None): cmd_recognize,
    ("synthesize", None): cmd_synthesize,
    ("samples", None): cmd_samples,
    ("adapt", None): cmd_adapt,
    ("evaluate", "adaptation"): cmd_evaluate_adaptation,
}
