"""Why a sampled line fails (issue 14, item 1): from the attention window's position (Graves
2013, eq. 46-51: phi over the characters) and the pen at every step, tell a line that reads
its text in order from one whose window stalls while the pen keeps drawing, whose window
skips characters, or whose pen circles in place."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from handwriting.results import SynthesisFrame

CLASSES = ("ok", "window_stalls", "window_skips", "pen_circles")
STALL_STEPS = 40  # ~4 characters' worth of points (~10 per character at 0.14 heights)
STALL_CHARS = 0.5  # the window moves less than this over STALL_STEPS points ...
STALL_INK = 3.0  # ... while the pen draws at least this many writing heights of ink
SKIP_CHARS = 2.0  # the window jumps at least this far ...
SKIP_STEPS = 3  # ... within this many points
CIRCLE_STEPS = 40  # over this many points ...
CIRCLE_SPAN = 0.6  # ... the pen stays within this many writing heights (box diagonal)


@dataclass(frozen=True)
class LineTrace:
    """One line's sampling record: the window centre and the pen at every step."""

    window: np.ndarray  # (T,) phi-weighted mean position, in characters of the line's text
    offsets: np.ndarray  # (T, 3) dx, dy, pen_up in writing heights
    n_chars: int  # characters of the line's own text


class TraceRecorder:
    """Records a `LineTrace` per line from frames passing through `watch`, so a stream can be
    consumed (drawn, collected) and traced at once without keeping its frames."""

    def __init__(self, lengths: list[int]):
        self.lengths = list(lengths)  # characters per line
        self._centres: list[list[float]] = [[] for _ in self.lengths]
        self._points: list[list[np.ndarray]] = [[] for _ in self.lengths]

    def add(self, f: SynthesisFrame) -> None:
        u = np.arange(f.phi.shape[1]) - f.text_offset
        centre = (f.phi * u).sum(1) / np.maximum(f.phi.sum(1), 1e-12)
        for b in np.flatnonzero(f.active):
            self._centres[b].append(float(centre[b]))
            self._points[b].append(f.offsets[b])

    def watch(self, frames: Iterable[SynthesisFrame]) -> Iterator[SynthesisFrame]:
        for f in frames:
            self.add(f)
            yield f

    def traces(self) -> list[LineTrace]:
        return [LineTrace(np.array(c, np.float64), np.array(p, np.float32).reshape(-1, 3), n)
                for c, p, n in zip(self._centres, self._points, self.lengths, strict=True)]


def line_traces(frames: Iterable[SynthesisFrame], lengths: list[int]) -> list[LineTrace]:
    """A `LineTrace` per line of a batch from its frames; lengths: characters per line."""
    rec = TraceRecorder(lengths)
    for f in frames:
        rec.add(f)
    return rec.traces()


def _windows(n: int, span: int) -> range:
    return range(max(n - span, 0) + 1) if n >= span else range(0)


def failures(trace: LineTrace) -> dict[str, int]:
    """Steps at which each failure shows (first step of its span), -1 where it does not."""
    # The phi-weighted centre wobbles back and forth when phi is small between letters; its
    # running maximum is how far the window has read.
    w, off = np.maximum.accumulate(trace.window), trace.offsets
    out = {name: -1 for name in CLASSES[1:]}
    n = len(w)
    if n == 0:
        return out
    step_ink = np.hypot(off[:, 0], off[:, 1]) * (np.concatenate([[1.0], off[:-1, 2]]) < 0.5)
    ink = np.concatenate([[0.0], np.cumsum(step_ink)])
    for t in _windows(n, STALL_STEPS):
        e = t + STALL_STEPS - 1
        inside = w[t] < trace.n_chars - 0.5  # past the text the line is ending, not stalling
        if inside and w[e] - w[t] < STALL_CHARS and ink[e + 1] - ink[t + 1] >= STALL_INK:
            out["window_stalls"] = t
            break
    jumps = w[SKIP_STEPS:] - w[:-SKIP_STEPS] if n > SKIP_STEPS else np.zeros(0)
    hit = np.flatnonzero(jumps >= SKIP_CHARS)
    if len(hit):
        out["window_skips"] = int(hit[0])
    xy = np.cumsum(off[:, :2], axis=0)
    for t in _windows(n, CIRCLE_STEPS):
        seg = xy[t:t + CIRCLE_STEPS]
        span = float(np.hypot(*(seg.max(0) - seg.min(0))))
        if span < CIRCLE_SPAN and ink[t + CIRCLE_STEPS] - ink[t + 1] >= 2 * CIRCLE_SPAN:
            out["pen_circles"] = t
            break
    return out


def classify(trace: LineTrace) -> str:
    """'ok', or the failure that shows first: 'window_stalls' (the window stays on one
    character while the pen keeps drawing), 'window_skips' (it jumps characters) or
    'pen_circles' (the pen draws on one spot)."""
    found = {k: v for k, v in failures(trace).items() if v >= 0}
    return min(found, key=found.get) if found else "ok"
