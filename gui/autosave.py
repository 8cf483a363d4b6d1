"""Autosave, one per running app: every few seconds the document's ink goes to
`sessions/<id>.json` in the app-data folder (JSON ink, written atomically). Each instance
holds a lock on `sessions/<id>.lock` for as long as it runs, so two apps never share a file,
and a session whose lock nobody holds but whose ink is still there ended without a clean
quit: its ink is offered for restoring. A clean quit keeps the last ink as
`last-session.json` (never offered as a crash) and removes the session's files."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout
from PySide6.QtCore import QObject, QTimer, Slot

from handwriting.document import InkDocument
from handwriting.formats import write_ink
from handwriting.ink import Ink

INTERVAL_MS = 3000
SESSIONS = "sessions"
LAST_SESSION = "last-session.json"
# Written by versions before per-instance sessions: still offered once if they crashed.
LEGACY_AUTOSAVE, LEGACY_MARKER = "autosave.json", "session.running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours
        return True
    return True


@dataclass(frozen=True)
class CrashedSession:
    """The ink file of a session that ended without a clean quit, and the files to remove
    once the user has restored or declined it."""

    ink_path: Path
    leftovers: tuple[Path, ...]
    modified: float  # seconds since the epoch, of the last autosave


class Autosave(QObject):
    """Saves `document.ink` into `folder/sessions/<id>.json`. Call `start()` once and
    `finish()` on a clean exit."""

    def __init__(self, document: InkDocument, folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.folder = Path(folder)
        self.sessions = self.folder / SESSIONS
        self.session_id = f"{os.getpid()}-{time.time_ns()}"
        self.path = self.sessions / f"{self.session_id}.json"
        self.lock_path = self.sessions / f"{self.session_id}.lock"
        self._lock: FileLock | None = None
        self.error: str | None = None
        self._saved: Ink | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.on_tick)

    # ------------------------------------------------------------------ other sessions
    def crashed_sessions(self) -> list[CrashedSession]:
        """Sessions that ended without a clean quit and left ink, newest first. A session
        whose lock is held (another app running now) is never among them."""
        found = []
        for ink_path in self.sessions.glob("*.json"):
            if ink_path == self.path:
                continue
            lock = ink_path.with_suffix(".lock")
            if lock.exists() and self._held(lock):
                continue  # its app is running
            found.append(self._crashed(ink_path, (ink_path, lock)))
        legacy, marker = self.folder / LEGACY_AUTOSAVE, self.folder / LEGACY_MARKER
        if legacy.is_file() and marker.is_file():
            try:
                pid = int(marker.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if not (pid and pid != os.getpid() and _alive(pid)):
                found.append(self._crashed(legacy, (legacy, marker)))
        return sorted((c for c in found if c is not None), key=lambda c: -c.modified)

    @staticmethod
    def _crashed(ink_path: Path, leftovers) -> CrashedSession | None:
        try:
            return CrashedSession(ink_path, tuple(leftovers), ink_path.stat().st_mtime)
        except OSError:
            return None

    @staticmethod
    def _held(lock: Path) -> bool:
        probe = FileLock(lock, timeout=0, is_singleton=False)
        try:
            probe.acquire()
        except Timeout:
            return True
        except OSError:
            return False  # unreadable lock: treat its session as ended
        probe.release()
        return False

    @staticmethod
    def forget(session: CrashedSession) -> None:
        """Remove a crashed session's files (after the user restored or declined it)."""
        for path in session.leftovers:
            with contextlib.suppress(OSError):
                path.unlink()

    # ------------------------------------------------------------------ this session
    def start(self) -> None:
        """Take this session's lock and start saving."""
        try:
            self.sessions.mkdir(parents=True, exist_ok=True)
            self._lock = FileLock(self.lock_path, timeout=0, is_singleton=False)
            self._lock.acquire()
        except (OSError, Timeout) as exc:
            self.error = f"{self.sessions}: {getattr(exc, 'strerror', None) or exc}"
            self._lock = None
            return
        self._saved = self.document.ink  # nothing new to save yet
        self.timer.start()

    @Slot()
    def on_tick(self) -> None:
        self.save_now()

    def save_now(self) -> bool:
        """Save if the ink changed since the last save; False if writing failed."""
        if self._lock is None:
            return False
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
        """A clean exit: keep the last ink as `last-session.json`, remove this session's
        files and release its lock."""
        self.timer.stop()
        if self._lock is None:
            return
        ink = self.document.ink
        with contextlib.suppress(OSError):
            if not ink.is_empty:
                write_ink(ink, self.folder / LAST_SESSION)
            self.path.unlink(missing_ok=True)
        self._lock.release()
        with contextlib.suppress(OSError):
            self.lock_path.unlink()
        self._lock = None
