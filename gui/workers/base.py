"""What every model worker shares: loading its service object in its own thread (one per
model file, shared across windows), describing it (`ModelInfo`), and error messages."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from gui.messages import ModelInfo

SHUTDOWN_WAIT_MS = 5000

_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


def load_service(kind: str, folder: Path | None, threads: int | None):
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


def model_info(kind: str, service) -> ModelInfo:
    path = Path(service.path)
    return ModelInfo(kind, path, path.stat().st_size, dict(service.metrics),
                     dict(getattr(service, "data", {})), tuple(getattr(service, "styles", ())))


def error_text(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class ModelWorker(QObject):
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
            self._service = load_service(self.kind, self._folder, self._threads)
        except Exception as exc:  # a missing or corrupt file must not take the app down
            self._error = error_text(exc)
            self.failed.emit(self._error)
            return
        self.loaded.emit(model_info(self.kind, self._service))
