"""The "Samples" dialog: write a prompt sentence in your own hand and save it to the sample
store (`handwriting.samples`), one click per sample; browse a writer's samples, rename,
delete, export and import writers; and adapt the recognizer to a writer (in a child process:
`gui.workers.adaptation`). Choose or type a writer's name; the prompts cycle through
sentences that cover the alphabet, digits and punctuation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.canvas import InkCanvas
from gui.samples_browser import SamplesBrowser
from gui.workers.adaptation import AdaptationProcess
from handwriting.appdata import adapted_model_path, default_db_path
from handwriting.document import InkDocument
from handwriting.samples import PROMPTS, SampleStore

STAGES = {"measuring": "Measuring the error rate…", "adapting": "Adapting: step {step} of {steps}",
          "saving": "Saving…"}


class SamplesDialog(QDialog):
    """Collects and browses samples for one writer at a time in the database at `db_path`,
    and adapts the recognizer to them (`base_model`: the checkpoint to start from; None: the
    CLI's default). `adapted(name)` follows a finished adaptation."""

    adapted = Signal(str)

    def __init__(self, db_path: str | Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Samples: your own handwriting")
        self.store = SampleStore(db_path or default_db_path())
        self.document = InkDocument()
        self.base_model: Path | None = None
        self.adapt_steps: int | None = None  # None: the CLI's default
        self.presets: tuple[str, ...] = ()  # the synthesizer's style presets, to compare with
        self.comparison = None  # the open StyleComparison, if any
        self._prompt_index = 0
        self.adaptation = AdaptationProcess(self)
        self._adapting: str | None = None  # the writer being adapted

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
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this writer's samples as a zip of InkML files")
        import_button = QPushButton("Import…")
        import_button.setToolTip("Add a writer from a zip made by Export")
        self.browser = SamplesBrowser(self.store)
        self.adapt_button = QPushButton("Adapt recognizer")
        self.adapt_button.setToolTip(
            "Fine-tune a copy of the recognizer on this writer's samples (a minute or two). "
            "The app reads with it while this writer is chosen in the Style control.")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.compare_button = QPushButton("Compare styles…")
        self.compare_button.setToolTip("A few words in this writer's hand beside the presets")
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.adapt_label = QLabel()
        self.adapt_label.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Writer:"))
        top.addWidget(self.writer_box, 1)
        top.addWidget(self.count_label)
        for b in (self.rename_button, self.delete_button, self.export_button, import_button):
            top.addWidget(b)
        buttons = QHBoxLayout()
        for b in (clear_button, next_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        write_tab = QWidget()
        write = QVBoxLayout(write_tab)
        write.addWidget(QLabel("Write this sentence below:"))
        write.addWidget(self.prompt_label)
        write.addWidget(self.canvas, 1)
        write.addLayout(buttons)
        self.tabs = QTabWidget()
        self.tabs.addTab(write_tab, "Write a sample")
        self.tabs.addTab(self.browser, "Browse samples")
        adapt_row = QHBoxLayout()
        adapt_row.addWidget(self.adapt_button)
        adapt_row.addWidget(self.cancel_button)
        adapt_row.addWidget(self.progress_bar, 4)
        adapt_row.addStretch(1)  # the buttons keep their size while the bar is hidden
        adapt_row.addWidget(self.compare_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.adapt_label, 1)
        bottom.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(adapt_row)
        layout.addLayout(bottom)

        self.save_button.clicked.connect(self.on_save)
        clear_button.clicked.connect(self.on_clear)
        next_button.clicked.connect(self.on_next_prompt)
        close_button.clicked.connect(self.accept)
        self.rename_button.clicked.connect(self.on_rename)
        self.delete_button.clicked.connect(self.on_delete_writer)
        self.export_button.clicked.connect(self.on_export)
        import_button.clicked.connect(self.on_import)
        self.adapt_button.clicked.connect(self.on_adapt)
        self.compare_button.clicked.connect(self.on_compare)
        self.cancel_button.clicked.connect(self.adaptation.cancel)
        self.adaptation.progress.connect(self.on_adapt_progress)
        self.adaptation.finished.connect(self.on_adapt_finished)
        self.adaptation.failed.connect(self.on_adapt_failed)
        self.adaptation.cancelled.connect(self.on_adapt_cancelled)
        self.browser.changed.connect(lambda: self.on_writer_changed(self.writer_name()))
        self.writer_box.currentTextChanged.connect(self.on_writer_changed)
        self.finished.connect(self._on_finished)
        self._reload_writers()
        self._show_prompt()

    @property
    def prompt(self) -> str:
        return PROMPTS[self._prompt_index % len(PROMPTS)]

    def writer_name(self) -> str:
        return self.writer_box.currentText().strip()

    def known_writer(self) -> str | None:
        """The writer named in the box, if stored."""
        name = self.writer_name()
        return name if name in {w.name for w in self.store.writers()} else None

    def _reload_writers(self, current: str | None = None) -> None:
        current = self.writer_box.currentText() if current is None else current
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
        name = name.strip()
        n = len(self.store.samples(known[name].id)) if name in known else 0
        self.count_label.setText(f"{n} sample{'s' if n != 1 else ''}")
        for b in (self.rename_button, self.delete_button, self.export_button):
            b.setEnabled(name in known)
        self.adapt_button.setEnabled(n > 0 and self._adapting is None)
        self.compare_button.setEnabled(n > 0)
        self.browser.show_writer(name if name in known else None)
        if self._adapting is None:
            self.adapt_label.setText(self._adaptation_note(known.get(name)))

    def _adaptation_note(self, writer) -> str:
        if writer is None:
            return ""
        path = adapted_model_path(self.store.path, writer.id)
        if not path.is_file():
            return f"{writer.name} has no adapted recognizer yet."
        return (f"{writer.name} has an adapted recognizer: the app reads with it while "
                f"'Writer: {writer.name}' is chosen in the Style control.")

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

    # ------------------------------------------------------------------ writers
    @Slot()
    def on_rename(self) -> bool:
        old = self.known_writer()
        if old is None:
            return False
        new, ok = QInputDialog.getText(self, "Rename writer", f"New name for {old}:", text=old)
        if not ok or not new.strip() or new.strip() == old:
            return False
        try:
            self.store.rename_writer(old, new)
        except ValueError as exc:
            QMessageBox.warning(self, "Samples", str(exc))
            return False
        self._reload_writers(new.strip())
        return True

    @Slot()
    def on_delete_writer(self) -> bool:
        name = self.known_writer()
        if name is None or name == self._adapting:
            return False
        n = len(self.store.samples(name))
        answer = QMessageBox.question(
            self, "Delete writer", f"Delete {name} and their {n} sample"
            f"{'s' if n != 1 else ''}? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.store.delete_writer(name)
        self._reload_writers("")
        return True

    @Slot()
    def on_export(self) -> Path | None:
        name = self.known_writer()
        if name is None:
            return None
        path, _ = QFileDialog.getSaveFileName(self, f"Export {name}'s samples",
                                              str(Path.home() / f"{name}.zip"),
                                              "Zip of InkML files (*.zip)")
        if not path:
            return None
        try:
            n = self.store.export_writer(name, path)
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self, "Samples", f"Could not export {name}: {exc}")
            return None
        self.adapt_label.setText(f"Wrote {n} sample{'s' if n != 1 else ''} to {path}")
        return Path(path)

    @Slot()
    def on_import(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a writer", str(Path.home()),
                                              "Zip of InkML files (*.zip)")
        if not path:
            return None
        try:
            writer = self.store.import_writer(path)
        except ValueError as exc:
            if "already exists" not in str(exc):
                QMessageBox.warning(self, "Samples", f"Could not import {path}: {exc}")
                return None
            name, ok = QInputDialog.getText(self, "Import a writer",
                                            f"{exc}. Import as:")
            if not ok or not name.strip():
                return None
            try:
                writer = self.store.import_writer(path, name)
            except ValueError as exc2:
                QMessageBox.warning(self, "Samples", f"Could not import {path}: {exc2}")
                return None
        except OSError as exc:
            QMessageBox.warning(self, "Samples", f"Could not import {path}: {exc}")
            return None
        self._reload_writers(writer.name)
        self.tabs.setCurrentWidget(self.browser)
        return writer.name

    # ------------------------------------------------------------------ adaptation
    @Slot()
    def on_compare(self) -> bool:
        """Open the side-by-side view of the writer in the box and the presets."""
        from gui.style_compare import COMPARE_TEXT, StyleComparison
        from handwriting.samples import writer_prime

        name = self.known_writer()
        if name is None:
            return False
        prime = writer_prime(self.store.samples(name), COMPARE_TEXT)
        self.comparison = StyleComparison(name, prime, self.presets, self)
        self.comparison.show()
        return True

    def on_adapt(self) -> bool:
        """Adapt the recognizer to the writer in the box, in a child process."""
        name = self.known_writer()
        if name is None or self.adaptation.running:
            return False
        output = adapted_model_path(self.store.path, self.store.writer(name).id)
        self._adapting = name
        self.adaptation.start(self.store.path, name, output, self.base_model, self.adapt_steps)
        self.adapt_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setRange(0, 0)  # busy until the first step
        self.progress_bar.setVisible(True)
        self.adapt_label.setText(f"Adapting the recognizer to {name}: starting…")
        return True

    @Slot(str, int, int)
    def on_adapt_progress(self, stage: str, step: int, steps: int) -> None:
        if stage == "adapting" and steps:
            self.progress_bar.setRange(0, steps)
            self.progress_bar.setValue(step)
        text = STAGES.get(stage, stage).format(step=step, steps=steps)
        self.adapt_label.setText(f"{self._adapting}: {text}")

    def _adapt_ended(self, text: str) -> None:
        self._adapting = None
        self.cancel_button.setEnabled(False)
        self.progress_bar.setVisible(False)
        self.on_writer_changed(self.writer_name())
        self.adapt_label.setText(text)

    @Slot(dict)
    def on_adapt_finished(self, summary: dict) -> None:
        name = self._adapting
        self._adapt_ended(
            f"Adapted to {name}: character error rate on their samples "
            f"{100 * summary['cer_before']:.1f} % before, {100 * summary['cer_after']:.1f} % "
            f"after ({summary['steps']} steps, {summary['seconds']:.0f} s). Choose "
            f"'Writer: {name}' in the Style control to read with it.")
        self.adapted.emit(name)

    @Slot(str)
    def on_adapt_failed(self, message: str) -> None:
        self._adapt_ended(f"Adaptation failed: {message}")

    @Slot()
    def on_adapt_cancelled(self) -> None:
        self._adapt_ended("Adaptation cancelled: the recognizer is as it was.")

    def _on_finished(self, *_) -> None:
        if self.adaptation.running:  # closing the dialog ends its adaptation
            self.adaptation.cancel()
            self.adaptation.wait()
        self.store.close()
