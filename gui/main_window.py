"""`MainWindow`: the ink canvas, File / Edit / View menus, a recognized-text panel and a
status bar, all over one `InkDocument`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from gui.canvas import InkCanvas
from gui.panels import RecognizedTextPanel
from handwriting.document import DocumentEvent, InkDocument
from handwriting.formats import InkFormatError, read_ink, write_ink
from handwriting.ink import InkError

APP_NAME = "Handwriting"
OPEN_FILTER = "Ink files (*.xml *.inkml *.json *.svg);;All files (*)"
EXPORT_FORMATS = {  # extension: (menu text, file-dialog filter)
    ".svg": ("&SVG…", "SVG image (*.svg)"),
    ".inkml": ("&InkML…", "InkML (*.inkml)"),
    ".json": ("&JSON…", "JSON ink (*.json)"),
    ".png": ("&PNG…", "PNG image (*.png)"),
}
FILE_ERRORS = (InkFormatError, InkError, OSError)


class MainWindow(QMainWindow):
    """The application window. `document` is the one app state; the canvas and the panels
    are views of it. Recognition hooks in through `show_recognized_text`."""

    def __init__(self, document: InkDocument | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document if document is not None else InkDocument()
        self.current_path: Path | None = None
        self._last_dir = Path.cwd()

        self.canvas = InkCanvas(self.document, self)
        self.setCentralWidget(self.canvas)

        # Where recognition results go once a recognizer service is wired in (a worker that
        # listens for the document's "changed" events and calls `show_recognized_text`).
        self.recognized_panel = RecognizedTextPanel(self)
        self.recognized_dock = QDockWidget("Recognized text", self)
        self.recognized_dock.setObjectName("recognizedTextDock")
        self.recognized_dock.setWidget(self.recognized_panel)
        self.recognized_dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                                             | Qt.DockWidgetArea.TopDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.recognized_dock)

        self.info_label = QLabel()
        self.statusBar().addPermanentWidget(self.info_label)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        unsubscribe = self.document.subscribe(self._on_document_event)
        self.destroyed.connect(lambda *_: unsubscribe())
        self.canvas.view_changed.connect(self.on_view_changed)
        self._update_title()
        self._update_state()
        self.resize(1000, 640)

    # ------------------------------------------------------------------ construction
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", self.on_open, key.Open,
                                        "Open an ink file (IAM-OnDB XML, InkML, JSON, SVG)")
        self.export_actions = {
            ext: self._action(text, partial(self.on_export_dialog, ext),
                              tip=f"Export the ink as {ext[1:].upper()}")
            for ext, (text, _) in EXPORT_FORMATS.items()
        }
        self.quit_action = self._action("&Quit", self.close, key.Quit, "Quit the application")
        self.undo_action = self._action("&Undo", self.on_undo, "Ctrl+Z", "Undo the last edit")
        self.redo_action = self._action("&Redo", self.on_redo, "Ctrl+Shift+Z",
                                        "Redo the last undone edit")
        # Toolbar buttons keep short fixed labels while the menu texts name the command.
        self.undo_action.setIconText("Undo")
        self.redo_action.setIconText("Redo")
        self.export_actions[".svg"].setIconText("Export SVG")
        self.clear_action = self._action("C&lear", self.on_clear, tip="Remove all strokes")
        self.zoom_in_action = self._action("Zoom &In", self.canvas.on_zoom_in, key.ZoomIn)
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.on_zoom_out, key.ZoomOut)
        self.fit_action = self._action("&Fit Ink", self.canvas.on_fit, "Ctrl+0",
                                       "Scale the view so all ink fits")
        self.actual_size_action = self._action("&Actual Size", self.canvas.on_actual_size,
                                               "Ctrl+1", "One ink unit per pixel")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        export_menu = file_menu.addMenu("&Export")
        for action in self.export_actions.values():
            export_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.clear_action)

        view_menu = bar.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.actual_size_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.recognized_dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolBar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.export_actions[".svg"])
        toolbar.addSeparator()
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addAction(self.clear_action)
        toolbar.addSeparator()
        toolbar.addAction(self.fit_action)

    # ------------------------------------------------------------------ files
    def open_file(self, path: str | Path) -> bool:
        """Replace the ink with `path`'s; on failure say why and keep the current ink."""
        path = Path(path)
        try:
            ink = read_ink(path)
        except FILE_ERRORS as exc:
            self._show_error("Cannot open file", f"Could not open {path.name}.", exc, path)
            return False
        self.document.replace(ink)
        self.canvas.fit_to_ink()
        self.current_path = path
        self._last_dir = path.parent
        self._update_title()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def export_to(self, path: str | Path) -> bool:
        """Write the ink to `path`; the extension picks the format (.svg .inkml .json .png)."""
        path = Path(path)
        if self.document.ink.is_empty:
            self._show_error("Nothing to export", "The canvas is empty: write something first.")
            return False
        try:
            write_ink(self.document.ink, path)
        except FILE_ERRORS as exc:
            self._show_error("Cannot export", f"Could not write {path.name}.", exc, path)
            return False
        self._last_dir = path.parent
        self.statusBar().showMessage(f"Exported {path}", 5000)
        return True

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

    # ------------------------------------------------------------------ slots
    @Slot()
    def on_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open Ink", str(self._last_dir), OPEN_FILTER)
        if name:
            self.open_file(name)

    def on_export_dialog(self, ext: str) -> None:
        stem = self.current_path.stem if self.current_path else "ink"
        suggestion = str(self._last_dir / f"{stem}{ext}")
        name, _ = QFileDialog.getSaveFileName(self, f"Export {ext[1:].upper()}", suggestion,
                                              EXPORT_FORMATS[ext][1])
        if name:
            path = Path(name)
            self.export_to(path if path.suffix.lower() == ext else path.with_name(path.name + ext))

    @Slot()
    def on_undo(self) -> None:
        self.document.undo()

    @Slot()
    def on_redo(self) -> None:
        self.document.redo()

    @Slot()
    def on_clear(self) -> None:
        self.document.clear()

    @Slot()
    def on_view_changed(self) -> None:
        self._update_state()

    def show_recognized_text(self, text: str) -> None:
        """Show a recognition result (called by the recognizer worker, once there is one)."""
        self.recognized_panel.set_text(text)

    # ------------------------------------------------------------------ model -> view
    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "changed":
            self._update_state()

    def _update_title(self) -> None:
        name = self.current_path.name if self.current_path else "Untitled"
        self.setWindowTitle(f"{name} — {APP_NAME}")

    def _update_state(self) -> None:
        doc = self.document
        self.undo_action.setEnabled(doc.can_undo)
        self.undo_action.setText(f"&Undo {doc.undo_label}".rstrip())
        self.redo_action.setEnabled(doc.can_redo)
        self.redo_action.setText(f"&Redo {doc.redo_label}".rstrip())
        empty = doc.ink.is_empty
        self.clear_action.setEnabled(not empty)
        self.fit_action.setEnabled(not empty)
        for action in self.export_actions.values():
            action.setEnabled(not empty)
        n = len(doc)
        self.info_label.setText(f"{n} stroke{'' if n == 1 else 's'}  ·  "
                                f"{doc.ink.num_points} points  ·  "
                                f"{round(self.canvas.zoom * 100)} %")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.document.cancel_stroke()
        super().closeEvent(event)
