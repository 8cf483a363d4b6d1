"""The one place slow work leaves the GUI thread (STYLE.md principle 9; PySide6's
`thread_signals` example): model loading, recognition and synthesis run in two `QThread`s,
talk to the `handwriting.service` API only, and report back through typed Qt signals. The
LSTM lab's training gets a thread of its own while it runs (`LabTraining`).

Recognition is latest-request-wins: every request gets a sequence number, the worker skips a
request that a newer one has overtaken before it starts, and `ModelWorkers` drops any result
that is not the newest. The insight dock's requests (one line's cells and gates, a saliency
map) run in the recognition thread after the recognition requests queued before them, and
are latest-wins the same way. Synthesis streams: the service yields one frame per sampled
point, the worker batches new points about 60 times a second, and `stop_synthesis` cancels
it between steps through the service's `should_stop` callback. Nothing here imports torch at
import time.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.messages import (
    InsightRequest,
    InsightResult,
    LineRequest,
    LineResult,
    ModelInfo,
    RecognitionRequest,
    RecognitionResult,
    SaliencyAnswer,
    SaliencyJob,
    SynthesisBatch,
    SynthesisDone,
    SynthesisJob,
    SynthesisStarted,
)
from handwriting.geometry import writing_height
from handwriting.ink import Ink

__all__ = ["InsightResult", "LabTraining", "LineRequest", "LineResult", "ModelInfo",
           "ModelWorkers", "RecognitionResult", "SaliencyAnswer", "SynthesisBatch",
           "SynthesisDone", "SynthesisJob", "SynthesisStarted"]

BATCH_SECONDS = 1 / 60  # synthesis points go to the GUI at about the screen's frame rate
SHUTDOWN_WAIT_MS = 5000
RECENT_LINES = 8  # recognitions kept so that a line's insight need not recognize it again


# ----------------------------------------------------------------------------- loading

_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


def _load(kind: str, folder: Path | None, threads: int | None):
    """A service object, shared across windows while its file is unchanged (tests open many)."""
    # NumPy 2 imports numpy.ma on the first np.unique (so np.percentile, which the line
    # grouping uses at every pen-up): ~40 ms, paid here in a loading thread, not in a frame.
    import numpy.ma  # noqa: F401

    from handwriting.service import Recognizer, Synthesizer, models_dir

    path = (folder or models_dir()) / f"{kind}.pt"
    try:
        st = path.stat()
        key = (kind, str(path), st.st_mtime_ns, st.st_size)
    except OSError:
        key = (kind, str(path), None, None)  # from_checkpoint raises the clear message
    with _cache_lock:
        if key not in _cache:
            cls = Recognizer if kind == "recognizer" else Synthesizer
            _cache[key] = cls.from_checkpoint(path, threads=threads)
        return _cache[key]


def _info(kind: str, service) -> ModelInfo:
    path = Path(service.path)
    return ModelInfo(kind, path, path.stat().st_size, dict(service.metrics),
                     dict(getattr(service, "data", {})), tuple(getattr(service, "styles", ())))


def _error_text(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# ----------------------------------------------------------------------------- workers


class _ModelWorker(QObject):
    """Lives in its own thread and loads its model there first (`on_load`)."""

    kind = ""
    loaded = Signal(object)  # ModelInfo
    failed = Signal(str)  # message

    def __init__(self, folder: Path | None, threads: int | None):
        super().__init__()
        self._folder, self._threads = folder, threads
        self._service = None
        self._error = f"the {self.kind} is not loaded"

    @Slot()
    def on_load(self) -> None:
        try:
            self._service = _load(self.kind, self._folder, self._threads)
        except Exception as exc:  # a missing or corrupt file must not take the app down
            self._error = _error_text(exc)
            self.failed.emit(self._error)
            return
        self.loaded.emit(_info(self.kind, self._service))


class _RecognitionWorker(_ModelWorker):
    """Answers recognition, insight and saliency requests in order, skipping those already
    overtaken (`latest*()` give the newest sequence number of each kind)."""

    kind = "recognizer"
    done = Signal(object)  # RecognitionResult
    insight_done = Signal(object)  # InsightResult
    saliency_done = Signal(object)  # SaliencyAnswer

    def __init__(self, latest, folder: Path | None, threads: int | None,
                 latest_insight=lambda: 0, latest_saliency=lambda: 0):
        super().__init__(folder, threads)
        self._latest = latest
        self._latest_insight, self._latest_saliency = latest_insight, latest_saliency
        # line key -> (ink, Recognition); holding the ink keeps the strokes, and so the key
        # (their ids), from being reused while cached
        self._recent: OrderedDict[object, tuple[Ink, object]] = OrderedDict()

    @Slot(object)
    def on_request(self, request: RecognitionRequest) -> None:
        if request.seq < self._latest():
            return  # overtaken before it started: nobody will look at the answer
        t0 = time.perf_counter()
        lines = tuple(self._recognize(line) for line in request.lines)
        self.done.emit(RecognitionResult(request.seq, lines, time.perf_counter() - t0))

    def _recognize(self, line: LineRequest) -> LineResult:
        if self._service is None:
            return LineResult(line.key, (), (), 0.0, self._error)
        try:
            r = self._service.recognize(line.ink)
        except ValueError as exc:
            return LineResult(line.key, (), (), 0.0, _error_text(exc))
        self._recent[line.key] = (line.ink, r)
        while len(self._recent) > RECENT_LINES:
            self._recent.popitem(last=False)
        return LineResult(line.key, tuple(h.text for h in r.nbest), r.nbest_char_points,
                          r.seconds)

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
            from gui.insight.model import RecognitionInsight  # the GUI thread imported it

            recent = self._recent.get(request.key)
            recognition = (recent[1] if recent is not None
                           else self._service.recognize(request.ink))
            insight = RecognitionInsight(request.ink, recognition,
                                         self._service.inspect(request.ink),
                                         self._service.alphabet.chars)
        except Exception as exc:  # report, never kill the worker thread
            self.insight_done.emit(InsightResult(request.seq, request.key, None,
                                                 _error_text(exc), time.perf_counter() - t0))
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
            from gui.insight.model import SaliencyResult

            ins = req.insight
            magnitude, label = self._service.saliency(ins.ink, ins.inspection, req.frame,
                                                      req.label)
        except Exception as exc:  # report, never kill the worker thread
            self.saliency_done.emit(SaliencyAnswer(req, None, _error_text(exc)))
            return
        self.saliency_done.emit(SaliencyAnswer(req, SaliencyResult(req, magnitude, label)))


class _SynthesisWorker(_ModelWorker):
    """Samples one job at a time. (Not at a lower OS priority: a low-priority thread that is
    descheduled while it holds the GIL stalls the GUI thread, priority inversion.)"""

    kind = "synthesizer"
    started = Signal(object)  # SynthesisStarted
    points = Signal(object)  # SynthesisBatch
    done = Signal(object)  # SynthesisDone

    def __init__(self, cancelled, folder: Path | None, threads: int | None):
        super().__init__(folder, threads)
        self._cancelled = cancelled

    @Slot(object)
    def on_job(self, job: SynthesisJob) -> None:
        t0 = time.perf_counter()
        steps, cancelled = 0, False
        try:
            if self._service is None:
                raise ValueError(self._error)
            plan = self._service.plan(job.text)
            style = job.style
            if job.prime is not None:
                style = self._service.style_from_ink(*job.prime, name="mine")
            # Grouping the page into lines is O(its ink): measured here, not in a GUI frame.
            height = writing_height(job.page) if job.page is not None else None
            self.started.emit(SynthesisStarted(job.job, plan.lines, plan.dropped, height))
            n = len(plan.lines)
            pending: list[list[np.ndarray]] = [[] for _ in range(n)]
            frames: list = []
            finished = np.zeros(n, bool)
            last = time.perf_counter()
            def should_stop() -> bool:
                return self._cancelled(job.job)

            for frame in self._service.stream(plan, job.bias, style, job.seed, should_stop):
                steps += 1
                time.sleep(0)  # let the GUI thread take the GIL between steps
                frames.append(frame)
                for b in np.flatnonzero(frame.active):
                    pending[b].append(frame.offsets[b])
                now = time.perf_counter()
                if now - last >= BATCH_SECONDS:
                    self._flush(job.job, pending, finished, frames)
                    last = now
                # A line is done once its window has passed its last character (the service
                # marks it inactive from the next step on; see `sample_stream`).
                finished = finished | ~frame.active
            cancelled = should_stop()
            finished[:] = True
            self._flush(job.job, pending, finished, frames)
        except Exception as exc:  # report, never kill the worker thread
            self.done.emit(SynthesisDone(job.job, False, _error_text(exc), steps,
                                         time.perf_counter() - t0))
            return
        self.done.emit(SynthesisDone(job.job, cancelled, None, steps, time.perf_counter() - t0))

    def _flush(self, job: int, pending: list[list[np.ndarray]], finished: np.ndarray,
               frames: list) -> None:
        new = tuple(np.array(p, np.float32).reshape(-1, 3) for p in pending)
        for p in pending:
            p.clear()
        self.points.emit(SynthesisBatch(job, new, finished.copy(), tuple(frames)))
        frames.clear()


# ----------------------------------------------------------------------------- facade


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

    _load_recognizer = Signal()
    _load_synthesizer = Signal()
    _recognize = Signal(object)
    _inspect = Signal(object)
    _saliency = Signal(object)
    _synthesize = Signal(object)

    def __init__(self, models: Path | None = None, threads: int | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._seq = 0  # newest recognition request (written here, read by the worker)
        self._answered = 0
        self._insight_seq = 0  # newest insight request, and the last one answered
        self._insight_answered = 0
        self._saliency_seq = 0
        self._jobs = itertools.count(1)
        self._job = 0  # the synthesis job whose signals we pass on
        self._running_job: int | None = None
        self._cancel_upto = 0  # synthesis jobs up to this id are cancelled (read by the worker)
        self.dropped = 0
        self.loading = {"recognizer", "synthesizer"}
        self.models: dict[str, ModelInfo] = {}
        self.errors: dict[str, str] = {}
        self.loaded_at: dict[str, float] = {}  # time.perf_counter() when each model was ready

        self._threads = [QThread(self), QThread(self)]
        self._threads[0].setObjectName("recognition")
        self._threads[1].setObjectName("synthesis")
        self._rec = _RecognitionWorker(lambda: self._seq, models, threads,
                                       lambda: self._insight_seq, lambda: self._saliency_seq)
        self._syn = _SynthesisWorker(lambda job: job <= self._cancel_upto, models, threads)
        for worker, thread in zip((self._rec, self._syn), self._threads, strict=True):
            worker.moveToThread(thread)
            thread.finished.connect(worker.deleteLater)
        self._load_recognizer.connect(self._rec.on_load)
        self._load_synthesizer.connect(self._syn.on_load)
        self._recognize.connect(self._rec.on_request)
        self._inspect.connect(self._rec.on_insight)
        self._saliency.connect(self._rec.on_saliency)
        self._synthesize.connect(self._syn.on_job)
        self._rec.loaded.connect(self._on_loaded)
        self._syn.loaded.connect(self._on_loaded)
        self._rec.failed.connect(lambda msg: self._on_failed("recognizer", msg))
        self._syn.failed.connect(lambda msg: self._on_failed("synthesizer", msg))
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
            thread.wait(SHUTDOWN_WAIT_MS)
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
                   prime: tuple[Ink, str] | None = None, seed: int | None = None,
                   page: Ink | None = None) -> int:
        """Queue a synthesis job (cancelling the one running); returns its job id. The
        `page`'s writing height comes back with `synthesis_started`."""
        job = next(self._jobs)
        self._cancel_upto = job - 1
        self._job = job
        self._running_job = job
        self._synthesize.emit(SynthesisJob(job, text, bias, style, prime, seed, page))
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
        self.models[info.kind] = info
        self.loaded_at[info.kind] = time.perf_counter()
        self.model_loaded.emit(info)
        self._settle_heap()

    def _on_failed(self, kind: str, message: str) -> None:
        self.loading.discard(kind)
        self.errors[kind] = message
        self.model_failed.emit(kind, message)
        self._settle_heap()

    def _settle_heap(self) -> None:
        """Once both models are in (and the panels their signals built), what is alive lives
        as long as the app: ~200,000 objects of torch, the weights, Qt and the modules.
        Freezing them takes them out of the cyclic collector's sight: without that, a full
        collection, which the sampling thread's allocations set off every few seconds,
        walks them all in ~100 ms holding the GIL, and the GUI thread misses that many ms
        of frames. `shutdown` thaws them again."""
        if not self.loading and not self._frozen:
            self._frozen = True
            gc.freeze()


