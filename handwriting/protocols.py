"""What each service offers across the process boundary, as `typing.Protocol`s: the calls a
parent may make of a `service.Recognizer` or `service.Synthesizer` in a child process
(`handwriting.remote`). The child's dispatch table and the parent's typed proxies both derive
from these, and a test checks that the services and proxies match them signature for
signature. Torch-free: the app's process reads them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

    from handwriting.decoding import Hypothesis
    from handwriting.ink import Ink
    from handwriting.results import Inspection, Recognition, SynthesisChunk, SynthesisPlan
    from handwriting.service import DecoderSettings


def streamed(method: Callable) -> Callable:
    """Marks a protocol method that yields items (sent one by one across the boundary, and
    stopped by a `should_stop` the child checks between steps)."""
    method.__streamed__ = True
    return method


class RecognizerAPI(Protocol):
    """What the app asks of a recognizer."""

    def recognize(self, ink: Ink, decoder: str | None = None, nbest: int = 5,
                  complete: bool = True) -> Recognition: ...

    def inspect(self, ink: Ink) -> Inspection: ...

    def saliency(self, ink: Ink, inspection: Inspection, frame: int,
                 label: int | None = None) -> tuple[np.ndarray, int]: ...

    def log_posteriors(self, inks: list[Ink]) -> list[np.ndarray]: ...

    def group_lines(self, ink: Ink) -> list[list[int]]: ...

    def decode(self, log_probs: np.ndarray, decoder: str | None = None, nbest: int = 5,
               settings: DecoderSettings | None = None, complete: bool = True
               ) -> list[Hypothesis]: ...


class SynthesizerAPI(Protocol):
    """What the app asks of a synthesizer."""

    def warm_up(self) -> None: ...

    def plan(self, text: str, max_chars_per_line: int = 40) -> SynthesisPlan: ...

    def style(self, style) -> object | None: ...

    def style_from_ink(self, ink: Ink, text: str, name: str = "custom", hand_from=None): ...

    def write(self, text: str, bias: float = 0.75, style=None,
              seed: int | None = None, candidates: int | None = None) -> list[Ink]: ...

    def write_classified(self, text: str, bias: float = 0.75, style=None,
                         seed: int | None = None, candidates: int | None = None
                         ) -> tuple[list[Ink], list[str]]: ...

    @streamed
    def stream_chunks(self, text: str | SynthesisPlan, bias: float = 0.75, style=None,
                      seed: int | None = None, should_stop=None, seconds: float = 1 / 60,
                      keep_frames: bool = True, candidates: int | None = None
                      ) -> Iterator[SynthesisChunk]: ...


PROTOCOLS: dict[str, type] = {"recognizer": RecognizerAPI, "synthesizer": SynthesizerAPI}


def methods(protocol: type) -> dict[str, Callable]:
    """The protocol's methods by name (what a parent may call)."""
    return {name: f for name, f in vars(protocol).items()
            if inspect.isfunction(f) and not name.startswith("_")}


def is_streamed(protocol: type, name: str) -> bool:
    return getattr(methods(protocol)[name], "__streamed__", False)
