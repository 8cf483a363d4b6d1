"""Pick a reader or writer by file extension."""

from __future__ import annotations

from pathlib import Path

from handwriting.formats.errors import InkFormatError
from handwriting.ink import Ink


def read_ink(path: str | Path) -> Ink:
    """Read IAM-OnDB XML (.xml), InkML (.inkml) or JSON ink (.json)."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".xml":
        from handwriting.formats.iam_ondb import read_iam_xml

        return read_iam_xml(path)
    raise InkFormatError(path, f"unsupported ink file type {ext or '(none)'!r}")


def write_ink(ink: Ink, path: str | Path, **options) -> None:
    raise InkFormatError(path, f"unsupported output type {Path(path).suffix!r}")
