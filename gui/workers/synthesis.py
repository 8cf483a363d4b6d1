"""The synthesis thread's worker: samples one job at a time from the service's stream and
sends the new points to the GUI in batches, about once a frame; cancelled between steps."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot

from gui.messages import SynthesisBatch, SynthesisDone, SynthesisJob, SynthesisStarted
from gui.workers.base import ModelWorker, error_text
from handwriting.geometry import writing_height

BATCH_SECONDS = 1 / 60  # synthesis points go to the GUI at about the screen's frame rate


class SynthesisWorker(ModelWorker):
    """Samples one job at a time. (Not at a lower OS priority: a low-priority thread that is
    descheduled while it holds the GIL stalls the GUI thread, priority inversion.)"""

    kind = "synthesizer"
    started = Signal(object)  # SynthesisStarted
    points = Signal(object)  # SynthesisBatch
    done = Signal(object)  # SynthesisDone

    def __init__(self, cancelled, folder: Path | None, threads: int | None):
        super().__init__(folder, threads)
        self._cancelled = cancelled

    @Slot()
    def on_load(self) -> None:
        super().on_load()
        if self._service is not None:
            # Compile the fast sampling step now (or load it from Numba's disk cache), not
            # in the first job: that holds the GIL for up to seconds while the user writes.
            self._service.warm_up()

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
            self.done.emit(SynthesisDone(job.job, False, error_text(exc), steps,
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
