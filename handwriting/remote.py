"""A service object (`service.Recognizer` or `service.Synthesizer`) in a child process of its
own, called like the object itself: `RemoteRecognizer(path).recognize(ink)`. The proxies'
methods are written out with the service's signatures (`handwriting.protocols` names them;
a test checks all three agree), and the child answers only the protocol's methods.

Why: a Python process runs one thread's Python at a time (the GIL). A recognizer's beam
search or a sampler's per-step bookkeeping in a thread of the app's process takes turns of
~5 ms with the GUI thread, so 8 ms of painting took 40 ms. In a child process they run
beside the GUI, not in turns, and at a lower OS priority (`NICE`), so the GUI thread gets a
core first when it wakes. The child is started with "spawn" (never "fork" from a process
with threads), ends when the parent closes the pipe or dies, and loads the model itself.

Calls go over a `multiprocessing` pipe, pickled: plain data (`Ink`, results) crosses it;
generators (`stream_chunks`) send each item as it is made, and cancelling one sets a shared
counter the child reads between steps."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handwriting.protocols import PROTOCOLS, is_streamed, methods

if TYPE_CHECKING:
    import numpy as np

    from handwriting.decoding import Hypothesis
    from handwriting.ink import Ink
    from handwriting.results import Inspection, Recognition, SynthesisChunk, SynthesisPlan
    from handwriting.service import DecoderSettings

NICE = 5  # the child's OS priority below the parent's (POSIX nice increment)


class RemoteError(RuntimeError):
    """The child process failed or went away."""


@dataclass(frozen=True)
class _Described:
    """What the parent reads of the service without a call: sent once, after loading."""

    path: Path
    metrics: dict
    data: dict
    styles: tuple[str, ...]
    alphabet: object  # alphabet.Alphabet


def load(kind: str, path: Path, threads: int | None):
    """The service of `kind` itself, in this process (what the child runs)."""
    from handwriting.service import Recognizer, Synthesizer

    cls = Recognizer if kind == "recognizer" else Synthesizer
    service = cls.from_checkpoint(path, threads=threads)
    # The first line a user writes is then as fast as the tenth (the recognizer's LM tables
    # and compiled forward pass, the sampler's compiled step).
    service.warm_up()
    return service


def _serve(conn, kind: str, path: Path, threads: int | None, nice: int, cancel) -> None:
    """The child's loop: load, describe, then answer calls until the pipe closes."""
    with contextlib.suppress(OSError, AttributeError):  # not on every platform
        os.nice(nice)
    try:
        from handwriting.models.numba_startup import skip_blas_probe

        skip_blas_probe()  # this process compiles no BLAS calls: SciPy is not loaded for them
        service = load(kind, path, threads)
    except Exception as exc:  # the parent raises it as the load's error
        _send_error(conn, exc)
        return
    conn.send(("ready", _Described(Path(service.path), dict(service.metrics),
                                   dict(getattr(service, "data", {})),
                                   tuple(getattr(service, "styles", ())), service.alphabet)))
    protocol = PROTOCOLS[kind]
    offered = methods(protocol)  # what a parent may call: the service API, nothing else
    while True:
        try:
            seq, method, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe or died
            return
        try:
            if method not in offered:
                raise ValueError(f"the {kind} process has no call {method!r}")
            if is_streamed(protocol, method):
                def should_stop(seq=seq) -> bool:
                    return cancel.value >= seq

                for item in getattr(service, method)(*args, should_stop=should_stop, **kwargs):
                    conn.send(("item", item))
                conn.send(("end", None))
            else:
                conn.send(("value", getattr(service, method)(*args, **kwargs)))
        except (BrokenPipeError, EOFError):
            return
        except Exception as exc:  # the caller raises it; the child goes on serving
            _send_error(conn, exc)


def _send_error(conn, exc: Exception) -> None:
    try:
        conn.send(("error", exc))
    except Exception:  # an exception that does not pickle: send its message
        conn.send(("error", RemoteError(f"{type(exc).__name__}: {exc}")))


