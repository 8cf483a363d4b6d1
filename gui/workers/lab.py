"""The LSTM lab's training (`handwriting.lab`) in a thread of its own while it runs."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.workers.base import SHUTDOWN_WAIT_MS, error_text


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
            self.failed.emit(error_text(exc))
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
