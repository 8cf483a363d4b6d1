"""File handling of the main window: open (then recognize), save and save as (JSON,
InkML, SVG), export (SVG and PNG with the preferred stroke width and colour, InkML, JSON),
recent files, error boxes that name the file and the problem, and restoring an autosave.
A mixin of `MainWindow`: it works on the window's document, canvas and preferences."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui.settings import PreferencesDialog
from handwriting.exports import (
    DEFAULT_DPI,
    MAX_PNG_SIDE,
    MM_PER_INCH,
    mm_per_unit,
    picture_options,
    titled,
)
from handwriting.formats import InkFormatError, read_ink, write_ink
from handwriting.geometry import writing_height
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


class FileActions:
    """Open, save, export, recent files and autosave restore for `MainWindow`."""

    def open_file(self, path: str | Path) -> bool:
        """Replace the ink with `path`'s; on failure say why and keep the current ink."""
        path = Path(path)
        try:
            ink = read_ink(path)
        except FILE_ERRORS as exc:
            self._show_error("Cannot open file", f"Could not open {path.name}.", exc, path)
            return False
        if ink.is_empty:
            self._show_error("Cannot open file", f"{path.name} holds no strokes.", None, path)
            return False
        self.typed.stop()
        self.document.replace(ink)
        self.canvas.fit_to_ink()
        self.current_path = path
        self._saved_ink = ink
        self._remember(path)
        self.statusBar().showMessage(f"Opened {path.name}", 5000)
        self._update_title()
        return True

    def save_to(self, path: str | Path) -> bool:
        """Save the ink as `path` (.json, .inkml or .svg) and make it the current file."""
        path = Path(path)
        if self.export_to(path):
            self.current_path, self._saved_ink = path, self.document.ink
            self._remember(path)
            self._update_title()
            return True
        return False

    def export_to(self, path: str | Path) -> bool:
        """Write the ink to `path`; the extension picks the format (.svg .inkml .json .png).
        SVG and PNG use the stroke width and colour of the preferences."""
        path = Path(path)
        ink = self.document.ink
        if ink.is_empty:
            self._show_error("Nothing to export", "The canvas is empty: write something first.")
            return False
        if path.suffix.lower() in (".svg", ".png"):  # the title is the page's text, now
            ink = titled(ink, self.document.text)
        try:
            write_ink(ink, path, **self._export_options(ink, path.suffix.lower()))
        except (*FILE_ERRORS, ValueError) as exc:
            self._show_error("Cannot save", f"Could not write {path.name}.", exc, path)
            return False
        self._last_dir = path.parent
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _export_options(self, ink: Ink, ext: str) -> dict:
        """Pictures at their physical size (`handwriting.exports`, as the CLI writes them),
        the preferred pen width (a share of the writing height) and colour."""
        width_mm = self.prefs.stroke_width / 100 * (writing_height(ink) or 1.0) * mm_per_unit(ink)
        if ext == ".png":  # the default DPI, lowered where the picture would be too large
            x0, y0, x1, y1 = ink.bounds()
            side_mm = max(x1 - x0, y1 - y0, 1e-6) * mm_per_unit(ink)
            dpi = min(DEFAULT_DPI, 0.95 * MAX_PNG_SIDE * MM_PER_INCH / side_mm)
            return picture_options(ink, ext, width_mm, self.prefs.color, dpi=dpi)
        return picture_options(ink, ext, width_mm, self.prefs.color)

    def _remember(self, path: Path) -> None:
        self._last_dir = path.parent
        self.prefs.add_recent(path)
        self.prefs.save()

    def _show_error(self, title: str, text: str, exc: Exception | None = None,
                    path: Path | None = None) -> None:
        if isinstance(exc, InkFormatError):
            text = f"{text}\n\n{exc.problem}"
        elif isinstance(exc, OSError):
            text = f"{text}\n\n{exc.strerror or exc}"
        elif exc is not None:
            text = f"{text}\n\n{exc}"
        if path is not None:
            text = f"{text}\n\nFile: {path}"
        self.statusBar().showMessage(title, 5000)
        QMessageBox.warning(self, title, text)

    def offer_restore(self, path: Path) -> bool:
        """Ask whether to restore the autosave of a session that crashed."""
        try:
            ink = read_ink(path)
        except FILE_ERRORS:
            return False
        answer = QMessageBox.question(
            self, "Restore unsaved ink?",
            f"The last session ended unexpectedly. Restore its ink ({len(ink)} strokes)?\n\n"
            f"Autosave: {path}")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.document.replace(ink)
        self.canvas.fit_to_ink()
        self._saved_ink = Ink()  # restored, not saved anywhere yet
        self._update_title()
        return True

    # ------------------------------------------------------------------ file slots
    @Slot()
    def on_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open Ink", str(self._last_dir), OPEN_FILTER)
        if name:
            self.open_file(name)

    @Slot()
    def on_fill_recent(self) -> None:
        self.recent_menu.clear()
        for name in self.prefs.recent:
            self.recent_menu.addAction(name, partial(self.open_file, name))
        if not self.prefs.recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    @Slot()
    def on_save(self) -> None:
        if self.current_path is not None and self.current_path.suffix.lower() in SAVE_FORMATS:
            self.save_to(self.current_path)
        else:
            self.on_save_as()

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
        name, chosen = QFileDialog.getSaveFileName(self, title, str(self._last_dir / f"{stem}{first}"),
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
        dialog = PreferencesDialog(self.prefs, self)
        if dialog.exec() == PreferencesDialog.DialogCode.Accepted:
            dialog.apply_to(self.prefs)
            self.prefs.save()

