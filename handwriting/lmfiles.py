"""The language models' files: versioned .npz reading, writes that a crash cannot truncate,
and the folder of shipped resources (`handwriting/resources`)."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np

CACHE_LIMIT = 500_000  # entries per cache before it is cleared (bounds memory in a long session)


def read_npz(path: str | Path, what: str, version: int) -> tuple[dict, dict]:
    """(header, arrays) of an LM file written as .npz with a JSON `header` of this
    `version`; any problem is a ValueError naming the file (`what`: "word LM", ...)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            arrays = {k: z[k] for k in z.files if k != "header"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a {what} file ({exc})") from None
    if not isinstance(header, dict) or header.get("format_version") != version:
        found = header.get("format_version") if isinstance(header, dict) else None
        raise ValueError(f"{path}: {what} format {found!r}, expected {version}")
    return header, arrays


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash never leaves a truncated file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resource(name: str) -> Path:
    path = Path(str(resources.files("handwriting") / "resources" / name))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not built; see handwriting.lm.build_default_resources")
    return path
