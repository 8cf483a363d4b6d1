"""`handwriting samples add|list|export|import|rename|delete`: the user's own handwriting in
the samples database (`handwriting.samples`)."""

from __future__ import annotations

import json

from handwriting.cli.common import add_db_arg, store


def add_parser(sub) -> None:
    samples = sub.add_parser("samples", help="your own handwriting samples (SQLite store)")
    ssub = samples.add_subparsers(dest="action", required=True)
    add = ssub.add_parser("add", help="store an ink file as a writer's sample")
    add_db_arg(add)
    add.add_argument("--writer", required=True, help="writer name (created if new)")
    add.add_argument("--text", required=True, help="what the ink says (what you meant to write)")
    add.add_argument("--device", default="file", help="mouse, tablet, ... (default: file)")
    add.add_argument("--no-recognize", action="store_true",
                     help="do not store the recognizer's reading (faster: no model is loaded)")
    add.add_argument("file", help="ink file (IAM XML, InkML, JSON)")
    lst = ssub.add_parser("list", help="writers, or one writer's samples")
    add_db_arg(lst)
    lst.add_argument("--writer", default=None)
    lst.add_argument("--json", action="store_true")
    exp = ssub.add_parser("export", help="a writer's samples as a zip of InkML files")
    add_db_arg(exp)
    exp.add_argument("--writer", required=True)
    exp.add_argument("output", help="zip file to write")
    imp = ssub.add_parser("import", help="a zip written by `samples export`, as a new writer")
    add_db_arg(imp)
    imp.add_argument("zip")
    imp.add_argument("--name", default=None, help="writer name (default: the one in the zip)")
    ren = ssub.add_parser("rename", help="rename a writer")
    add_db_arg(ren)
    ren.add_argument("--writer", required=True)
    ren.add_argument("new_name")
    dele = ssub.add_parser("delete", help="delete a writer and all their samples, or one sample")
    add_db_arg(dele)
    dele.add_argument("--writer", default=None)
    dele.add_argument("--sample", type=int, default=None, help="sample id")
    for action in ssub.choices.values():  # one handler for every action
        action.set_defaults(handler=cmd_samples)


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
        with store(args) as db:
            if args.writer not in {w.name for w in db.writers()}:
                db.add_writer(args.writer)
            sid = db.add_sample(args.writer, ink, args.text, recognized, args.device)
        print(json.dumps({"sample": sid, "writer": args.writer, "text": args.text,
                          "recognized": recognized}))
        return 0
    with store(args) as db:
        if args.action == "list":
            if args.writer is None:
                rows = [{"id": w.id, "name": w.name, "samples": len(db.samples(w.id))}
                        for w in db.writers()]
            else:
                rows = [{"id": s.id, "text": s.text, "recognized": s.recognized,
                         "device": s.device, "points": s.ink.num_points, "created": s.created}
                        for s in db.samples(args.writer)]
            if args.json:
                print(json.dumps(rows))
            else:
                for r in rows:
                    print("\t".join(str(v) for v in r.values()))
        elif args.action == "export":
            n = db.export_writer(args.writer, args.output)
            print(f"wrote {args.output} ({n} samples)")
        elif args.action == "import":
            w = db.import_writer(args.zip, args.name)
            print(f"imported {w.name} ({len(db.samples(w.id))} samples)")
        elif args.action == "rename":
            db.rename_writer(args.writer, args.new_name)
        elif args.action == "delete":
            if (args.writer is None) == (args.sample is None):
                raise ValueError("give either --writer NAME or --sample ID")
            if args.sample is not None:
                db.delete_sample(args.sample)
            else:
                db.delete_writer(args.writer)
    return 0
