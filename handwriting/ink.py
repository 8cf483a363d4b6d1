"""Plain-data ink: strokes of float32 points (x, y, t, optional pressure).

Coordinates are absolute (`coords`); Graves-style `offsets` are rows of
(dx, dy, pen_up) where pen_up = 1 marks the last point of a stroke (Graves 2013, §4).
Everything here returns new arrays and never mutates its input. Sampled (synthesized)
offsets get synthetic pen timing here too, so that code without torch can place them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

POINT_SECONDS = 0.02  # synthetic pen timing: one resampled point every 20 ms
PEN_UP_SECONDS = 0.12  # and this long between a pen-up and the next stroke


class InkError(ValueError):
    """Ink data that cannot be used (NaN coordinates, mismatched shapes, ...)."""


def _as_f32(values, name: str, ndim: int) -> np.ndarray:
    arr = np.array(values, dtype=np.float32, copy=True)
    if arr.ndim != ndim:
        raise InkError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InkError(f"{name} contains NaN or infinite values")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Stroke:
    """One pen-down trace: `xy` (N, 2), times `t` (N,) in seconds, optional `pressure` (N,)."""

    xy: np.ndarray
    t: np.ndarray
    pressure: np.ndarray | None = None

    def __post_init__(self):
        xy = _as_f32(self.xy, "stroke coordinates", 2)
        if xy.shape[1] != 2:
            raise InkError(f"stroke coordinates must be (N, 2), got shape {xy.shape}")
        if len(xy) == 0:
            raise InkError("a stroke needs at least one point")
        t = _as_f32(self.t, "stroke times", 1)
        if len(t) != len(xy):
            raise InkError(f"stroke has {len(xy)} points but {len(t)} times")
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "t", t)
        if self.pressure is not None:
            p = _as_f32(self.pressure, "stroke pressure", 1)
            if len(p) != len(xy):
                raise InkError(f"stroke has {len(xy)} points but {len(p)} pressures")
            object.__setattr__(self, "pressure", p)

    @classmethod
    def _trusted(cls, xy: np.ndarray, t: np.ndarray, pressure: np.ndarray | None) -> Stroke:
        """A stroke of arrays already checked as `__post_init__` would (float32, read-only,
        finite, matching lengths), made without copying or checking them again: for the
        geometry that maps all of an ink's points at once (`Ink.map_points`)."""
        out = object.__new__(cls)
        object.__setattr__(out, "xy", xy)
        object.__setattr__(out, "t", t)
        object.__setattr__(out, "pressure", pressure)
        return out

    @classmethod
    def from_xy(cls, xy, dt: float = 0.01, t0: float = 0.0) -> Stroke:
        """A stroke with evenly spaced synthetic timestamps (for generated ink)."""
        xy = np.asarray(xy, dtype=np.float32)
        return cls(xy, t0 + dt * np.arange(len(xy), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.xy)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Stroke):
            return NotImplemented
        if (self.pressure is None) != (other.pressure is None):
            return False
        return (
            np.array_equal(self.xy, other.xy)
            and np.array_equal(self.t, other.t)
            and (self.pressure is None or np.array_equal(self.pressure, other.pressure))
        )

    __hash__ = None


