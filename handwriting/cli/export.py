"""`handwriting export CHECKPOINT OUTPUT`: a checkpoint's weights (fp16) for shipping."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    exp = sub.add_parser("export", help="export a checkpoint's weights (fp16) for shipping")
    exp.add_argument("checkpoint")
    exp.add_argument("output")
    exp.add_argument("--fp32", action="store_true", help="keep fp32 weights")
    exp.set_defaults(handler=cmd_export)


def cmd_export(args) -> int:
    from handwriting.checkpoint import export_weights, load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    export_weights(ckpt, args.output, half=not args.fp32)
    print(f"wrote {args.output} ({Path(args.output).stat().st_size / 1e6:.1f} MB)")
    return 0
