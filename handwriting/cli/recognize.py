"""`handwriting recognize FILE...`: each file read as a page, as the app reads it
(`pages.read_page`): one line of output per line of writing; `--writer` uses a stored
writer's adapted recognizer."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from handwriting.cli.common import add_db_arg, store
from handwriting.formats.errors import InkFormatWarning


def add_parser(sub) -> None:
    recog = sub.add_parser("recognize", help="recognize ink files (IAM XML, InkML, JSON)")
    recog.add_argument("files", nargs="+")
    recog.add_argument("--model", dest="checkpoint", default=None)
    recog.add_argument("--decoder", choices=("greedy", "beam"), default=None)
    recog.add_argument("--json", action="store_true")
    add_db_arg(recog)
    recog.add_argument("--writer", default=None,
                       help="use this stored writer's adapted recognizer (`handwriting adapt`)")
    recog.set_defaults(handler=cmd_recognize)


def cmd_recognize(args) -> int:
    """`handwriting recognize`, with a stored writer's adapted model when --writer is given."""
    from handwriting.appdata import adapted_model_path, default_db_path

    if args.writer is not None:
        if args.checkpoint:
            raise ValueError("give either --writer or --model")
        db_path = Path(args.samples_db or default_db_path())
        with store(args) as db:
            writer = db.writer(args.writer)
        path = adapted_model_path(db_path, writer.id)
        if not path.is_file():
            raise ValueError(f"writer {writer.name!r} has no adapted model ({path}): run "
                             f"`handwriting adapt --samples-db {db_path} --writer NAME` first")
        args.checkpoint = str(path)
    return _read_files(args)


def _read_files(args) -> int:
    """Each file is read as a page (`pages.read_page`, the app's reader): one line of output
    per line of writing, or per file `{file, text, nbest, lines: [{text, nbest, strokes}]}`."""
    from handwriting.formats import read_ink
    from handwriting.pages import read_page, reading_json
    from handwriting.service import Recognizer

    with warnings.catch_warnings(record=True) as caught:  # read as it is, said in one line
        warnings.simplefilter("always", InkFormatWarning)
        inks = [(f, read_ink(f)) for f in args.files]  # all first: fail before the model loads
    for w in caught:
        print(f"handwriting: warning: {w.message}", file=sys.stderr)
    for f, ink in inks:
        if ink.is_empty:
            raise ValueError(f"{f}: ink is empty: nothing to recognize")
    rec = Recognizer.from_checkpoint(args.checkpoint)
    results = [reading_json(f, read_page(rec, ink, args.decoder)) for f, ink in inks]
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            for line in r["lines"]:
                print(f"{r['file']}\t{line['text']}")
    return 0
