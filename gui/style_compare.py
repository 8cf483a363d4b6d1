"""A few words side by side in a stored writer's hand and in each preset style (issue 18):
what priming with the writer's sample changes, at a glance."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.samples_browser import ink_preview
from gui.workers.comparison import ComparisonJob, start_comparison
from handwriting.ink import Ink
from handwriting.results import Prime

COMPARE_TEXT = "Handwriting, written my way"
PREVIEW = QSize(420, 56)
NO_STYLE_LABEL = "No style"


class StyleComparison(QDialog):
    """One row per style: its name and `text` written in it, filled in as each is written."""

    def __init__(self, writer: str, prime: Prime | None, presets, parent:
                 QWidget | None = None, text: str = COMPARE_TEXT, seed: int = 1):
        super().__init__(parent)
        self.setWindowTitle(f"{writer}'s hand and the presets")
        self.inks: dict[str, Ink] = {}
        self.errors: dict[str, str] = {}
        styles = ((NO_STYLE_LABEL, None), *((name, name) for name in sorted(presets)))
        labels = ([f"Writer: {writer}"] if prime is not None else []) + [s[0] for s in styles]
        grid = QGridLayout()
        self._cells: dict[str, QLabel] = {}
        for row, label in enumerate(labels):
            grid.addWidget(QLabel(label), row, 0)
            cell = QLabel("writing…")
            cell.setMinimumSize(PREVIEW)
            grid.addWidget(cell, row, 1)
            self._cells[label] = cell
        self.status = QLabel(f"“{text}”, written in each style (the same seed).")
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(grid)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.done_writing = False
        job = ComparisonJob(text, tuple(styles), prime, labels[0] if prime else "", seed)
        self._thread, self._worker = start_comparison(job, self)
        self._worker.written.connect(self.on_written)
        self._worker.failed.connect(self.on_failed)
        self._worker.finished.connect(self.on_finished)

    def on_written(self, label: str, ink: Ink) -> None:
        self.inks[label] = ink
        self._cells[label].setPixmap(ink_preview(ink, PREVIEW))

    def on_failed(self, label: str, message: str) -> None:
        self.errors[label] = message
        if label in self._cells:
            self._cells[label].setText(f"could not write: {message}")
        else:
            self.status.setText(f"The synthesizer is not available: {message}")

    def on_finished(self) -> None:
        self.done_writing = True

    def done(self, result: int) -> None:  # closing waits for the style being written
        self._thread.quit()
        self._thread.wait(30_000)
        super().done(result)
