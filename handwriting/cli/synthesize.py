"""`handwriting synthesize TEXT -o FILE` (or `--text-file` with `--out-dir`): text written as
handwriting in SVG, InkML, JSON or PNG, in a preset style, a primed ink file's, or a stored
writer's."""

from __future__ import annotations

import sys
from pathlib import Path

from handwriting.cli.common import add_db_arg, add_match_hand_arg, store, synthesizer

FORMATS = ("svg", "inkml", "json", "png")


def add_parser(sub) -> None:
    synth = sub.add_parser("synthesize", help="write text as handwriting (SVG, InkML, JSON, PNG)")
    synth.add_argument("text", nargs="?", help="the text to write")
    synth.add_argument("-o", "--output", help="output file: .svg, .inkml, .json or .png")
    synth.add_argument("--text-file", help="batch mode: one output file per input line")
    synth.add_argument("--out-dir", help="batch mode: folder for 0001.ext, 0002.ext, ...")
    synth.add_argument("--format", choices=("svg", "inkml", "json", "png"), default="svg")
    synth.add_argument("--bias", type=float, default=0.75, help="neatness (Graves §5.4)")
    synth.add_argument("--style", help="a shipped style preset name (default: tidy, the most "
                                        "legible; 'none': the model's own hand, a new one "
                                        "each line)")
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
    add_db_arg(synth)
    synth.add_argument("--writer", default=None,
                       help="write in this stored writer's hand (primes with their sample that "
                            "covers most of the text's characters)")
    add_match_hand_arg(synth)
    synth.set_defaults(handler=cmd_synthesize)


def cmd_synthesize(args) -> int:
    """`handwriting synthesize`: in a preset style, a primed ink file's, or a stored writer's."""
    if (args.text is None) == (args.text_file is None):
        raise ValueError("give either TEXT or --text-file")
    if args.writer is not None and (args.style or args.prime):
        raise ValueError("give one of --writer, --style and --prime")
    syn = synthesizer(args)
    return _write_text(args, syn, _style(syn, args))


def _style(syn, args):
    """The style the flags ask for, built with `syn` (its reader aligns a primed ink)."""
    if getattr(args, "writer", None) is not None:
        from handwriting.samples import writer_prime

        with store(args) as db:
            writer = db.writer(args.writer)
            prime = writer_prime(db.samples(writer.id), args.text or "")
        if prime is None:
            raise ValueError(f"writer {writer.name!r} has no samples with text to prime with")
        return syn.style_from_ink(prime.ink, prime.text, name=writer.name,
                                  hand_from=prime.hand_from)
    if getattr(args, "prime", None):
        from handwriting.formats import read_ink

        if not args.prime_text:
            raise ValueError("--prime needs --prime-text, the text written in the priming ink")
        return syn.style_from_ink(read_ink(args.prime), args.prime_text, name=Path(args.prime).stem)
    return syn.style(args.style or syn.default_style)


def _write(inks, path: Path, args=None) -> None:
    from handwriting.exports import picture_options
    from handwriting.formats import write_ink
    from handwriting.geometry import join_lines

    ink = join_lines(inks)
    write_ink(ink, path, **picture_options(
        ink, path.suffix, getattr(args, "stroke_width", None), dpi=getattr(args, "dpi", None),
        height_px=getattr(args, "png_height", None)))


def _write_text(args, syn, style) -> int:
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
