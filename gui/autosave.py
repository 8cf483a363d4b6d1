"""Autosave: the document's ink goes to `autosave.json` in the app-data folder every few
seconds when it changed (JSON ink, written atomically by `handwriting.formats`). A marker file
lives while the app runs; finding it at start-up (and its process gone) means the last
session crashed, and its autosave is offered for restoring."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from handwriting.document import InkDocument
from handwriting.formats import write_ink
from handwriting.ink import Ink

INTERVAL_MS = 3000
AUTOSAVE = "autosave.json"
MARKER = "session.running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours
        return True
    return True


class Autosave(QObject):
    """Saves `document.ink` into `folder`. Call `start()` once, `finish()` on a clean exit."""

    def __init__(self, document: InkDocument, folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.folder = Path(folder)
        self.path = self.folder / AUTOSAVE
        self.marker = self.folder / MARKER
        self.error: str | None = None
        self._saved: Ink | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.on_tick)

    def crashed_session(self) -> Path | None:
        """The autosave of a session that ended without `finish()` (None if there is none
        or that session is still running in another process)."""
        if not (self.marker.is_file() and self.path.is_file()):
            return None
        try:
            pid = int(self.marker.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and pid != os.getpid() and _alive(pid):
            return None
        return self.path

    def start(self) -> None:
        """Mark the session as running and start saving."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.marker.write_text(str(os.getpid()))
        except OSError as exc:
            self.error = f"{self.folder}: {exc.strerror or exc}"
            return
        self._saved = self.document.ink  # nothing new to save yet
        self.timer.start()

    @Slot()
    def on_tick(self) -> None:
        self.save_now()

    def save_now(self) -> bool:
        """Save if the ink changed since the last save; False if writing failed."""
        ink = self.document.ink
        if ink is self._saved:
            return True
        try:
            if ink.is_empty:
                self.path.unlink(missing_ok=True)
            else:
                write_ink(ink, self.path)
        except OSError as exc:
            self.error = f"{self.path}: {exc.strerror or exc}"
            return False
        self._saved = ink
        return True

    def finish(self) -> None:
        """A clean exit: save the last ink and remove the marker."""
        self.timer.stop()
        if self.marker.is_file():
            self.save_now()
            with contextlib.suppress(OSError):
                self.marker.unlink()
