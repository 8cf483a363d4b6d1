"""`handwriting data summary|styles`: the dataset's per-split counts, and style presets built
from trainset lines."""

from __future__ import annotations

import json
import sys

from handwriting.cli.common import add_data_arg


def add_parser(sub) -> None:
    data = sub.add_parser("data", help="dataset preparation and statistics")
    dsub = data.add_subparsers(dest="action", required=True)
    summ = dsub.add_parser("summary", help="per-split line, point and character counts")
    add_data_arg(summ)
    summ.add_argument("--json", action="store_true", help="print JSON")
    summ.add_argument("--no-cache", action="store_true", help="re-read the raw files")
    summ.set_defaults(handler=cmd_data_summary)
    styles = dsub.add_parser("styles", help="build style presets from trainset lines")
    add_data_arg(styles)
    styles.add_argument("output", help="e.g. models/styles.npz")
    styles.add_argument("lines", nargs="+", metavar="NAME=LINE_ID")
    styles.set_defaults(handler=cmd_data_styles)


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



def cmd_data_styles(args) -> int:
    """Build style presets from trainset lines only (never the test splits)."""
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.features import synthesis_offsets
    from handwriting.presets import save_styles
    from handwriting.results import Style

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

