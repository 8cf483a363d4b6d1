"""Ink -> model inputs. The recognizer's per-point features (`encode`, which also keeps the
way back from network frames to ink points) and the synthesizer's offsets.

Recognizer (Graves et al. 2009 used similar local pen features): the line is deskewed
(slope, slant), scaled to unit writing height and resampled by arc length, which makes the
features independent of pen speed and tablet resolution and gives a steady ~18 points per
character. Per point we keep the pen offset (dx, dy), a pen-lift flag, the writing direction
(cos, sin), the curvature (cos, sin of the turn between segments) and the height y above the
line's median. Heights separate 'o' from 'O'; direction and curvature make shapes explicit so
the LSTM need not differentiate positions itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from handwriting import geometry
from handwriting.ink import Ink, InkError

FEATURE_NAMES = ("dx", "dy", "pen_up", "cos_dir", "sin_dir", "cos_turn", "sin_turn", "y")


@dataclass(frozen=True)
class FeatureConfig:
    spacing: float = 0.08  # resampling step, in writing heights
    deslope: bool = True
    deslant: bool = True
    max_points: int = 8000  # bounded work: longer ink is refused (about 400 characters)

    def to_dict(self) -> dict:
        return asdict(self)


def preprocess(ink: Ink, cfg: FeatureConfig | None = None) -> np.ndarray:
    """Deskewed, height-normalized, resampled points: (N, 3) rows of x, y, stroke_start."""
    cfg = cfg or FeatureConfig()
    if ink.is_empty:
        raise InkError("ink is empty")
    if cfg.deslope:
        ink = geometry.correct_slope(ink)
    if cfg.deslant:
        ink = geometry.correct_slant(ink)
    ink = _bounded_resample(geometry.normalize(ink), cfg.spacing, cfg.max_points)
    parts = []
    for s in ink.strokes:
        p = np.zeros((len(s), 3), np.float32)
        p[:, :2] = s.xy
        p[0, 2] = 1.0
        parts.append(p)
    return np.concatenate(parts)


def _bounded_resample(ink: Ink, spacing: float, max_points: int) -> Ink:
    """`geometry.resample`, refused with an `InkError` before any work when it would give
    more than `max_points` points (the count follows from the arc lengths alone)."""
    n = geometry.resampled_count(ink, spacing)
    if n > max_points:
        raise InkError(
            f"ink too long: {n} resampled points (limit {max_points}); split it into lines"
        )
    return geometry.resample(ink, spacing)


def point_features(points: np.ndarray) -> np.ndarray:
    """(N, 3) x, y, stroke_start -> (N, 8) features named in FEATURE_NAMES."""
    xy = points[:, :2].astype(np.float64)
    start = points[:, 2] > 0.5
    n = len(xy)
    d = np.zeros((n, 2))
    d[1:] = xy[1:] - xy[:-1]
    # Direction of the pen within a stroke: forward difference, the jump at a pen lift
    # is not a writing direction, so it takes the next segment's.
    seg = d.copy()
    seg[start] = 0.0
    nxt = np.zeros_like(seg)
    nxt[:-1] = seg[1:]
    nxt[:-1][start[1:]] = 0.0
    direction = np.where((np.hypot(*seg.T) > 1e-9)[:, None], seg, nxt)
    norm = np.hypot(*direction.T)
    ok = norm > 1e-9
    cos_dir = np.where(ok, direction[:, 0] / np.maximum(norm, 1e-9), 0.0)
    sin_dir = np.where(ok, direction[:, 1] / np.maximum(norm, 1e-9), 0.0)
    # Turn between consecutive unit directions: cos = dot, sin = cross.
    cos_turn = np.ones(n)
    sin_turn = np.zeros(n)
    if n > 1:
        cos_turn[1:] = cos_dir[1:] * cos_dir[:-1] + sin_dir[1:] * sin_dir[:-1]
        sin_turn[1:] = cos_dir[:-1] * sin_dir[1:] - sin_dir[:-1] * cos_dir[1:]
        cos_turn[start] = 1.0
        sin_turn[start] = 0.0
    pen_up = start.astype(np.float64)
    pen_up[0] = 0.0
    feats = np.stack([d[:, 0], d[:, 1], pen_up, cos_dir, sin_dir, cos_turn, sin_turn, xy[:, 1]], 1)
    return feats.astype(np.float32)


@dataclass(frozen=True)
class Standardizer:
    """Per-feature mean and std, fitted on training data and stored in checkpoints."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, arrays: list[np.ndarray]) -> Standardizer:
        x = np.concatenate(arrays).astype(np.float64)
        std = np.maximum(x.std(0), 1e-6)
        return cls(tuple(map(float, x.mean(0))), tuple(map(float, std)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - np.float32(self.mean)) / np.float32(self.std)).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: dict) -> Standardizer:
        return cls(tuple(d["mean"]), tuple(d["std"]))


# --------------------------------------------------------------- recognizer input and back


def features_of(points: np.ndarray, standardizer: Standardizer | None = None) -> np.ndarray:
    """(N, 3) preprocessed points -> (N, F) features, standardized when a `standardizer` is
    given: the recognizer's input (training applies its augmentation to the points first)."""
    x = point_features(points)
    return x if standardizer is None else standardizer(x)


