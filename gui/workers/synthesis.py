"""The synthesis thread's worker: samples one job at a time from the service's stream and
sends the new points to the GUI in batches, about once a frame; cancelled between steps.
(The sampling itself runs in the service's process: see `handwriting.remote`.)"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from gui.messages import SynthesisBatch, SynthesisDone, SynthesisJob, SynthesisStarted
from gui.workers.base import ModelWorker, error_text
from handwriting.grouping import writing_height

BATCH_SECONDS = 1 / 60  # synthesis points go to the GUI at about the screen's frame rate


class SynthesisWorker(ModelWorker):
    """Samples one job at a time, passing on the service's chunks of points as they come."""

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
                style = self._service.style_from_ink(job.prime.ink, job.prime.text, name="mine",
                                                     hand_from=job.prime.hand_from)
                if not job.prime.match_hand:  # the Style crossed the pipe: plain data
                    style = replace(style, hand=None)
            # Grouping the page into lines is O(its ink): measured here, not in a GUI frame.
            height = writing_height(job.page) if job.page is not None else None
            self.started.emit(SynthesisStarted(job.job, plan.lines, plan.dropped, height,
                                               job.frames))

            def should_stop() -> bool:
                return self._cancelled(job.job)

            for chunk in self._service.stream_chunks(plan, job.bias, style, job.seed,
                                                     should_stop=should_stop,
                                                     seconds=BATCH_SECONDS,
                                                     keep_frames=job.frames,
                                                     candidates=job.candidates):
                steps = chunk.steps
                self.points.emit(SynthesisBatch(job.job, chunk.points, chunk.finished,
                                                chunk.frames))
            cancelled = should_stop()
        except Exception as exc:  # report, never kill the worker thread
            self.done.emit(SynthesisDone(job.job, False, error_text(exc), steps,
                                         time.perf_counter() - t0))
            return
        self.done.emit(SynthesisDone(job.job, cancelled, None, steps, time.perf_counter() - t0))
