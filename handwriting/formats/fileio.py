"""File I/O shared by the format modules: bounded reads that fail as `InkFormatError`,
atomic writes, and exact float32 text."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

from handwriting.formats.errors import InkFormatError

MAX_FILE_BYTES = 64 * 1024 * 1024  # a line of ink is ~100 kB; refuse absurd files early

def read_bytes(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`; a missing, unreadable or oversized file is an `InkFormatError`."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise InkFormatError(path, f"cannot read file ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InkFormatError(path, f"file is larger than {max_bytes} bytes")
    return data


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`, so readers
    never see a half-written file. An existing file's permissions are kept."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def f32_strings(values) -> list[str]:
    """Shortest decimal text that reads back as exactly the same float32 (`3.0` -> `3`)."""
    out = []
    for v in np.asarray(values, dtype=np.float32).ravel():
        s = str(v)
        out.append(s[:-2] if s.endswith(".0") else s)
    return out


_F32_MAX = float(np.finfo(np.float32).max)


def check_finite_f32(values: np.ndarray, source, what: str) -> np.ndarray:
    """`values` unchanged if float32 can hold all of them; else an `InkFormatError` saying
    `what` holds NaN, infinite or out-of-range numbers."""
    with np.errstate(invalid="ignore"):
        ok = np.all(np.abs(values) <= _F32_MAX)  # False for NaN too
    if not ok:
        raise InkFormatError(source, f"{what} holds NaN, infinite or out-of-range numbers")
    return values
