"""The one error type every ink reader raises."""

from __future__ import annotations

from pathlib import Path


class InkFormatError(ValueError):
    """A file that cannot be read as ink: names the file and what is wrong."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}")


class InkFormatWarning(UserWarning):
    """A file read with an assumption (an unknown unit, say): the message names the file."""
