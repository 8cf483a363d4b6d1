"""The sample store's writers in the main window: the style control lists them, writing in a
writer's style primes the synthesizer with their sample that covers most of the text's
characters (Graves 2013, §5.5), and choosing a writer there switches recognition to the
recognizer adapted to them (`handwriting adapt`), or back to the base model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from gui.panels import WritePanel
from gui.workers.models import ModelWorkers
from handwriting.alphabet import detokenize
from handwriting.appdata import adapted_model_path, default_db_path
from handwriting.ink import Ink
from handwriting.results import Prime
from handwriting.samples import SampleStore, SampleStoreError, writer_prime


def canvas_prime(transcript) -> Prime | None:
    """*Use my handwriting*: the longest recognized line on the canvas, its recognized text,
    and every recognized line to measure the hand on; None before a line is recognized."""
    lines = [(Ink(t.strokes), detokenize(t.text)) for t in transcript if t.text.strip()]
    if not lines:
        return None
    ink, text = max(lines, key=lambda line: line[0].num_points)
    return Prime(ink, text, tuple(lines))


class WriterStyles(QObject):
    """Keeps `panel`'s writer entries in step with the database at `db_path` (default: the
    app-data one the Samples dialog uses) and `workers`' recognizer with the chosen writer.
    `recognizer_path` is the adapted checkpoint in use, None for the base model."""

    message = Signal(str)  # for the status bar

    def __init__(self, panel: WritePanel, workers: ModelWorkers,
                 db_path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.panel, self.workers = panel, workers
        self.db_path = Path(db_path) if db_path is not None else default_db_path()
        self.recognizer_path: Path | None = None
        self._reported: str | None = None  # a database error, reported once
        panel.style_changed.connect(self.on_style_changed)

    def _store(self) -> SampleStore | None:
        """The store, or None when there is none yet (it is not created just to be read)."""
        if not self.db_path.is_file():
            return None
        try:
            return SampleStore(self.db_path)
        except (SampleStoreError, OSError) as exc:
            if str(exc) != self._reported:
                self._reported = str(exc)
                self.message.emit(f"No stored writers: {exc}")
            return None

    def names(self) -> list[str]:
        store = self._store()
        if store is None:
            return []
        with store:
            return [w.name for w in store.writers()]

    def refresh(self, current: str | None = None) -> None:
        """List the stored writers again (after the Samples dialog changed them), keeping the
        chosen style (or choosing `current`) where it still exists."""
        self.panel.set_writers(self.names(), current)
        self.on_style_changed(self.panel.style())

    def choose(self, writer: str) -> bool:
        """Choose `writer` in the style control (as a click would); False if not stored."""
        self.refresh()
        index = self.panel.style_combo.findData(writer)
        if index < 0:
            return False
        self.panel.style_combo.setCurrentIndex(index)
        return True

    def prime(self, writer: str, text: str) -> Prime | None:
        """`writer`'s sample best for writing `text`, with all their lines to measure their
        hand on (`samples.writer_prime`); None if no sample has text."""
        store = self._store()
        if store is None:
            return None
        with store:
            try:
                return writer_prime(store.samples(writer), text)
            except ValueError:  # renamed or deleted meanwhile
                return None

    def adapted_path(self, writer: str) -> Path | None:
        """`writer`'s adapted recognizer, when `handwriting adapt` has made one."""
        store = self._store()
        if store is None:
            return None
        with store:
            try:
                path = adapted_model_path(self.db_path, store.writer(writer).id)
            except ValueError:
                return None
        return path if path.is_file() else None

    @Slot(str)
    def on_style_changed(self, _style: str = "", force: bool = False) -> None:
        """Recognize with the chosen writer's adapted recognizer, else with the base model;
        `force`: restart it even if the path is the same (the file was adapted again)."""
        writer = self.panel.writer()
        path = self.adapted_path(writer) if writer else None
        if path == self.recognizer_path and not force:
            return
        self.recognizer_path = path
        self.workers.use_recognizer(path, writer)
        self.message.emit(f"Recognizer: adapted to {writer}" if path is not None
                          else "Recognizer: the base model" + (
                              f" ({writer} has no adapted recognizer: File > Handwriting "
                              "Samples, Adapt recognizer)" if writer else ""))
