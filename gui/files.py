"""File handling of the main window: open (then recognize), save and save as (JSON,
InkML, SVG), export (SVG and PNG with the preferred stroke width and colour, InkML, JSON),
recent files, error boxes that name the file and the problem, and restoring an autosave.
`DocumentFiles` is composed into `MainWindow` (`window.files`): it owns which file the ink
came from and whether it was saved, and works on the window's document, canvas and
preferences."""

from __future__ import annotations

import sys
import threading
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from gui.autosave import CrashedSession
from gui.settings import PreferencesDialog
from handwriting.exports import (
    MAX_PNG_SIDE,
    MM_PER_INCH,
    mm_per_unit,
    picture_options,
    titled,
)
from handwriting.formats import InkFormatError, read_ink, write_ink
from handwriting.grouping import writing_height
from handwriting.ink import Ink, InkError

OPEN_FILTER = "Ink files (*.xml *.inkml *.json *.svg);;All files (*)"
SAVE_FORMATS = {".json": "JSON ink (*.json)", ".inkml": "InkML (*.inkml)",
                ".svg": "SVG image (*.svg)"}  # formats that read back as ink
EXPORT_FORMATS = {  # extension: (menu text, file-dialog filter)
    ".svg": ("&SVG…", "SVG image (*.svg)"),
    ".inkml": ("&InkML…", "InkML (*.inkml)"),
    ".json": ("&JSON…", "JSON ink (*.json)"),
    ".png": ("&PNG…", "PNG image (*.png)"),
}
FILE_ERRORS = (InkFormatError, InkError, OSError)
BACKGROUND_READ_BYTES = 1 << 20  # larger files are read off the GUI thread, with a progress box
OWN_FORMAT = ".json"  # Save overwrites an opened file silently only in our own format


