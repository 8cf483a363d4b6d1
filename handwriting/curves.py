"""Smooth ink: the curves the canvas, the SVG and the PNG exports draw through a stroke's
points (centripetal Catmull-Rom as cubic Béziers), so round letters look round."""

from __future__ import annotations

import numpy as np


def bezier_controls(xy: np.ndarray, alpha: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The two inner control points, each (N-1, 2), of the cubic Béziers that make up a
    centripetal Catmull-Rom spline through the N points `xy` (alpha = 0.5: no cusps or
    self-intersections within a segment, Yuksel et al. 2011). The ends are extended by
    repeating the end points, so the curve starts and stops along its first and last
    segments. Drawing these instead of straight segments makes round letters round."""
    p = np.asarray(xy, dtype=np.float64)
    if len(p) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    q = np.concatenate([p[:1], p, p[-1:]])
    d = np.hypot(*np.diff(q, axis=0).T) ** alpha  # (N+1,) knot spacings
    p0, p1, p2, p3 = q[:-3], q[1:-2], q[2:-1], q[3:]
    d1, d2, d3 = d[:-2], d[1:-1], d[2:]
    return _controls(p0, p1, p2, p3, d1, d2, d3)


def _controls(p0, p1, p2, p3, d1, d2, d3) -> tuple[np.ndarray, np.ndarray]:
    """The inner control points of the segments p1 -> p2 (rows), with their neighbours p0
    and p3 and the knot spacings d1, d2, d3 (Yuksel et al. 2011); straight where a spacing
    is zero (a repeated point)."""
    eps = 1e-12
    straight1 = p1 + (p2 - p1) / 3
    straight2 = p2 - (p2 - p1) / 3
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = ((d1**2)[:, None] * p2 - (d2**2)[:, None] * p0
              + (2 * d1**2 + 3 * d1 * d2 + d2**2)[:, None] * p1) / (3 * d1 * (d1 + d2))[:, None]
        c2 = ((d3**2)[:, None] * p1 - (d2**2)[:, None] * p3
              + (2 * d3**2 + 3 * d3 * d2 + d2**2)[:, None] * p2) / (3 * d3 * (d3 + d2))[:, None]
    c1 = np.where(((d1 > eps) & (d2 > eps))[:, None], c1, straight1)
    c2 = np.where(((d3 > eps) & (d2 > eps))[:, None], c2, straight2)
    return c1, c2


def bezier_controls_of(strokes: list[np.ndarray], alpha: float = 0.5
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
    """`bezier_controls` of many point arrays in one vectorized pass (the same numbers):
    the canvas builds the paths of a whole committed paragraph in one frame, where a call
    per stroke cost ~0.1 ms each."""
    sizes = np.array([len(xy) for xy in strokes], np.int64)
    if not len(sizes) or (sizes < 2).all():
        return [bezier_controls(xy, alpha) for xy in strokes]
    p = np.concatenate([np.asarray(xy, dtype=np.float64).reshape(-1, 2) for xy in strokes])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    # each stroke's points with its ends repeated, as `bezier_controls` pads them
    padded = sizes + 2
    local = np.arange(padded.sum()) - np.repeat(np.r_[0, np.cumsum(padded)[:-1]], padded) - 1
    pad = np.repeat(starts, padded) + np.clip(local, 0, np.repeat(sizes - 1, padded))
    q = p[pad]
    d = np.hypot(*np.diff(q, axis=0).T) ** alpha
    segs = np.maximum(sizes - 1, 0)
    base = np.repeat(np.r_[0, np.cumsum(padded)[:-1]], segs) + (
        np.arange(segs.sum()) - np.repeat(np.r_[0, np.cumsum(segs)[:-1]], segs))
    p0, p1, p2, p3 = q[base], q[base + 1], q[base + 2], q[base + 3]
    d1, d2, d3 = d[base], d[base + 1], d[base + 2]
    c1, c2 = _controls(p0, p1, p2, p3, d1, d2, d3)
    cuts = np.cumsum(segs)[:-1]
    return list(zip(np.split(c1, cuts), np.split(c2, cuts), strict=True))


def smooth_points(xy: np.ndarray, per_segment: int = 4, alpha: float = 0.5) -> np.ndarray:
    """Points along the centripetal Catmull-Rom spline through `xy`: every original point
    and `per_segment - 1` between each pair, for renderers that draw polylines (PNG)."""
    p = np.asarray(xy, dtype=np.float64)
    if len(p) < 3 or per_segment < 2:
        return p.copy()
    c1, c2 = bezier_controls(p, alpha)
    t = (np.arange(per_segment) / per_segment)[None, :, None]  # (1, S, 1)
    a, b, c, e = p[:-1, None], c1[:, None], c2[:, None], p[1:, None]
    u = 1 - t
    seg = u**3 * a + 3 * u**2 * t * b + 3 * u * t**2 * c + t**3 * e  # (N-1, S, 2)
    return np.concatenate([seg.reshape(-1, 2), p[-1:]])
