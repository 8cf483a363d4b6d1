"""What the CLI's verb modules share: the one-line error reporting's exception list, the
dataset and samples-database flags, and the checks every command makes before it works."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from handwriting.checkpoint import CheckpointError
from handwriting.data.iam_ondb import DatasetError
from handwriting.formats import InkFormatError
from handwriting.ink import InkError

# OSError (FileNotFoundError included) is reported apart, as `PATH: reason`.
USER_ERRORS = (DatasetError, InkFormatError, InkError, CheckpointError, ValueError)


def add_data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iam-ondb", metavar="PATH", default=None,
                   help="IAM-OnDB folder (default: ../shared/data/iam-ondb or $HANDWRITING_IAM_ONDB)")


def add_db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples-db", metavar="PATH", default=None,
                   help="samples database (default: the app-data one, or $HANDWRITING_SAMPLES_DB)")


def store(args):
    """The samples database `--samples-db` names (default: the app-data one)."""
    from handwriting.appdata import default_db_path
    from handwriting.samples import SampleStore

    return SampleStore(args.samples_db or default_db_path())


def synthesizer(args):
    """The synthesizer `--model` names, choosing among `--candidates` with `--chooser`."""
    from handwriting.selfcheck import DEFAULT_CANDIDATES
    from handwriting.service import Recognizer, Synthesizer

    chooser = getattr(args, "chooser", None)
    reader = Recognizer.from_checkpoint(chooser, use_lm=False) if chooser else None
    k = getattr(args, "candidates", None)
    return Synthesizer.from_checkpoint(getattr(args, "checkpoint", None), reader=reader,
                                       candidates=DEFAULT_CANDIDATES if k is None else k,
                                       match_hand=not getattr(args, "no_match_hand", False))


def add_match_hand_arg(p) -> None:
    """`--no-match-hand`: ink primed with a writer's ink keeps the model's slant and width."""
    p.add_argument("--no-match-hand", action="store_true",
                   help="with --prime or --writer: leave the written ink's slant and letter "
                        "width as priming makes them, not matched to the writer's lines")


def os_error_line(exc: OSError) -> str:
    """`PATH: reason` for an OS error, as one line (`[Errno 28] ...` spelled out)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    name = exc.filename if exc.filename is not None else ""
    return f"{name}: {reason}" if name else reason


def check_writable_folder(folder: Path) -> None:
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