class DocumentFiles(QObject):
    """Open, save, export, recent files and autosave restore for a `MainWindow`: which file
    the ink is (`current_path`), whether it was saved, and the slots of the File menu."""

    changed = Signal()  # the current file or its saved state changed: the title follows

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        prefs = window.prefs
        self.current_path: Path | None = None
        self._last_dir = Path(prefs.recent[0]).parent if prefs.recent else Path.cwd()
        self._saved_ink: Ink | None = window.document.ink
        self._opened_foreign = False  # opened from a file Save must not overwrite silently

    # ------------------------------------------------------------------ document life cycle
    @property
    def is_modified(self) -> bool:
        """The ink differs from what was last opened or saved (an empty new document is not
        modified)."""
        ink = self.window.document.ink
        if self._saved_ink is None:
            return not ink.is_empty
        return ink is not self._saved_ink

    def ask_save_changes(self, action: str) -> str:
        """'save', 'discard' or 'cancel': what the user wants done with modified ink before
        `action` (e.g. "opening another file")."""
        name = self.current_path.name if self.current_path else "Untitled"
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window, "Save changes?",
            f"The ink in {name} has changes that are not saved.\n\n"
            f"Save them before {action}?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def maybe_save(self, action: str) -> bool:
        """True when it is fine to replace the ink: it was not modified, the user saved it,
        or chose to discard it. False (keep everything) when they cancelled."""
        if not self.is_modified or self.window.unattended:
            return True
        self.window.document.cancel_stroke()
        choice = self.ask_save_changes(action)
        if choice == "save":
            self.on_save()
            return not self.is_modified  # a cancelled Save As keeps the ink
        return choice == "discard"

    def new_document(self) -> bool:
        """An empty, untitled document (asks to save modified ink first)."""
        if not self.maybe_save("starting a new document"):
            return False
        self.window.typed.stop()
        self.window.document.replace(Ink())
        self.current_path = None
        self._opened_foreign = False
        self._saved_ink = None
        self.changed.emit()
        return True

    def open_file(self, path: str | Path, ask: bool = True) -> bool:
        """Replace the ink with `path`'s (asking first to save modified ink, unless the
        caller did); on failure say why and keep the current ink."""
        path = Path(path)
        if ask and not self.maybe_save(f"opening {path.name}"):
            return False
        try:
            ink = self._read(path)
        except FILE_ERRORS as exc:
            self._show_error("Cannot open file", f"Could not open {path.name}.", exc, path)
            return False
        if ink.is_empty:
            self._show_error("Cannot open file", f"{path.name} holds no strokes.", None, path)
            return False
        self.window.typed.stop()
        self.window.document.replace(ink)
        self.window.canvas.fit_to_ink()
        self.current_path = path
        # Another program's file (or a lossy one) is not overwritten by a plain Save.
        self._opened_foreign = path.suffix.lower() != OWN_FORMAT
        self._saved_ink = ink
        self._remember(path)
        self.window.statusBar().showMessage(f"Opened {path.name}", 5000)
        self.changed.emit()
        return True

    def _read(self, path: Path) -> Ink:
        """`read_ink(path)`; a large file is read in a thread while a progress box keeps the
        window painted (and a FIFO or device is refused by the reader before it blocks)."""
        try:
            big = path.stat().st_size > BACKGROUND_READ_BYTES
        except OSError:
            big = False
        if not big or self.window.batch:
            return read_ink(path)
        box: dict = {}

        def work() -> None:
            try:
                box["ink"] = read_ink(path)
            except BaseException as exc:  # noqa: BLE001 - handed back to the GUI thread
                box["error"] = exc

        thread = threading.Thread(target=work, name="read-ink", daemon=True)
        progress = QProgressDialog(f"Reading {path.name}…", "", 0, 0, self.window)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        thread.start()
        while thread.is_alive():
            QCoreApplication.processEvents()
            thread.join(0.02)
        progress.close()
        if "error" in box:
            raise box["error"]
        return box["ink"]

    def save_to(self, path: str | Path) -> bool:
        """Save the ink as `path` (.json, .inkml or .svg) and make it the current file."""
        path = Path(path)
        if self.export_to(path):
            self.current_path, self._saved_ink = path, self.window.document.ink
            self._opened_foreign = False  # the user chose this file for this ink
            self._remember(path)
            self.changed.emit()
            return True
        return False

    def export_to(self, path: str | Path) -> bool:
        """Write the ink to `path`; the extension picks the format (.svg .inkml .json .png).
        SVG and PNG use the stroke width and colour of the preferences."""
        path = Path(path)
        ink = self.window.document.ink
        if ink.is_empty:
            self._show_error("Nothing to export", "The canvas is empty: write something first.")
            return False
        if path.suffix.lower() in (".svg", ".png"):  # the title is the page's text, now
            ink = titled(ink, self.window.document.text)
        try:
            write_ink(ink, path, **self._export_options(ink, path.suffix.lower()))
        except (*FILE_ERRORS, ValueError) as exc:
            self._show_error("Cannot save", f"Could not write {path.name}.", exc, path)
            return False
        self._last_dir = path.parent
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _export_options(self, ink: Ink, ext: str) -> dict:
        """Pictures at their physical size (`handwriting.exports`, as the CLI writes them),
        the preferred pen width (a share of the writing height) and colour."""
        width_mm = self.window.prefs.stroke_width / 100 * (writing_height(ink) or 1.0) * mm_per_unit(ink)
        if ext == ".png":  # the preferred DPI, lowered where the picture would be too large
            x0, y0, x1, y1 = ink.bounds()
            side_mm = max(x1 - x0, y1 - y0, 1e-6) * mm_per_unit(ink)
            dpi = min(self.window.prefs.png_dpi, 0.95 * MAX_PNG_SIDE * MM_PER_INCH / side_mm)
            return picture_options(ink, ext, width_mm, self.window.prefs.color, dpi=dpi)
        return picture_options(ink, ext, width_mm, self.window.prefs.color)

    def _remember(self, path: Path) -> None:
        self._last_dir = path.parent
        self.window.prefs.add_recent(path)  # merged with what other running apps added

    def _show_error(self, title: str, text: str, exc: Exception | None = None,
                    path: Path | None = None) -> None:
        """A message box naming the file and the problem; in batch mode (--screenshot,
        --report-json) one line on stderr instead, so nothing waits for a click."""
        if self.window.batch:
            detail = exc.problem if isinstance(exc, InkFormatError) else (
                (exc.strerror or str(exc)) if isinstance(exc, OSError) else exc)
            line = f"{path}: {detail}" if path is not None and detail else (
                f"{path}: {text}" if path is not None else f"{text} {detail or ''}".strip())
            print(f"handwriting-app: error: {line}", file=sys.stderr)
            self.window.batch_errors.append(line)
            return
        if isinstance(exc, InkFormatError):
            text = f"{text}\n\n{exc.problem}"
        elif isinstance(exc, OSError):
            text = f"{text}\n\n{exc.strerror or exc}"
        elif exc is not None:
            text = f"{text}\n\n{exc}"
        if path is not None:
            text = f"{text}\n\nFile: {path}"
        self.window.statusBar().showMessage(title, 5000)
        QMessageBox.warning(self.window, title, text)

    def offer_restore(self, session: CrashedSession | Path) -> bool:
        """Ask whether to restore the autosave of a session that ended without a clean
        quit. Restored or declined, its files are then removed (the restored ink lives on in
        this session's autosave); unreadable ones are kept for the user to rescue."""
        if isinstance(session, Path):
            session = CrashedSession(session, (), 0.0)
        try:
            ink = read_ink(session.ink_path)
        except FILE_ERRORS:
            return False
        if ink.is_empty:
            self.window.autosave.forget(session)
            return False
        answer = QMessageBox.question(
            self.window, "Restore unsaved ink?",
            f"A session ended unexpectedly. Restore its ink ({len(ink)} strokes)?\n\n"
            f"Autosave: {session.ink_path}")
        if answer != QMessageBox.StandardButton.Yes:
            self.window.autosave.forget(session)
            return False
        self.window.document.replace(ink)
        self.window.canvas.fit_to_ink()
        self.current_path = None
        self._saved_ink = None  # restored, not saved anywhere yet
        self.window.autosave.save_now()  # safe in this session before the old files go
        self.window.autosave.forget(session)
        self.changed.emit()
        return True

    # ------------------------------------------------------------------ file slots
    @Slot()
    def on_new(self) -> None:
        self.new_document()

    @Slot()
    def on_open(self) -> None:
        if not self.maybe_save("opening another file"):
            return
        name, _ = QFileDialog.getOpenFileName(self.window, "Open Ink", str(self._last_dir), OPEN_FILTER)
        if name:
            self.open_file(name, ask=False)

    @Slot()
    def on_fill_recent(self) -> None:
        self.window.prefs.reload_recent()  # other running apps may have opened files since
        self.window.recent_menu.clear()
        for name in self.window.prefs.recent:
            self.window.recent_menu.addAction(name, partial(self.open_file, name))
        if not self.window.prefs.recent:
            self.window.recent_menu.addAction("(none)").setEnabled(False)

    @Slot()
    def on_save(self) -> None:
        path = self.current_path
        if path is not None and path.suffix.lower() in SAVE_FORMATS and not self._opened_foreign:
            self.save_to(path)
        else:
            self.on_save_as()  # a file not chosen for this ink is never overwritten silently

    @Slot()
    def on_save_as(self) -> None:
        path = self._ask_path("Save Ink", SAVE_FORMATS)
        if path is not None:
            self.save_to(path)

    @Slot()
    def on_export(self) -> None:
        path = self._ask_path("Export Ink", {e: f for e, (_, f) in EXPORT_FORMATS.items()})
        if path is not None:
            self.export_to(path)

    def on_export_dialog(self, ext: str) -> None:
        path = self._ask_path(f"Export {ext[1:].upper()}", {ext: EXPORT_FORMATS[ext][1]})
        if path is not None:
            self.export_to(path)

    def _ask_path(self, title: str, formats: dict[str, str]) -> Path | None:
        """A file name from the save dialog; without a known extension, the chosen filter's."""
        stem = self.current_path.stem if self.current_path else "ink"
        first = next(iter(formats))
        name, chosen = QFileDialog.getSaveFileName(self.window, title, str(self._last_dir / f"{stem}{first}"),
                                                   ";;".join(formats.values()))
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in formats:
            ext = next((e for e, f in formats.items() if f == chosen), first)
            path = path.with_name(path.name + ext)
        return path

    @Slot()
    def on_preferences(self) -> None:
        dialog = PreferencesDialog(self.window.prefs, self.window)
        if dialog.exec() == PreferencesDialog.DialogCode.Accepted:
            dialog.apply_to(self.window.prefs)
            self.window.prefs.save()

