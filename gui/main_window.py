"""`MainWindow`: the ink canvas, the recognized-text and typed-text panels, menus, status bar,
files, preferences and autosave, all over one `InkDocument`, and the 'Inside the networks'
dock (`gui.insight_host`). Models run in `gui.workers`."""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from gui import menus
from gui.about import AboutDialog
from gui.autosave import Autosave
from gui.canvas import InkCanvas
from gui.files import DocumentFiles
from gui.messages import ModelInfo
from gui.panels import MY_STYLE, NO_STYLE, RecognizedTextPanel, WritePanel
from gui.recognition import LiveRecognition
from gui.settings import APP_NAME, Preferences, app_data_dir, settings
from gui.workers.models import ModelWorkers
from gui.writers import WriterStyles, canvas_prime
from gui.writing import TypedInk
from handwriting.document import InkDocument
from handwriting.edits import DocumentEvent

if TYPE_CHECKING:
    from gui.insight_host import InsightHost



class MainWindow(QMainWindow):
    """The application window. `document` is the one app state; the canvas and the panels are
    views of it. `models` is the folder of the weights (default: the service's)."""

    def __init__(self, document: InkDocument | None = None, parent: QWidget | None = None,
                 *, models: Path | None = None, threads: int | None = None,
                 offer_restore: bool = True, restore_geometry: bool = True):
        super().__init__(parent)
        self.document = document if document is not None else InkDocument()
        self.prefs = Preferences.load()
        # Batch mode (--screenshot, --report-json): no dialogs; errors go to stderr.
        self.batch = False
        self.unattended = False  # --screenshot: the app quits by itself, asks nothing
        self.batch_errors: list[str] = []
        self._warned: set[str] = set()
        self._unwarned: list[str] = []
        self.finish_work_on_close = False  # --report-json: let recognition finish first
        self._closed = False
        # The insight dock (~0.2 s of imports) is made once a model has loaded, off the
        # start-up path, or when asked for (`ensure_insight`).
        self.insight: InsightHost | None = None

        self.canvas = InkCanvas(self.document, self)
        self.setCentralWidget(self.canvas)
        self.recognized_panel = RecognizedTextPanel(self.document, self)
        self.recognized_dock = self._dock("Recognized text", "recognizedTextDock",
                                          self.recognized_panel)
        self.write_panel = WritePanel(self)
        self.write_dock = self._dock("Typed text to ink", "writeDock", self.write_panel,
                                     Qt.DockWidgetArea.TopDockWidgetArea)
        self.write_panel.set_bias(self.prefs.bias)
        self.write_panel.set_styles((), self.prefs.style, listed=False)
        self.write_panel.set_speed(self.prefs.speed)
        self.write_panel.set_candidates(self.prefs.candidates)
        self.write_panel.set_match_hand(self.prefs.match_hand)

        self.models_label = QLabel("Loading models…")
        self.latency_label = QLabel()
        self.info_label = QLabel()
        for label in (self.models_label, self.latency_label, self.info_label):
            self.statusBar().addPermanentWidget(label)

        self.workers = ModelWorkers(models, threads, self)
        self.recognition = LiveRecognition(self.document, self.workers, self)
        self.typed = TypedInk(self.document, self.workers, self.canvas, self)
        self.writers = WriterStyles(self.write_panel, self.workers, parent=self)
        self.autosave = Autosave(self.document, app_data_dir(), self)

        self.files = DocumentFiles(self)
        self.files.changed.connect(self._update_title)
        menus.build(self)
        self._connect()
        self._update_title()
        self._update_state()
        self.resize(1000, 700)
        self.resizeDocks([self.recognized_dock], [150], Qt.Orientation.Vertical)
        geometry = settings().value("window/geometry") if restore_geometry else None
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

        crashed = self.autosave.crashed_sessions() if offer_restore else []
        self.autosave.start()
        self.workers.start()
        self.writers.refresh(self.prefs.style)  # after start: a writer's recognizer loads 2nd
        self.recognized_panel.set_placeholder("Loading the recognizer…")
        if crashed:  # the newest; older ones are offered at the next start
            QTimer.singleShot(0, partial(self.files.offer_restore, crashed[0]))

    # ------------------------------------------------------------------ construction
    def _dock(self, title: str, name: str, widget: QWidget,
              area=Qt.DockWidgetArea.BottomDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                             | Qt.DockWidgetArea.TopDockWidgetArea)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        unsubscribe = self.document.subscribe(self._on_document_event)
        self.destroyed.connect(lambda *_: unsubscribe())
        self.canvas.view_changed.connect(self.on_view_changed)
        self.recognized_panel.char_hovered.connect(self.on_char_hovered)
        self.write_panel.write_clicked.connect(self.on_write)
        self.write_panel.stop_clicked.connect(self.on_stop)
        self.workers.model_loaded.connect(self.on_model_loaded)
        self.workers.model_failed.connect(self.on_model_failed)
        self.recognition.updated.connect(self.on_recognized)
        self.recognition.failed.connect(self.on_recognition_failed)
        self.typed.message.connect(self.on_message)
        self.writers.message.connect(self.on_message)
        self.workers.recognizer_switch_failed.connect(
            lambda msg: self.on_message(f"Kept the recognizer in use: {msg}"))
        self.typed.started.connect(self.on_typed_changed)
        self.typed.finished.connect(self.on_typed_changed)
        # A message gets the width the models' summary takes (the summary comes back when
        # the message times out), so messages are never cut off behind it.
        self.statusBar().messageChanged.connect(self.on_status_message)

    # ------------------------------------------------------------------ writing
    def write_text(self, text: str | None = None, speed: str | None = None,
                   seed: int | None = None) -> bool:
        """Write typed text (default: the panel's) below the ink; False if there is nothing
        to write or no handwriting to imitate."""
        if text is None:
            text = self.write_panel.text()
        elif text != self.write_panel.text():
            self.write_panel.text_edit.setPlainText(text)
        if not text.strip():
            self.on_message("Type some text to write first")
            return False
        style, prime, writer = self.write_panel.requested_style(), None, self.write_panel.writer()
        if writer is not None:
            prime = self.writers.prime(writer, text)
            if prime is None:
                self.on_message(f"{writer} has no samples to imitate: write some in "
                                "File > Handwriting Samples")
                return False
            style = MY_STYLE  # primed, no preset
        elif style == MY_STYLE:
            prime = canvas_prime(self.document.transcript)
            if prime is None:
                self.on_message("Write a line on the canvas first: its ink and recognized text "
                                "prime the synthesizer")
                return False
        if prime is not None and not self.write_panel.match_hand():
            prime = prime._replace(match_hand=False)
        self.typed.write(text, self.write_panel.bias(), None if style in (NO_STYLE, MY_STYLE)
                         else style, prime, speed or self.write_panel.speed(), seed,
                         self.write_panel.candidates())
        # The ink is what Undo should act on next, not the text box's own undo history.
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    @Slot()
    def on_write(self) -> None:
        self.write_text()  # it gives the canvas the focus: Ctrl+Z then undoes the ink

    @Slot()
    def on_stop(self) -> None:
        self.typed.stop()

    @Slot()
    def on_typed_changed(self) -> None:
        self.write_panel.set_running(self.typed.running)
        self.stop_action.setEnabled(self.typed.running)

    # ------------------------------------------------------------------ models
    @Slot(object)
    def on_model_loaded(self, info: ModelInfo) -> None:
        self.ensure_insight()
        if info.kind == "recognizer":
            self.recognized_panel.set_placeholder(RecognizedTextPanel.PLACEHOLDER)
        else:
            self.write_panel.set_styles(info.styles)  # keeps a style chosen meanwhile
        self._update_models_label()
        QTimer.singleShot(0, self._warn_models)  # after this slot: the box is modal

    @Slot(str, str)
    def on_model_failed(self, kind: str, message: str) -> None:
        self.ensure_insight()  # the LSTM lab and the other model's panels still work
        self._update_models_label()
        if kind == "recognizer":
            self.recognized_panel.set_placeholder(f"No recognition: {message}")
        else:
            self.write_panel.write_button.setEnabled(False)
        self.statusBar().showMessage(f"The {kind} did not load: {message}", 15000)
        if kind not in self._warned:
            self._warned.add(kind)
            # Both models load at once: gather their failures into one message box.
            self._unwarned.append(f"The {kind} did not load: {message}")
        QTimer.singleShot(0, self._warn_models)

    def _warn_models(self) -> None:
        """Once both models have loaded or failed: one box for all that failed."""
        if self._unwarned and not self.workers.loading:
            text = "\n\n".join(self._unwarned)
            self._unwarned.clear()
            if self.batch:  # a scripted run: no box to wait on
                for line in text.split("\n\n"):
                    print(f"handwriting-app: warning: {line}", file=sys.stderr)
                return
            QMessageBox.warning(self, "Models not loaded",
                                f"{text}\n\nYou can still draw, open and save ink.")

    def _update_models_label(self) -> None:
        w = self.workers
        parts = [w.models[k].summary if k in w.models else
                 f"{k}: {'loading…' if k in w.loading else 'not loaded'}"
                 for k in ("recognizer", "synthesizer")]
        self.models_label.setText("  ·  ".join(parts))
        self.models_label.setToolTip("\n".join(parts))  # whole, where a narrow window clips

    @Slot(float)
    def on_recognized(self, ms: float) -> None:
        if self.document.transcript:
            self.latency_label.setText(f"recognized in {ms:.0f} ms")

    @Slot(str)
    def on_recognition_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not recognize a line: {message}", 8000)

    @Slot(str)
    def on_status_message(self, text: str) -> None:
        self.models_label.setVisible(not text)
        self.latency_label.setVisible(not text)

    @Slot(str)
    def on_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    # ------------------------------------------------------------------ other slots
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

    @Slot(bool)
    def on_color_by_char(self, on: bool) -> None:
        self.canvas.set_color_by_char(on)
        self.recognized_panel.set_color_by_char(on)

    @Slot(int, int)
    def on_char_hovered(self, line: int, char: int) -> None:
        self.canvas.set_highlight(None if line < 0 else line, None if char < 0 else char)

    @Slot()
    def on_about(self) -> None:
        AboutDialog(self.workers.models, self.workers.errors, self).exec()

    @Slot()
    def on_samples(self) -> None:
        """Open the Samples dialog on the database in the app's data folder."""
        from gui.samples_dialog import SamplesDialog
        from handwriting.samples import SampleStoreError

        try:
            self.samples_dialog = SamplesDialog(self.writers.db_path, self)
        except (SampleStoreError, OSError) as exc:
            QMessageBox.warning(self, "Samples", str(exc))
            return
        self.samples_dialog.base_model = self.workers.base_recognizer
        self.samples_dialog.presets = self.write_panel.presets()
        self.samples_dialog.finished.connect(lambda *_: self.writers.refresh())
        # a writer adapted again while chosen: load their new weights
        self.samples_dialog.adapted.connect(
            lambda name: self.writers.on_style_changed(force=name == self.write_panel.writer()))
        self.samples_dialog.show()

    # ------------------------------------------------------------------ insight dock
    def ensure_insight(self) -> InsightHost | None:
        """The insight dock's host, made on first use (None if it cannot load); its dock's
        toggle action then takes the place of `insight_action`."""
        if self.insight is None and not self._closed:
            try:
                from gui.insight_host import InsightHost
            except ImportError as exc:
                self.insight_action.setEnabled(False)
                self.on_message(f"No insight panels: {exc}")
                return None
            self.insight = InsightHost(self)
        return self.insight

    @Slot(bool)
    def on_show_insight(self, _checked: bool = True) -> None:
        host = self.ensure_insight()
        if host is None:
            self.insight_action.setChecked(False)
        else:
            host.show()

    # ------------------------------------------------------------------ state
    def is_idle(self) -> bool:
        """No model loading, no recognition or synthesis under way (nor the insight dock's
        look at a line)."""
        return not (self.workers.loading or self.recognition.pending or self.typed.running
                    or (self.insight is not None and self.insight.pending))

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Process events until `is_idle()` (for the command line and tests)."""
        deadline = time.monotonic() + timeout_s
        while not self.is_idle() and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.005)
        return self.is_idle()

    def report(self) -> dict:
        """What `--report-json` writes: the recognized text (the recognizer's tokenization,
        one line each), the ink's size and what typed text wrote."""
        ink = self.document.ink
        return {"recognized": self.document.text, "strokes": len(ink),
                "points": ink.num_points, "synthesized_text": self.typed.written_text,
                "synthesized_points": self.typed.written_points}

    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "changed":
            self._update_state()
            self._update_title()

    def _update_title(self) -> None:
        path = self.files.current_path
        name = path.name if path else "Untitled"
        modified = "*" if self.files.is_modified else ""
        self.setWindowTitle(f"{name}{modified} — {APP_NAME}")

    def _update_state(self) -> None:
        doc = self.document
        self.undo_action.setEnabled(doc.can_undo)
        self.undo_action.setText(f"&Undo {doc.undo_label}".rstrip())
        self.redo_action.setEnabled(doc.can_redo)
        self.redo_action.setText(f"&Redo {doc.redo_label}".rstrip())
        empty = doc.ink.is_empty
        for action in (self.clear_action, self.fit_action, self.save_action,
                       self.save_as_action, self.export_action, *self.export_actions.values()):
            action.setEnabled(not empty)
        n = len(doc)
        self.info_label.setText(f"{n} stroke{'' if n == 1 else 's'}  ·  "
                                f"{doc.ink.num_points} points  ·  "
                                f"{round(self.canvas.zoom * 100)} %")
        if empty:
            self.latency_label.clear()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed and not self.files.maybe_save("quitting"):
            event.ignore()  # the user cancelled: keep the window and its ink
            return
        if not self._closed:
            self._closed = True
            if self.finish_work_on_close:
                self.wait_until_idle(30.0)
            self.document.cancel_stroke()
            self.typed.stop()
            if self.insight is not None:
                self.insight.shutdown()
            self.workers.shutdown()
            self.autosave.finish()
            self.prefs.bias = self.write_panel.bias()
            self.prefs.style = self.write_panel.style()
            self.prefs.speed = self.write_panel.speed()
            self.prefs.candidates = self.write_panel.candidates()
            self.prefs.match_hand = self.write_panel.match_hand()
            self.prefs.save()
            store = settings()
            store.setValue("window/geometry", self.saveGeometry())
            store.sync()
        super().closeEvent(event)