@contextlib.contextmanager
def _main_not_imported_in_child():
    """"spawn" imports the parent's main module in the child (for pickled functions defined
    there): for the app that is `gui`, i.e. PySide6, ~45 MB and ~0.2 s in each model process
    for nothing, as `_serve` lives here. Hidden while the child is prepared (`start` reads it
    synchronously), the child imports only this module."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__spec__", "__file__") if hasattr(main, k)}
    try:
        if main is not None:
            main.__spec__ = None
            if "__file__" in saved:
                del main.__file__
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


class RemoteProcess:
    """The service of `kind` loaded from `path` in a child process: what the typed proxies
    below share. Calls block the calling thread (not the GIL) until the answer arrives; one
    call at a time (a lock), so several threads may share one. Raises what the service raised
    (`ValueError` for bad input); `RemoteError` when the child died, and the next call starts
    a new one."""

    kind: str

    def __init__(self, path: str | Path, threads: int | None = None, nice: int = NICE):
        if multiprocessing.current_process().name.startswith("handwriting-"):
            # "spawn" imports the parent's main script in the child: unguarded, it would start
            # children of its own, and so on. Fail loudly instead of hanging.
            raise RuntimeError("a model process was asked for a model process: put the code "
                               "that starts the app under `if __name__ == '__main__':`")
        self._path, self._threads, self._nice = Path(path), threads, nice
        self._lock = threading.Lock()
        self._seq = 0
        self._ctx = multiprocessing.get_context("spawn")
        self._cancel = self._ctx.Value("q", 0, lock=False)  # streams up to this seq stop
        self._proc = self._conn = None
        self._start()
        d = self._described
        self.path, self.metrics, self.data = d.path, d.metrics, d.data
        self.styles, self.alphabet = dict.fromkeys(d.styles), d.alphabet

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(
            target=_serve, name=f"handwriting-{self.kind}", daemon=True,
            args=(child, self.kind, self._path, self._threads, self._nice, self._cancel))
        with _main_not_imported_in_child():
            self._proc.start()
        child.close()
        self._conn = parent
        status, value = self._receive()
        if status == "error":
            self.close()
            raise value
        self._described: _Described = value

    def _receive(self) -> tuple[str, object]:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            self._proc.join(1)
            code = self._proc.exitcode
            self._conn = None
            raise RemoteError(f"the {self.kind} process stopped (exit code {code})") from exc

    def _send(self, method: str, args, kwargs) -> int:
        if self._conn is None:  # it died: a new one, loaded afresh
            self._start()
        self._seq += 1
        try:
            self._conn.send((self._seq, method, args, kwargs))
        except (BrokenPipeError, OSError) as exc:
            self._conn = None
            raise RemoteError(f"the {self.kind} process stopped") from exc
        return self._seq

    def call(self, method: str, *args, **kwargs):
        """`service.method(*args, **kwargs)` in the child."""
        with self._lock:
            self._send(method, args, kwargs)
            status, value = self._receive()
        if status == "error":
            raise value
        return value

    def iterate(self, method: str, *args, should_stop=None, **kwargs):
        """Iterate `service.method(*args, should_stop=..., **kwargs)` in the child; the child
        stops at its next step once `should_stop()` (checked here, per item) is true or the
        iteration is closed early."""
        with self._lock:
            seq = self._send(method, args, kwargs)
            status, stopping = None, False
            try:
                while True:
                    status, value = self._receive()
                    if status == "end":
                        return
                    if status == "error":
                        raise value
                    if not stopping:
                        if should_stop is not None and should_stop():
                            self._cancel.value, stopping = seq, True
                        else:
                            yield value
            finally:
                if self._conn is not None and status not in ("end", "error"):
                    self._cancel.value = seq  # closed early: stop it, drain what it sent
                    while self._receive()[0] not in ("end", "error"):
                        pass

    @property
    def alive(self) -> bool:
        return self._conn is not None and self._proc is not None and self._proc.is_alive()

    def close(self) -> None:
        """End the child (closing the pipe ends its loop)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._proc is not None:
            self._proc.join(2)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(1)


class RemoteRecognizer(RemoteProcess):
    """A `service.Recognizer` in a child process (`protocols.RecognizerAPI`)."""

    kind = "recognizer"

    def recognize(self, ink: Ink, decoder: str | None = None, nbest: int = 5,
                  complete: bool = True) -> Recognition:
        return self.call("recognize", ink, decoder, nbest, complete)

    def inspect(self, ink: Ink) -> Inspection:
        return self.call("inspect", ink)

    def saliency(self, ink: Ink, inspection: Inspection, frame: int,
                 label: int | None = None) -> tuple[np.ndarray, int]:
        return self.call("saliency", ink, inspection, frame, label)

    def log_posteriors(self, inks: list[Ink]) -> list[np.ndarray]:
        return self.call("log_posteriors", inks)

    def group_lines(self, ink: Ink) -> list[list[int]]:
        return self.call("group_lines", ink)

    def decode(self, log_probs: np.ndarray, decoder: str | None = None, nbest: int = 5,
               settings: DecoderSettings | None = None, complete: bool = True
               ) -> list[Hypothesis]:
        return self.call("decode", log_probs, decoder, nbest, settings, complete)


class RemoteSynthesizer(RemoteProcess):
    """A `service.Synthesizer` in a child process (`protocols.SynthesizerAPI`)."""

    kind = "synthesizer"

    def warm_up(self) -> None:
        return self.call("warm_up")

    def plan(self, text: str, max_chars_per_line: int = 40) -> SynthesisPlan:
        return self.call("plan", text, max_chars_per_line)

    def style(self, style) -> object | None:
        return self.call("style", style)

    def style_from_ink(self, ink: Ink, text: str, name: str = "custom", hand_from=None):
        return self.call("style_from_ink", ink, text, name, hand_from)

    def write(self, text: str, bias: float = 0.75, style=None,
              seed: int | None = None, candidates: int | None = None) -> list[Ink]:
        return self.call("write", text, bias, style, seed, candidates)

    def write_classified(self, text: str, bias: float = 0.75, style=None,
                         seed: int | None = None, candidates: int | None = None
                         ) -> tuple[list[Ink], list[str]]:
        return self.call("write_classified", text, bias, style, seed, candidates)

    def stream_chunks(self, text: str | SynthesisPlan, bias: float = 0.75, style=None,
                      seed: int | None = None, should_stop=None, seconds: float = 1 / 60,
                      keep_frames: bool = True, candidates: int | None = None
                      ) -> Iterator[SynthesisChunk]:
        return self.iterate("stream_chunks", text, bias, style, seed, should_stop=should_stop,
                            seconds=seconds, keep_frames=keep_frames, candidates=candidates)


PROXIES: dict[str, type[RemoteProcess]] = {"recognizer": RemoteRecognizer,
                                           "synthesizer": RemoteSynthesizer}


def RemoteService(kind: str, path: str | Path, threads: int | None = None,  # noqa: N802
                  nice: int = NICE) -> RemoteRecognizer | RemoteSynthesizer:
    """The typed proxy of `kind` ("recognizer" or "synthesizer") for the service in `path`."""
    if kind not in PROXIES:
        raise ValueError(f"unknown service kind {kind!r}; expected one of {sorted(PROXIES)}")
    return PROXIES[kind](path, threads, nice)
