"""Ink -> model inputs. The recognizer's per-point features and the synthesizer's offsets.

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


def recognizer_features(ink: Ink, cfg: FeatureConfig | None = None) -> np.ndarray:
    """`Ink` -> (N, 8) unstandardized features; see `preprocess` and `point_features`."""
    return point_features(preprocess(ink, cfg))


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
