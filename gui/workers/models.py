"""`ModelWorkers`: the GUI thread's handle on the recognition and synthesis threads. It
numbers requests, drops answers that are not the newest, cancels synthesis, and turns the
workers' signals into its own, all delivered in the GUI thread."""

from __future__ import annotations

import gc
import itertools
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.messages import (
    InsightRequest,
    InsightResult,
    LineRequest,
    ModelInfo,
    RecognitionRequest,
    RecognitionResult,
    SaliencyJob,
    SynthesisBatch,
    SynthesisDone,
    SynthesisJob,
    SynthesisStarted,
)
from gui.workers.base import SHUTDOWN_WAIT_MS, base_model_path
from gui.workers.recognition import RecognitionWorker
from gui.workers.synthesis import SynthesisWorker
from handwriting.ink import Ink
from handwriting.results import Prime

_still_running: set[QThread] = set()


def _outlive_parent(thread: QThread) -> None:
    """A thread still waiting on its model process (a long call on a busy machine) when the
    window goes: detach it from the window, whose deletion would otherwise destroy a running
    QThread (Qt aborts the process), and drop it once it has finished its call."""
    thread.setParent(None)
    _still_running.add(thread)
    thread.finished.connect(lambda t=thread: (_still_running.discard(t), t.deleteLater()))


