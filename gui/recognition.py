"""Live recognition: keeps the document's transcript in step with its ink. After every
committed change (pen-up, erase, undo, open, typed ink) the page goes to the recognition
worker, latest request wins: it is grouped into lines (`handwriting.grouping.group_lines`,
as the CLI reads a page) in the recognizer's process, off the GUI thread, and the lines not
read before are recognized; lines whose strokes did not change keep their text (and the
candidate the user chose). Without a recognizer the lines are grouped here."""

from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gui.messages import RecognitionResult, line_key
from gui.workers.models import ModelWorkers
from handwriting.document import InkDocument, TranscriptLine
from handwriting.edits import DocumentEvent
from handwriting.ink import Stroke
from handwriting.pages import page_lines

CACHE_LINES = 256  # recognized lines kept for reuse (undo and redo bring strokes back)


class LiveRecognition(QObject):
    """Subscribes to `document`, asks `workers` to recognize changed lines and writes the
    result back with `document.set_transcript`. `latency_ms` is the time from the ink change
    to the new transcript."""

    updated = Signal(float)  # milliseconds from the ink change to the new transcript
    failed = Signal(str)  # a line could not be recognized (message)
    lines_changed = Signal()  # the ink was grouped into `lines` anew; `changed` are new

    def __init__(self, document: InkDocument, workers: ModelWorkers,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.workers = workers
        self.enabled = True
        self.latency_ms: float | None = None
        self._cache: OrderedDict[tuple[int, ...], TranscriptLine] = OrderedDict()
        self._layout: list[tuple[Stroke, ...]] = []
        self.changed: list[tuple[Stroke, ...]] = []  # lines not recognized before this change
        self._changed_at = 0.0
        # Coalesce changes that arrive together (open, undo of many) into one request.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.on_request)
        workers.recognized.connect(self.on_recognized)
        workers.model_loaded.connect(self.on_model_loaded)
        unsubscribe = document.subscribe(self._on_document_event)
        self.destroyed.connect(lambda *_: unsubscribe())

    @property
    def lines(self) -> list[tuple[Stroke, ...]]:
        """The page's lines of writing (their strokes), top line first."""
        return list(self._layout)

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or self.workers.recognition_pending

    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "changed" and self.enabled:
            self._changed_at = time.perf_counter()
            self._timer.start()

    @Slot()
    def on_request(self) -> None:
        """Ask the worker to group the page into lines and recognize the lines not seen
        before (`on_recognized` takes the answer); without a recognizer, group it here."""
        ink = self.document.ink
        if "recognizer" not in self.workers.errors and not ink.is_empty:
            self.workers.recognize_page(ink, frozenset(self._cache))
            return
        self.workers.cancel_recognition()
        self._set_layout(page_lines(ink))
        self._publish()

    def _set_layout(self, layout: list[tuple[Stroke, ...]]) -> None:
        self._layout = layout
        self.changed = [s for s in layout if line_key(s) not in self._cache]
        self.lines_changed.emit()

    @Slot(object)
    def on_model_loaded(self, info) -> None:
        """Another recognizer (a writer's adapted one, or the base model again): what the
        previous one read is read again."""
        if info.kind == "recognizer" and self._cache:
            self._cache.clear()
            self._changed_at = time.perf_counter()
            self._timer.start()

    @Slot(object)
    def on_recognized(self, result: RecognitionResult) -> None:
        if result.layout is not None:
            self._set_layout(list(result.layout))
        strokes = {line_key(s): s for s in self._layout}
        for line in result.lines:
            if line.error is not None:
                self.failed.emit(line.error)
            elif line.key in strokes and line.recognition.nbest:
                self._cache[line.key] = TranscriptLine(strokes[line.key], line.recognition)
        self._publish()

    def _publish(self) -> None:
        chosen = {line_key(t.strokes): t for t in self.document.transcript}
        lines = []
        for strokes in self._layout:
            key = line_key(strokes)
            line = self._cache.get(key)
            if line is None:
                continue
            self._cache.move_to_end(key)
            before = chosen.get(key)
            if before is not None and before.candidates == line.candidates:
                line = before  # keep the candidate the user picked
            lines.append(line)
        while len(self._cache) > CACHE_LINES:
            self._cache.popitem(last=False)
        # From the change, or from the moment the model was ready if it was still loading.
        since = max(self._changed_at, self.workers.loaded_at.get("recognizer", 0.0))
        self.latency_ms = 1000 * (time.perf_counter() - since)
        self.document.set_transcript(lines)
        self.updated.emit(self.latency_ms)
