"""What every model worker shares: loading its service object in its own thread (one per
model file, shared across windows), describing it (`ModelInfo`), and error messages.

Each service runs in a child process of its own (`handwriting.remote.RemoteService`), so
that its Python does not take turns with the GUI thread's for the GIL; the worker thread
only waits for its answers. `HANDWRITING_IN_PROCESS=1` loads them in this process instead
(to profile or debug them)."""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from gui.messages import ModelInfo, card_headline

SHUTDOWN_WAIT_MS = 5000

_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()
_loading: dict[tuple, threading.Lock] = {}  # one per key: the two models load side by side


def base_model_path(kind: str, folder: Path | None) -> Path:
    """The shipped model of `kind` in `folder` (default: the service's `models_dir()`)."""
    from handwriting.results import models_dir  # not `service`: this process needs no torch

    return (folder or models_dir()) / f"{kind}.pt"


def load_service(kind: str, folder: Path | None, threads: int | None,
                 path: Path | None = None):
    """A service object, shared across windows while its file is unchanged (tests open many).
    `path`: another checkpoint of `kind` than the base one (a writer's adapted recognizer);
    a service on an older version of that file is closed (its model process ends)."""
    # NumPy 2 imports numpy.ma on the first np.unique (so np.percentile, which the line
    # grouping uses at every pen-up): ~40 ms, paid here in a loading thread, not in a frame.
    import numpy.ma  # noqa: F401

    from handwriting.remote import RemoteService, load

    path = Path(path) if path is not None else base_model_path(kind, folder)
    in_process = os.environ.get("HANDWRITING_IN_PROCESS") == "1"
    try:
        st = path.stat()
        key = (kind, str(path), st.st_mtime_ns, st.st_size, in_process)
    except OSError:
        key = (kind, str(path), None, None, in_process)  # the load raises the clear message
    with _cache_lock:
        lock = _loading.setdefault(key, threading.Lock())
    with lock:
        if key not in _cache:
            if path != base_model_path(kind, folder):  # re-adapted: the old weights are gone
                with _cache_lock:
                    stale = [k for k in _cache if k[:2] == key[:2] and k != key]
                    for k in stale:
                        close = getattr(_cache.pop(k), "close", None)
                        if close is not None:
                            close()
            _cache[key] = (load(kind, path, threads) if in_process
                           else RemoteService(kind, path, threads))
        return _cache[key]


def preload(folder: Path | None = None, threads: int | None = None,
            kinds: tuple[str, ...] = ("recognizer", "synthesizer")) -> None:
    """Start loading the models now, each in a daemon thread (`load_service`: their
    processes start and load while Qt and the window are still being made); the workers'
    own `load_service` calls then wait for these loads and share them. Errors are left for
    the workers' calls, which load again and report them."""
    def load(kind: str) -> None:
        with contextlib.suppress(Exception):
            load_service(kind, folder, threads)

    for kind in kinds:
        threading.Thread(target=load, args=(kind,), name=f"preload-{kind}", daemon=True).start()


@atexit.register
def _close_services() -> None:
    """End the services' processes (they would also end on their own once this one has)."""
    with _cache_lock:
        for service in _cache.values():
            close = getattr(service, "close", None)
            if close is not None:
                close()
        _cache.clear()


def model_info(kind: str, service) -> ModelInfo:
    path = Path(service.path)
    card = path.with_suffix(".md")  # the shipped model card's figures, not validation's
    headline = card_headline(card.read_text(encoding="utf-8", errors="replace")
                             ) if card.is_file() else None
    return ModelInfo(kind, path, path.stat().st_size, dict(service.metrics),
                     dict(getattr(service, "data", {})), tuple(getattr(service, "styles", ())),
                     headline)


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
        # Subclasses extend `_after_load`, never this slot: PySide6 runs a subclass's override
        # of a base class's slot in the *emitting* thread (a direct call), which made the
        # GUI thread wait ~1.5 s at start-up for the synthesizer's process.
        try:
            self._service = load_service(self.kind, self._folder, self._threads)
            self._after_load()
        except Exception as exc:  # a missing or corrupt file must not take the app down
            self._error = error_text(exc)
            self.failed.emit(self._error)
            return
        self.loaded.emit(model_info(self.kind, self._service))

    def _after_load(self) -> None:
        """What a worker does with its freshly loaded service, in its own thread."""
