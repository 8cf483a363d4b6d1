"""The "Samples" dialog: write a prompt sentence in your own hand and save it to the sample
store (`handwriting.samples`), one click per sample. Choose or type a writer's name; the
prompts cycle through sentences that cover the alphabet, digits and punctuation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.canvas import InkCanvas
from handwriting.document import InkDocument
from handwriting.samples import PROMPTS, SampleStore, default_db_path


class SamplesDialog(QDialog):
    """Collects samples for one writer at a time into the database at `db_path`."""

    def __init__(self, db_path: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Samples: your own handwriting")
        self.store = SampleStore(db_path or default_db_path())
        self.document = InkDocument()
        self._prompt_index = 0

        self.writer_box = QComboBox(editable=True)
        self.writer_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.writer_box.lineEdit().setPlaceholderText("your name")
        self.count_label = QLabel()
        self.prompt_label = QLabel()
        font = QFont(self.prompt_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.prompt_label.setFont(font)
        self.prompt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas = InkCanvas(self.document)
        self.canvas.setMinimumSize(640, 180)
        self.save_button = QPushButton("Save sample")
        self.save_button.setDefault(True)
        clear_button = QPushButton("Clear")
        next_button = QPushButton("Next prompt")
        close_button = QPushButton("Close")

        top = QHBoxLayout()
        top.addWidget(QLabel("Writer:"))
        top.addWidget(self.writer_box, 1)
        top.addWidget(self.count_label)
        buttons = QHBoxLayout()
        for b in (clear_button, next_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("Write this sentence below:"))
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(buttons)

        self.save_button.clicked.connect(self.on_save)
        clear_button.clicked.connect(self.on_clear)
        next_button.clicked.connect(self.on_next_prompt)
        close_button.clicked.connect(self.accept)
        self.writer_box.currentTextChanged.connect(self.on_writer_changed)
        self.finished.connect(lambda *_: self.store.close())
        self._reload_writers()
        self._show_prompt()

    @property
    def prompt(self) -> str:
        return PROMPTS[self._prompt_index % len(PROMPTS)]

    def _reload_writers(self) -> None:
        current = self.writer_box.currentText()
        self.writer_box.blockSignals(True)
        self.writer_box.clear()
        self.writer_box.addItems([w.name for w in self.store.writers()])
        self.writer_box.setEditText(current)
        self.writer_box.blockSignals(False)
        self.on_writer_changed(current)

    def _show_prompt(self) -> None:
        self.prompt_label.setText(self.prompt)

    @Slot(str)
    def on_writer_changed(self, name: str) -> None:
        known = {w.name: w for w in self.store.writers()}
        n = len(self.store.samples(known[name].id)) if name.strip() in known else 0
        self.count_label.setText(f"{n} sample{'s' if n != 1 else ''}")

    @Slot()
    def on_clear(self) -> None:
        self.document.clear()

    @Slot()
    def on_next_prompt(self) -> None:
        self._prompt_index += 1
        self._show_prompt()
        self.document.clear()

    @Slot()
    def on_save(self) -> bool:
        """Store the canvas's ink with the prompt as its text (creating the writer on first
        use), then clear the canvas and show the next prompt."""
        name = self.writer_box.currentText().strip()
        if not name:
            QMessageBox.warning(self, "Samples", "Type your name first: samples belong to a writer.")
            return False
        if self.document.ink.is_empty:
            QMessageBox.warning(self, "Samples", "Write the sentence on the canvas first.")
            return False
        try:
            if name not in {w.name for w in self.store.writers()}:
                self.store.add_writer(name)
            self.store.add_sample(name, self.document.ink, self.prompt, device="app")
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self, "Samples", f"Could not save the sample: {exc}")
            return False
        self._reload_writers()
        self.on_next_prompt()
        return True
