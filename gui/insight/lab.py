"""The LSTM lab: train the tiny counting LSTM (`handwriting.lab`, Edwin Chen's a^n X b^n $
task) in a background thread (`gui.workers.lab.LabTraining`), then watch its cells read a string
of your choice; the unit that learned to count is found by correlation and outlined."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QCoreApplication, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.insight.blocks import add_export_action
from gui.insight.plots import HeatmapView, LinePlotView
from gui.workers.lab import LabTraining
from handwriting.counting import count_signal, counting_string
from handwriting.figures.palette import diverging01
from handwriting.traces import diverging_rgb


class LstmLabPanel(QWidget):
    """Train button with progress, a string to read, the cells' heatmap over its characters
    (the counting unit outlined) and that unit's cell state against the true count."""

    trained = Signal()

    def __init__(self, parent: QWidget | None = None, steps: int = 1500):
        super().__init__(parent)
        self.model = None
        self.units = None
        self.training_run = LabTraining(self)
        self.training_run.progress.connect(self.on_progress)
        self.training_run.finished.connect(self.on_trained)
        self.training_run.failed.connect(self.on_failed)

        self.train_button = QPushButton("Train counting LSTM")
        self.steps_box = QSpinBox()
        self.steps_box.setRange(50, 20000)
        self.steps_box.setSingleStep(250)
        self.steps_box.setValue(steps)
        self.steps_box.setSuffix(" steps")
        self.progress = QProgressBar()
        self.progress.setRange(0, steps)
        self.status = QLabel("Learns strings a\u207fXb\u207f$: to know where the b's end it "
                             "must count the a's. Train it, then look for the counter.")
        self.status.setWordWrap(True)
        self.text_edit = QLineEdit(counting_string(8))
        self.text_edit.setPlaceholderText("a string of a, X, b, $")
        self.heatmap = HeatmapView()
        self.heatmap.axis_label = "character"
        self.heatmap.margins = (70, 20, 12, 30)
        self.heatmap.colorbar = (diverging01, ["+1", "0", "-1"], "c / max")
        self.trace = LinePlotView(self.heatmap.cursor)
        self.trace.y_range, self.trace.y_ticks = (-1.0, 1.0), (-1.0, 0.0, 1.0)
        self.trace.axis_label = "character"
        self.trace.setMinimumHeight(120)

        top = QHBoxLayout()
        top.addWidget(self.train_button)
        top.addWidget(self.steps_box)
        top.addWidget(self.progress, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Read:"))
        row.addWidget(self.text_edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(row)
        layout.addWidget(self.heatmap, 3)
        layout.addWidget(self.trace, 2)

        self.train_button.clicked.connect(self.on_train)
        app = QCoreApplication.instance()
        if app is not None:  # never leave a running QThread behind at exit
            app.aboutToQuit.connect(self.shutdown)
        self.text_edit.textChanged.connect(self.on_text_changed)
        add_export_action(self)
        self.show_text()

    # ------------------------------------------------------------------ training
    @property
    def training(self) -> bool:
        return self.training_run.running

    @Slot()
    def on_train(self) -> None:
        if self.training:
            self.training_run.stop()
            self.train_button.setEnabled(False)
            return
        steps = self.steps_box.value()
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.train_button.setText("Stop")
        self.training_run.start(steps)

    @Slot(object)
    def on_progress(self, p) -> None:
        self.progress.setValue(p.step)
        self.status.setText(f"step {p.step}: loss {p.loss:.3f}, strings fully right "
                            f"{100 * p.score.exact:.0f} %, end '$' right "
                            f"{100 * p.score.end_accuracy:.0f} %")

    @Slot(object, object)
    def on_trained(self, model, units) -> None:
        self._reset_button()
        self.model, self.units = model, units
        self.progress.setValue(self.progress.maximum())  # it stops early once it is right
        if units is not None:
            self.status.setText(self.status.text() + f"  \u2014  counting unit: {units.units[0]} "
                                f"(r = {units.correlations[0]:+.2f} with a's minus b's)")
        self.show_text()
        self.trained.emit()

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self._reset_button()
        self.status.setText(f"Training failed: {message}")

    def _reset_button(self) -> None:
        self.train_button.setText("Train counting LSTM")
        self.train_button.setEnabled(True)

    @Slot()
    def shutdown(self) -> None:
        """Stop a training run and its thread (also called when the app quits)."""
        self.training_run.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ reading
    @Slot(str)
    def on_text_changed(self, _text: str) -> None:
        self.show_text()

    def show_text(self) -> None:
        text = self.text_edit.text()
        self.heatmap.chars = [(k, c) for k, c in enumerate(text)]
        self.trace.chars = self.heatmap.chars
        if self.model is None or not text:
            self.heatmap.title = "cell states appear here after training"
            self.heatmap.set_image(None)
            self.trace.n_cols, self.trace.series = 0, []
            self.trace.invalidate()
            return
        try:
            from handwriting.lab import record_counting  # torch: loaded with the model

            rec = record_counting(self.model, text)  # a few hundred flops: fine in the GUI
        except ValueError as exc:
            self.heatmap.title = str(exc)
            self.heatmap.set_image(None)
            return
        c = rec.cell.c  # (T, H)
        scale = np.maximum(np.abs(c).max(0), 1e-6)
        self.heatmap.row_labels = [(u, f"unit {u}") for u in range(c.shape[1])]
        best = int(self.units.units[0]) if self.units is not None else None
        self.heatmap.highlight = None
        if best is not None:
            self.heatmap.row_labels[best] = (best, "")
            self.heatmap.highlight = (best, f"counter {best}")
        self.heatmap.title = ("cell state c of each unit (scaled by its max) while reading "
                              "the string")
        self.heatmap.set_image(diverging_rgb((c / scale).T))
        count = count_signal(text)
        series = [(count / max(np.abs(count).max(), 1.0), QColor(120, 126, 136), 1.5)]
        if best is not None:
            series.append((c[:, best] / scale[best], QColor(214, 39, 40), 2.0))
        self.trace.series = series
        self.trace.n_cols = len(text)
        self.trace.title = ("grey: a's read minus b's read (scaled); red: the counting unit's c"
                            if best is not None else "grey: a's read minus b's read (scaled)")
        self.trace.invalidate()