@dataclass(frozen=True, eq=True)
class Ink:
    """An ordered sequence of strokes, plus free-form metadata (writer, text, source)."""

    strokes: tuple[Stroke, ...] = ()
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "strokes", tuple(self.strokes))
        for s in self.strokes:
            if not isinstance(s, Stroke):
                raise InkError(f"Ink strokes must be Stroke objects, got {type(s).__name__}")

    @classmethod
    def from_strokes(cls, strokes: Iterable[Sequence], dt: float = 0.01, **meta) -> Ink:
        """Build ink from plain (N, 2) xy lists, with synthetic, increasing timestamps."""
        out, t0 = [], 0.0
        for xy in strokes:
            s = Stroke.from_xy(xy, dt=dt, t0=t0)
            out.append(s)
            t0 = float(s.t[-1]) + 5 * dt
        return cls(tuple(out), dict(meta))

    def __len__(self) -> int:
        return len(self.strokes)

    @property
    def num_points(self) -> int:
        return sum(len(s) for s in self.strokes)

    @property
    def has_pressure(self) -> bool:
        return bool(self.strokes) and all(s.pressure is not None for s in self.strokes)

    @property
    def is_empty(self) -> bool:
        return not self.strokes

    def coords(self) -> np.ndarray:
        """All points as absolute `coords` rows (x, y, pen_up): (N, 3) float32."""
        if not self.strokes:
            return np.zeros((0, 3), np.float32)
        parts = []
        for s in self.strokes:
            c = np.zeros((len(s), 3), np.float32)
            c[:, :2] = s.xy
            c[-1, 2] = 1.0
            parts.append(c)
        return np.concatenate(parts)

    def times(self) -> np.ndarray:
        """All timestamps concatenated: (N,) float32."""
        if not self.strokes:
            return np.zeros(0, np.float32)
        return np.concatenate([s.t for s in self.strokes])

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of all points; raises on empty ink."""
        if not self.strokes:
            raise InkError("empty ink has no bounds")
        xy = np.concatenate([s.xy for s in self.strokes])
        return (float(xy[:, 0].min()), float(xy[:, 1].min()),
                float(xy[:, 0].max()), float(xy[:, 1].max()))

    def with_strokes(self, strokes: Iterable[Stroke]) -> Ink:
        return Ink(tuple(strokes), dict(self.meta))

    def map_xy(self, fn) -> Ink:
        """New ink whose stroke coordinates are `fn(xy)` (times and pressure kept)."""
        return self.with_strokes(Stroke(fn(s.xy), s.t, s.pressure) for s in self.strokes)

    def map_points(self, fn) -> Ink:
        """`map_xy` for an `fn` that maps every point on its own (a rotation, shear, scale or
        shift): called once on all points (N, 2), checked once, split back into strokes.
        A line of 50 strokes went through preprocessing's five maps 4x faster than with one
        call and one check per stroke."""
        if not self.strokes:
            return self.with_strokes(())
        sizes = [len(s) for s in self.strokes]
        xy = _as_f32(fn(np.concatenate([s.xy for s in self.strokes])), "stroke coordinates", 2)
        if xy.shape != (sum(sizes), 2):
            raise InkError(f"a point map must keep the (N, 2) shape, got {xy.shape}")
        parts = np.split(xy, np.cumsum(sizes)[:-1])
        return self.with_strokes(Stroke._trusted(part, s.t, s.pressure)
                                 for part, s in zip(parts, self.strokes, strict=True))


def coords_to_ink(coords: np.ndarray, times: np.ndarray | None = None, dt: float = 0.01) -> Ink:
    """Split absolute `coords` rows (x, y, pen_up) into strokes at pen_up = 1."""
    coords = np.asarray(coords, dtype=np.float32)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise InkError(f"coords must be (N, 3) rows of x, y, pen_up; got shape {coords.shape}")
    if times is None:
        times = dt * np.arange(len(coords), dtype=np.float32)
    ends = np.flatnonzero(coords[:, 2] > 0.5) + 1
    if len(ends) == 0 or ends[-1] != len(coords):
        ends = np.append(ends, len(coords))
    strokes, start = [], 0
    for end in ends:
        if end > start:
            strokes.append(Stroke(coords[start:end, :2], times[start:end]))
        start = end
    return Ink(tuple(strokes))


def coords_to_offsets(coords: np.ndarray) -> np.ndarray:
    """Absolute (x, y, pen_up) -> `offsets` (dx, dy, pen_up); the first row is relative to (0, 0)."""
    coords = np.asarray(coords, dtype=np.float32)
    offsets = coords.copy()
    offsets[1:, :2] = coords[1:, :2] - coords[:-1, :2]
    return offsets


def offsets_to_coords(offsets: np.ndarray) -> np.ndarray:
    """Inverse of `coords_to_offsets`: cumulative sum of (dx, dy), pen_up kept."""
    offsets = np.asarray(offsets, dtype=np.float32)
    coords = offsets.copy()
    coords[:, :2] = np.cumsum(offsets[:, :2].astype(np.float64), axis=0).astype(np.float32)
    return coords


def ink_to_offsets(ink: Ink) -> np.ndarray:
    """`Ink` -> Graves-style offsets (N, 3): (dx, dy, pen_up)."""
    return coords_to_offsets(ink.coords())


def offsets_to_ink(offsets: np.ndarray, dt: float = 0.01) -> Ink:
    """Graves-style offsets (N, 3) -> `Ink` with synthetic timestamps `dt` apart."""
    return coords_to_ink(offsets_to_coords(offsets), dt=dt)


def offsets_to_line_ink(offsets: np.ndarray, text: str = "") -> Ink:
    """Sampled offsets (N, 3) in writing heights -> `Ink` with synthetic pen timing (see
    `LineInkBuilder`, which the app uses to build the same ink as the points arrive)."""
    builder = LineInkBuilder()
    builder.extend(offsets)
    return Ink(tuple(builder.strokes()), {"text": text, "format": "synthesized"})


class LineInkBuilder:
    """Sampled offsets -> strokes, built up as the offsets arrive (each `extend` converts only
    its new rows): the one place sampled pen movements become ink, for a whole line at once
    (`offsets_to_line_ink`) or point by point (the app's typed text). Points are placed at
    `scale * position + shift` (position in writing heights from (0, 0)) and timed like a
    pen: a point every `POINT_SECONDS`, `PEN_UP_SECONDS` from a pen-up to the next stroke."""

    def __init__(self, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)):
        self.xy = np.zeros((0, 2), np.float32)  # (N, 2) placed points
        self.t = np.zeros(0, np.float64)  # (N,) synthetic pen time of each point, from 0
        self.ends = np.zeros(0, np.int64)  # indices one past each pen-up point
        self._scale, self._shift = scale, shift
        self._pos = np.zeros(2, np.float64)  # pen position in writing heights
        self._stroke_start, self._stroke_t0 = 0, 0.0  # the current stroke's first point
        self._strokes: list[Stroke] = []  # complete strokes handed out so far
        self._done = 0  # points in `_strokes`

    def __len__(self) -> int:
        return len(self.xy)

    def extend(self, offsets: np.ndarray) -> None:
        """Append sampled `offsets` (n, 3) rows of dx, dy, pen_up, in writing heights."""
        offsets = np.asarray(offsets, dtype=np.float32)
        if not len(offsets):
            return
        pos = self._pos + np.cumsum(offsets[:, :2].astype(np.float64), axis=0)
        self._pos = pos[-1]
        n0 = len(self.xy)
        self.xy = np.concatenate([self.xy, (pos * self._scale + self._shift).astype(np.float32)])
        up = np.flatnonzero(offsets[:, 2] > 0.5) + 1  # one past each pen-up, in this batch
        t = np.empty(len(offsets), np.float64)
        start = 0
        for end in [*up.tolist(), len(offsets)]:
            if end > start:
                k = n0 + start - self._stroke_start  # index of `start` within its stroke
                t[start:end] = self._stroke_t0 + POINT_SECONDS * np.arange(k, k + end - start)
            if end in up:  # a pen-up: the next stroke starts a pen lift later
                self._stroke_start, self._stroke_t0 = n0 + end, float(t[end - 1]) + PEN_UP_SECONDS
            start = end
        self.ends = np.concatenate([self.ends, n0 + up])
        self.t = np.concatenate([self.t, t])

    def strokes(self, upto: int | None = None) -> list[Stroke]:
        """The first `upto` points (default: all) as strokes: the complete ones (kept, so a
        growing `upto` converts only what is new) plus the one underway. `upto` never
        decreases from one call to the next."""
        upto = len(self.xy) if upto is None else upto
        for end in self.ends[(self.ends > self._done) & (self.ends <= upto)]:
            self._strokes.append(Stroke(self.xy[self._done:end], self.t[self._done:end]))
            self._done = int(end)
        if upto > self._done:
            return self._strokes + [Stroke(self.xy[self._done:upto], self.t[self._done:upto])]
        return list(self._strokes)
