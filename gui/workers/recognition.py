"""The recognition thread's worker: recognition, insight and saliency requests, answered in
order, latest-request-wins (a request that a newer one of its kind overtook before it
started is skipped)."""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from gui.messages import (
    InsightRequest,
    InsightResult,
    LineRequest,
    LineResult,
    RecognitionInsight,
    RecognitionRequest,
    RecognitionResult,
    SaliencyAnswer,
    SaliencyJob,
    SaliencyResult,
    line_key,
)
from gui.workers.base import ModelWorker, error_text, load_service, model_info
from handwriting.grouping import group_lines
from handwriting.ink import Ink, Stroke

RECENT_LINES = 8  # recognitions kept so that a line's insight need not recognize it again


class RecognitionWorker(ModelWorker):
    """Answers recognition, insight and saliency requests in order, skipping those already
    overtaken (`latest*()` give the newest sequence number of each kind)."""

    kind = "recognizer"
    done = Signal(object)  # RecognitionResult
    insight_done = Signal(object)  # InsightResult
    saliency_done = Signal(object)  # SaliencyAnswer
    switch_failed = Signal(str)  # message; the recognizer in use stays

    def __init__(self, latest, folder: Path | None, threads: int | None,
                 latest_insight=lambda: 0, latest_saliency=lambda: 0):
        super().__init__(folder, threads)
        self._latest = latest
        self._latest_insight, self._latest_saliency = latest_insight, latest_saliency
        # line key -> (ink, Recognition); holding the ink keeps the strokes, and so the key
        # (their ids), from being reused while cached
        self._recent: OrderedDict[object, tuple[Ink, object]] = OrderedDict()

    @Slot(object, object)
    def on_switch(self, path: Path | None, writer: str | None) -> None:
        """Recognize with the checkpoint at `path` (a writer's adapted recognizer, in a model
        process of its own) or, for None, the base model. Requests queued before this one
        were answered by the previous model. If the new one fails to load, the previous one
        stays in use and `switch_failed` says why."""
        try:
            service = load_service(self.kind, self._folder, self._threads, path)
        except Exception as exc:  # a missing or corrupt file must not stop recognition
            self.switch_failed.emit(error_text(exc))
            return
        self._service, self._recent = service, OrderedDict()
        self.loaded.emit(dataclasses.replace(model_info(self.kind, service),
                                             adapted_to=writer if path is not None else None))

    @Slot(object)
    def on_request(self, request: RecognitionRequest) -> None:
        if request.seq < self._latest():
            return  # overtaken before it started: nobody will look at the answer
        t0 = time.perf_counter()
        todo, layout = request.lines, None
        if request.page is not None:
            layout = self._layout(request.page)
            todo = tuple(LineRequest(line_key(s), Ink(s)) for s in layout
                         if line_key(s) not in request.known)
        lines = tuple(self._recognize(line) for line in todo)
        self.done.emit(RecognitionResult(request.seq, lines, time.perf_counter() - t0, layout))

    def _layout(self, page: Ink) -> tuple[tuple[Stroke, ...], ...]:
        """The page's lines (`group_lines`), grouped in the recognizer's process; here, in
        this thread, when there is no recognizer to ask."""
        groups = None
        if self._service is not None:
            try:
                groups = self._service.group_lines(page)
            except Exception:  # the model's process went away: the lines are still wanted
                pass
        return tuple(tuple(page.strokes[i] for i in g) for g in groups or group_lines(page))

    def _recognize(self, line: LineRequest) -> LineResult:
        if self._service is None:
            return LineResult(line.key, None, self._error)
        try:
            r = self._service.recognize(line.ink)
        except Exception as exc:  # bad ink, or the service's process went away: report it
            return LineResult(line.key, None, error_text(exc))
        self._recent[line.key] = (line.ink, r)
        while len(self._recent) > RECENT_LINES:
            self._recent.popitem(last=False)
        return LineResult(line.key, r)

    @Slot(object)
    def on_insight(self, request: InsightRequest) -> None:
        """`RecognitionInsight.compute` for one line, reusing its recognition when this worker
        has just made it (the same strokes: the same key)."""
        if request.seq < self._latest_insight():
            return
        t0 = time.perf_counter()
        try:
            if self._service is None:
                raise ValueError(self._error)

            recent = self._recent.get(request.key)
            recognition = (recent[1] if recent is not None
                           else self._service.recognize(request.ink))
            insight = RecognitionInsight(request.ink, recognition,
                                         self._service.inspect(request.ink),
                                         self._service.alphabet.chars)
        except Exception as exc:  # report, never kill the worker thread
            self.insight_done.emit(InsightResult(request.seq, request.key, None,
                                                 error_text(exc), time.perf_counter() - t0))
            return
        self.insight_done.emit(InsightResult(request.seq, request.key, insight, None,
                                             time.perf_counter() - t0))

    @Slot(object)
    def on_saliency(self, job: SaliencyJob) -> None:
        """`Recognizer.saliency` for a `SaliencyRequest` of the insight dock."""
        if job.seq < self._latest_saliency():
            return  # the dock asked for another frame or character since
        req = job.request
        try:
            if self._service is None:
                raise ValueError(self._error)

            ins = req.insight
            magnitude, label = self._service.saliency(ins.ink, ins.inspection, req.frame,
                                                      req.label)
        except Exception as exc:  # report, never kill the worker thread
            self.saliency_done.emit(SaliencyAnswer(req, None, error_text(exc)))
            return
        self.saliency_done.emit(SaliencyAnswer(req, SaliencyResult(req, magnitude, label)))
