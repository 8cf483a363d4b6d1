"""File I/O shared by the format modules: bounded reads that fail as `InkFormatError`,
atomic writes, and exact float32 text."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

import numpy as np

from handwriting.formats.errors import InkFormatError

MAX_FILE_BYTES = 64 * 1024 * 1024  # a line of ink is ~100 kB; refuse absurd files early
# A page of handwriting has hundreds of strokes and tens of thousands of points; these
# bounds refuse a hostile file before per-stroke objects are built for it.
MAX_STROKES = 50_000
MAX_POINTS = 2_000_000


def read_bytes(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `path`; a missing, unreadable, oversized or non-regular file (a FIFO
    would block the reader forever, a device never ends) is an `InkFormatError`."""
    path = Path(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InkFormatError(path, "is a directory, not an ink file")
        if not stat.S_ISREG(info.st_mode):
            raise InkFormatError(path, "is not a regular file (a pipe or device?)")
        if info.st_size > max_bytes:
            raise InkFormatError(path, f"file is larger than {max_bytes} bytes")
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, open() must
        # not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise InkFormatError(path, "is not a regular file (a pipe or device?)")
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise InkFormatError(path, f"cannot read file ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InkFormatError(path, f"file is larger than {max_bytes} bytes")
    return data


def check_counts(n_strokes: int, n_points: int, source) -> None:
    """An `InkFormatError` when a file holds more strokes or points than any page could."""
    if n_strokes > MAX_STROKES:
        raise InkFormatError(source, f"{n_strokes} strokes (limit {MAX_STROKES})")
    if n_points > MAX_POINTS:
        raise InkFormatError(source, f"{n_points} points (limit {MAX_POINTS})")


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`, so readers
    never see a half-written file. An existing file's permissions are kept."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # no such folder, read-only, no permission
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            # name the file the user asked for, not our temporary one (disk full, quota...)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
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