# ----------------------------------------------------------------------------- LSTM lab


class CountingTrainer(QObject):
    """Lives in a `LabTraining` thread: trains the LSTM lab's counting LSTM
    (`handwriting.lab`), reports progress, finds the counting units."""

    progress = Signal(object)  # lab.CountingProgress
    finished = Signal(object, object)  # CountingLSTM, CountingUnits (None when stopped early)
    failed = Signal(str)

    def __init__(self, steps: int, seed: int = 0):
        super().__init__()
        self.steps, self.seed = steps, seed
        self.stop_requested = False

    @Slot()
    def on_run(self) -> None:
        try:
            from handwriting.lab import find_counting_units, train_counting_lstm

            def report(progress) -> bool:
                self.progress.emit(progress)
                return self.stop_requested

            model, _ = train_counting_lstm(self.steps, self.seed, callback=report)
            units = None if self.stop_requested else find_counting_units(model)
        except Exception as exc:  # report, never kill the thread
            self.failed.emit(_error_text(exc))
            return
        self.finished.emit(model, units)


class LabTraining(QObject):
    """The GUI thread's handle on the LSTM lab's training: one run at a time, each in a thread
    of its own that ends with it. Signals arrive in the GUI thread, after the thread ended."""

    progress = Signal(object)  # lab.CountingProgress
    finished = Signal(object, object)  # CountingLSTM, CountingUnits or None
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._trainer: CountingTrainer | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, steps: int, seed: int = 0) -> None:
        if self.running:
            raise RuntimeError("the LSTM lab is already training")
        self._thread = QThread(self)
        self._thread.setObjectName("lstm-lab")
        self._trainer = CountingTrainer(steps, seed)
        self._trainer.moveToThread(self._thread)
        self._thread.started.connect(self._trainer.on_run)
        self._thread.finished.connect(self._trainer.deleteLater)
        self._thread.finished.connect(self._thread.deleteLater)
        self._trainer.progress.connect(self.progress)
        self._trainer.finished.connect(self._on_finished)
        self._trainer.failed.connect(self._on_failed)
        self._thread.start()

    def stop(self) -> None:
        """Ask the run to stop at its next progress report; `finished` follows."""
        if self._trainer is not None:
            self._trainer.stop_requested = True

    def shutdown(self) -> None:
        """Stop a run and wait for its thread (at exit)."""
        self.stop()
        self._end_thread()

    @Slot(object, object)
    def _on_finished(self, model, units) -> None:
        self._end_thread()
        self.finished.emit(model, units)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.failed.emit(message)

    def _end_thread(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(SHUTDOWN_WAIT_MS)
        self._thread, self._trainer = None, None