class ModelWorkers(QObject):
    """The GUI thread's handle on the workers. Start it once; every signal arrives in the GUI
    thread. `models` is the folder with recognizer.pt and synthesizer.pt (default: the
    service's `models_dir()`)."""

    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str, str)  # kind, message
    recognized = Signal(object)  # RecognitionResult, only the newest request's
    recognition_dropped = Signal(int)  # seq of a stale result that was thrown away
    insight_ready = Signal(object)  # InsightResult, only the newest request's
    saliency_ready = Signal(object)  # SaliencyAnswer
    synthesis_started = Signal(object)  # SynthesisStarted
    synthesis_points = Signal(object)  # SynthesisBatch
    synthesis_finished = Signal(object)  # SynthesisDone
    recognizer_switch_failed = Signal(str)  # message; the recognizer in use stays

    _load_recognizer = Signal()
    _load_synthesizer = Signal()
    _switch_recognizer = Signal(object, object)  # checkpoint path or None, writer name
    _recognize = Signal(object)
    _inspect = Signal(object)
    _saliency = Signal(object)
    _synthesize = Signal(object)

    def __init__(self, models: Path | None = None, threads: int | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.folder = models
        self._seq = 0  # newest recognition request (written here, read by the worker)
        self._answered = 0
        self._insight_seq = 0  # newest insight request, and the last one answered
        self._insight_answered = 0
        self._saliency_seq = 0
        self._jobs = itertools.count(1)
        self._job = 0  # the synthesis job whose signals we pass on
        self._running_job: int | None = None
        self._cancel_upto = 0  # synthesis jobs up to this id are cancelled (read by the worker)
        # Whether synthesis jobs send the sampler's frames too (the insight dock sets it: only
        # its panels read them, and at instant speed they are ~7,000 a second).
        self.wants_frames = lambda: True
        self.dropped = 0
        self.loading = {"recognizer", "synthesizer"}
        self.models: dict[str, ModelInfo] = {}
        self.errors: dict[str, str] = {}
        self.loaded_at: dict[str, float] = {}  # time.perf_counter() when each model was ready

        self._threads = [QThread(self), QThread(self)]
        self._threads[0].setObjectName("recognition")
        self._threads[1].setObjectName("synthesis")
        self._rec = RecognitionWorker(lambda: self._seq, models, threads,
                                       lambda: self._insight_seq, lambda: self._saliency_seq)
        self._syn = SynthesisWorker(lambda job: job <= self._cancel_upto, models, threads)
        for worker, thread in zip((self._rec, self._syn), self._threads, strict=True):
            worker.moveToThread(thread)
            thread.finished.connect(worker.deleteLater)
        self._load_recognizer.connect(self._rec.on_load)
        self._load_synthesizer.connect(self._syn.on_load)
        self._recognize.connect(self._rec.on_request)
        self._inspect.connect(self._rec.on_insight)
        self._switch_recognizer.connect(self._rec.on_switch)
        self._rec.switch_failed.connect(self._on_switch_failed)
        self._saliency.connect(self._rec.on_saliency)
        self._synthesize.connect(self._syn.on_job)
        self._rec.loaded.connect(self._on_loaded)
        self._syn.loaded.connect(self._on_loaded)
        # Bound slots, not lambdas: a lambda runs in the worker's thread, which then changed
        # `loading` while the GUI thread read it (one model's failure went unreported).
        self._rec.failed.connect(self._on_recognizer_failed)
        self._syn.failed.connect(self._on_synthesizer_failed)
        self._rec.done.connect(self._on_recognized)
        self._rec.insight_done.connect(self._on_insight)
        self._rec.saliency_done.connect(self.saliency_ready)
        self._syn.started.connect(self._on_synthesis_started)
        self._syn.points.connect(self._on_synthesis_points)
        self._syn.done.connect(self._on_synthesis_done)
        self._started = False
        self._frozen = False  # see _settle_heap

    def start(self) -> None:
        """Start both threads; each loads its model first."""
        if self._started:
            return
        self._started = True
        for thread in self._threads:
            thread.start()
        self._load_recognizer.emit()
        self._load_synthesizer.emit()

    def shutdown(self) -> None:
        """Cancel synthesis, let the threads finish what they are doing, and stop them."""
        self._cancel_upto = 2**62
        self._seq += 1  # queued recognition requests become stale
        self._insight_seq += 1
        self._saliency_seq += 1
        for thread in self._threads:
            thread.quit()
        for thread in self._threads:
            if not thread.wait(SHUTDOWN_WAIT_MS):
                _outlive_parent(thread)
        if self._frozen:  # what this window held may be garbage now
            self._frozen = False
            gc.unfreeze()

    # ------------------------------------------------------------------ state
    @property
    def recognition_pending(self) -> bool:
        return self._answered < self._seq

    @property
    def synthesis_running(self) -> bool:
        return self._running_job is not None

    @property
    def busy(self) -> bool:
        return bool(self.loading) or self.recognition_pending or self.synthesis_running

    # ------------------------------------------------------------------ recognition
    def recognize(self, lines: list[LineRequest]) -> int:
        """Queue a request; returns its sequence number. Older requests become stale."""
        self._seq += 1
        self._recognize.emit(RecognitionRequest(self._seq, tuple(lines)))
        return self._seq

    def recognize_page(self, page: Ink, known: frozenset) -> int:
        """Queue a page: the worker groups it into lines and recognizes the lines whose
        `line_key` is not in `known`; the result's `layout` holds the lines."""
        self._seq += 1
        self._recognize.emit(RecognitionRequest(self._seq, (), page, known))
        return self._seq

    def cancel_recognition(self) -> None:
        """Make every request in flight stale (the ink changed and needs no new request)."""
        self._seq += 1
        self._answered = self._seq

    @Slot(object)
    def _on_recognized(self, result: RecognitionResult) -> None:
        if result.seq != self._seq:
            self.dropped += 1
            self.recognition_dropped.emit(result.seq)
            return
        self._answered = result.seq
        self.recognized.emit(result)

    def use_recognizer(self, path: Path | None, writer: str | None = None) -> None:
        """Recognize with the checkpoint at `path` (`writer`'s adapted recognizer) from now
        on, or with the base model for None: its model process starts in the recognition
        thread; `model_loaded` reports it (`ModelInfo.adapted_to` names the writer)."""
        self.loading.add("recognizer")
        self._switch_recognizer.emit(path, writer)

    @property
    def base_recognizer(self) -> Path:
        """The base recognizer's checkpoint (what a writer's adaptation starts from)."""
        return base_model_path("recognizer", self.folder)

    def _on_switch_failed(self, message: str) -> None:
        self.loading.discard("recognizer")
        self.recognizer_switch_failed.emit(message)

    # ------------------------------------------------------------------ insight
    @property
    def insight_pending(self) -> bool:
        return self._insight_answered < self._insight_seq

    def inspect_line(self, key: object, ink: Ink) -> int:
        """Queue a look inside the recognizer on one line (`InsightRequest`); returns its
        sequence number. Older insight requests become stale."""
        self._insight_seq += 1
        self._inspect.emit(InsightRequest(self._insight_seq, key, ink))
        return self._insight_seq

    def cancel_insight(self) -> None:
        self._insight_seq += 1
        self._insight_answered = self._insight_seq

    def saliency(self, request) -> int:
        """Queue a `gui.insight.SaliencyRequest`; the answer comes as `saliency_ready`.
        Older saliency requests that have not started are skipped."""
        self._saliency_seq += 1
        self._saliency.emit(SaliencyJob(self._saliency_seq, request))
        return self._saliency_seq

    @Slot(object)
    def _on_insight(self, result: InsightResult) -> None:
        if result.seq != self._insight_seq:
            return
        self._insight_answered = result.seq
        self.insight_ready.emit(result)

    # ------------------------------------------------------------------ synthesis
    def synthesize(self, text: str, bias: float = 0.75, style: str | None = None,
                   prime: Prime | None = None, seed: int | None = None,
                   page: Ink | None = None, candidates: int = 1) -> int:
        """Queue a synthesis job (cancelling the one running); returns its job id. The
        `page`'s writing height comes back with `synthesis_started`."""
        job = next(self._jobs)
        self._cancel_upto = job - 1
        self._job = job
        self._running_job = job
        self._synthesize.emit(SynthesisJob(job, text, bias, style, prime, seed, page,
                                           self.wants_frames(), candidates))
        return job

    def stop_synthesis(self) -> None:
        if self._running_job is not None:
            self._cancel_upto = self._running_job

    @Slot(object)
    def _on_synthesis_started(self, started: SynthesisStarted) -> None:
        if started.job == self._job:
            self.synthesis_started.emit(started)

    @Slot(object)
    def _on_synthesis_points(self, batch: SynthesisBatch) -> None:
        if batch.job == self._job:
            self.synthesis_points.emit(batch)

    @Slot(object)
    def _on_synthesis_done(self, done: SynthesisDone) -> None:
        if done.job == self._job:
            self._running_job = None
            self.synthesis_finished.emit(done)

    # ------------------------------------------------------------------ loading
    @Slot(object)
    def _on_loaded(self, info: ModelInfo) -> None:
        self.loading.discard(info.kind)
        self.errors.pop(info.kind, None)  # a later load (a switch of recognizer) worked
        self.models[info.kind] = info
        self.loaded_at[info.kind] = time.perf_counter()
        self.model_loaded.emit(info)
        self._settle_heap()

    @Slot(str)
    def _on_recognizer_failed(self, message: str) -> None:
        self._on_failed("recognizer", message)

    @Slot(str)
    def _on_synthesizer_failed(self, message: str) -> None:
        self._on_failed("synthesizer", message)

    def _on_failed(self, kind: str, message: str) -> None:
        self.loading.discard(kind)
        self.errors[kind] = message
        self.model_failed.emit(kind, message)
        self._settle_heap()

    def _settle_heap(self) -> None:
        """Once both models are in (and the panels their signals built), what is alive lives
        as long as the app: the many objects of Qt, NumPy and the modules.
        Freezing them takes them out of the cyclic collector's sight: without that, a full
        collection, which the sampling thread's allocations set off every few seconds,
        walks them all in ~100 ms holding the GIL, and the GUI thread misses that many ms
        of frames. `shutdown` thaws them again."""
        if not self.loading and not self._frozen:
            self._frozen = True
            gc.freeze()
