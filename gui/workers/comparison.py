"""The style comparison's worker: writes one short text in each style asked for (a stored
writer's, primed with their sample, and the presets), one after the other in its own thread,
and sends each ink to the GUI as it is done. (The sampling runs in the synthesizer's process.)"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.workers.base import error_text, load_service
from handwriting.results import Prime


@dataclass(frozen=True)
class ComparisonJob:
    """`text` written once per entry of `styles`: (label, preset name or None), and, when
    `prime` (ink, its text) is given, first in that hand under `prime_label`."""

    text: str
    styles: tuple[tuple[str, str | None], ...]
    prime: Prime | None = None
    prime_label: str = ""
    seed: int = 1
    candidates: int = 3


class ComparisonWorker(QObject):
    written = Signal(str, object)  # label, Ink (the written lines joined)
    failed = Signal(str, str)  # label, message
    finished = Signal()

    def __init__(self, job: ComparisonJob, threads: int | None = None):
        super().__init__()
        self._job, self._threads = job, threads

    @Slot()
    def run(self) -> None:
        """Write the job's styles, in this worker's thread (connected to its `started`)."""
        from handwriting.geometry import join_lines

        job = self._job
        try:
            service = load_service("synthesizer", None, self._threads)
        except Exception as exc:  # the dialog says so; the app goes on
            self.failed.emit("", error_text(exc))
            self.finished.emit()
            return
        todo = [(label, style) for label, style in job.styles]
        if job.prime is not None:
            todo.insert(0, (job.prime_label, None))
        for i, (label, style) in enumerate(todo):
            try:
                if job.prime is not None and i == 0:
                    style = service.style_from_ink(job.prime.ink, job.prime.text, name=label,
                                                   hand_from=job.prime.hand_from)
                inks = service.write(job.text, style=style, seed=job.seed,
                                     candidates=job.candidates)
                self.written.emit(label, join_lines(inks))
            except Exception as exc:  # one style failing leaves the others
                self.failed.emit(label, error_text(exc))
        self.finished.emit()


def start_comparison(job: ComparisonJob, parent: QObject) -> tuple[QThread, ComparisonWorker]:
    """The worker in a thread of its own, started on `job`; the thread ends after it."""
    thread = QThread(parent)
    worker = ComparisonWorker(job)
    worker.moveToThread(thread)
    # a slot of the moved worker, so it runs in `thread` (a lambda would run in this one)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread, worker