@dataclass(frozen=True)
class Encoded:
    """One ink line as the recognizer reads it, and the way back from its frames to the ink:
    `points` (N, 3) preprocessed, `x` (N, F) its input, `source` (N,) the ink point each
    preprocessed point came from (computed on first use)."""

    ink: Ink
    points: np.ndarray  # (N, 3) x, y, stroke_start
    x: np.ndarray  # (N, F) standardized features

    @cached_property
    def source(self) -> np.ndarray:  # (N,) indices into the ink's concatenated points
        return _source_indices(self.ink, self.points)

    def frame_points(self, stride: int, n_frames: int) -> tuple[np.ndarray, ...]:
        """For each of the network's `n_frames` output frames, the ink points it read."""
        return frame_points_of(self.source, stride, n_frames, self.ink.num_points)

    def point_frames(self, stride: int, n_frames: int) -> np.ndarray:
        """For each ink point, the output frame that read it."""
        src = self.source
        out = np.zeros(self.ink.num_points, np.int64)
        out[src] = np.minimum(np.arange(len(src)) // stride, n_frames - 1)
        # ink points skipped by resampling take the frame of the previous kept point
        return np.maximum.accumulate(out)


def encode(ink: Ink, config: FeatureConfig | None = None,
           standardizer: Standardizer | None = None) -> Encoded:
    """`Ink` -> the recognizer's input (`preprocess`, `point_features`, `standardizer`), with
    the alignment of its points to the ink's."""
    points = preprocess(ink, config)
    return Encoded(ink, points, features_of(points, standardizer))


def point_max(values: np.ndarray, source: np.ndarray, n_points: int) -> np.ndarray:
    """Per-ink-point maximum of per-preprocessed-point `values` (points with none get 0)."""
    out = np.zeros(n_points, np.float32)
    np.maximum.at(out, source, values.astype(np.float32))
    return out


def char_points_of(char_frames: tuple[int, ...], frame_points: tuple[np.ndarray, ...],
                   cache: dict | None = None) -> tuple[np.ndarray, ...]:
    """The ink points of each character of a hypothesis: a character covers the frames from
    its first emission to the next character's (the last one, to the end of the line).
    `cache` (a dict shared by the hypotheses of one line) reuses the spans they have in
    common: an n-best list mostly repeats the best hypothesis's characters."""
    cache = {} if cache is None else cache
    frames = list(char_frames) + [len(frame_points)]
    out = []
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        span = (a, max(b, a + 1))
        hit = cache.get(span)
        if hit is None:
            hit = cache[span] = np.unique(np.concatenate(frame_points[span[0]:span[1]]))
        out.append(hit)
    return tuple(out)


def frame_points_of(source: np.ndarray, stride: int, n_frames: int, n_points: int
                    ) -> tuple[np.ndarray, ...]:
    """For each output frame, the ink points it read: its window of `stride` input points
    maps to ink points through `source` (`Encoded.source`, non-decreasing); the ink points
    that resampling skipped go to the frame before them, so that dense ink (a mouse draws a
    point every pixel or two) is covered without gaps; the last frame takes the rest."""
    source = np.asarray(source)
    used = source[:n_frames * stride]
    starts = np.arange(0, len(used), stride)  # the frames whose window holds points
    if not len(starts):
        return tuple(np.zeros(0, np.int64) for _ in range(n_frames))
    first = used[starts].astype(np.int64)
    top = np.maximum.reduceat(used, starts).astype(np.int64) + 1
    following = starts + stride  # where the next frame's window starts
    nxt = np.full(len(starts), n_points, np.int64)  # the last frame takes the rest
    inner = (following < n_frames * stride) & (following < len(source))
    nxt[inner] = source[following[inner]]
    stop = np.maximum(nxt, top)
    out = [np.arange(a, b, dtype=np.int64) for a, b in zip(first.tolist(), stop.tolist(),
                                                           strict=True)]
    out += [np.zeros(0, np.int64)] * (n_frames - len(out))
    return tuple(out)


def _source_indices(ink: Ink, points: np.ndarray) -> np.ndarray:
    """For each preprocessed point (resampled per stroke, see `preprocess`), the index
    of the nearest original ink point by arc-length fraction within the same stroke."""
    starts = np.flatnonzero(points[:, 2] > 0.5)
    ends = np.append(starts[1:], len(points))
    out = np.zeros(len(points), np.int64)
    offset = 0
    for s, a, b in zip(ink.strokes, starts, ends, strict=True):
        seg = np.hypot(*np.diff(s.xy.astype(np.float64), axis=0).T) if len(s) > 1 else np.zeros(0)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        frac = arc / arc[-1] if arc[-1] > 0 else np.linspace(0, 1, len(s))
        target = np.linspace(0.0, 1.0, b - a) if b - a > 1 else np.zeros(1)
        idx = np.clip(np.searchsorted(frac, target), 0, len(s) - 1)
        out[a:b] = offset + idx
        offset += len(s)
    return out


# --------------------------------------------------------------------------- synthesizer


@dataclass(frozen=True)
class SynthesisFeatureConfig:
    """Pen offsets for the synthesizer: deslope, unit writing height, resample by arc length.
    Resampling to ~10 points per character (instead of IAM's ~21 raw points) halves the
    steps to learn and to sample; the slant is kept, it is part of a writer's style."""

    spacing: float = 0.14  # in writing heights
    deslope: bool = True
    max_points: int = 4000  # bounded work for primes as for inputs (about 400 characters)

    def to_dict(self) -> dict:
        return asdict(self)


def synthesis_offsets(ink: Ink, cfg: SynthesisFeatureConfig | None = None) -> np.ndarray:
    """`Ink` -> offsets (N, 3) of (dx, dy, pen_up) in writing heights; the first row is (0, 0)."""
    from handwriting.ink import ink_to_offsets

    cfg = cfg or SynthesisFeatureConfig()
    if ink.is_empty:
        raise InkError("ink is empty")
    if cfg.deslope:
        ink = geometry.correct_slope(ink)
    ink = _bounded_resample(geometry.normalize(ink), cfg.spacing, cfg.max_points)
    off = ink_to_offsets(ink)
    off[0, :2] = 0.0
    return off
