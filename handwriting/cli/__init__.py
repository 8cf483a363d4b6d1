"""The `handwriting` command line: one module per verb, each with its parser (`add_parser`)
and its handler (set as the parser's `handler` default); this module builds the parser from
them in the order `--help` lists the verbs and runs the chosen handler, turning bad input into
one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from handwriting.cli import (
    adapt,
    bench,
    data,
    evaluate,
    explain,
    export,
    recognize,
    samples,
    synthesize,
    train,
    tune,
)
from handwriting.cli.common import USER_ERRORS, os_error_line

DESCRIPTION = ("Read handwriting from ink files (IAM-OnDB XML, InkML, JSON, SVG) and write text "
               "as handwriting (SVG, PNG, InkML, JSON); train, evaluate and look inside the "
               "models. The app is `handwriting-app`.")

VERBS = (data, train, export, evaluate, synthesize, bench, tune, explain, recognize, samples,
         adapt)  # in `--help` order


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handwriting", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Overflow in float32 pen arithmetic on hostile files is handled where it matters
        # (finite checks, bounded sizes); numpy's warnings would only reach users as noise.
        with np.errstate(over="ignore", invalid="ignore"):
            return args.handler(args)
    except USER_ERRORS as exc:
        print(f"handwriting: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only file system, permission, a folder as -o
        print(f"handwriting: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("handwriting: interrupted", file=sys.stderr)
        return 130
