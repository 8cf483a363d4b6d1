"""Pure geometry on `Ink`: normalize, resample by arc length, slope and slant correction,
smoothing. Every function returns new ink and never mutates its input."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from handwriting.ink import Ink, InkError, Stroke


def _all_xy(ink: Ink) -> np.ndarray:
    if ink.is_empty:
        raise InkError("ink is empty")
    return np.concatenate([s.xy for s in ink.strokes]).astype(np.float64)


def ink_height(ink: Ink) -> float:
    """A robust writing height: the 5-95 % range of y (ignores stray descender points)."""
    y = _all_xy(ink)[:, 1]
    lo, hi = np.percentile(y, [5, 95])
    return float(hi - lo)


def normalize(ink: Ink, height: float = 1.0) -> Ink:
    """Translate and scale so the robust y-range becomes `height`, the median y sits at 0
    and the leftmost point at x = 0 (aspect ratio kept)."""
    xy = _all_xy(ink)
    h = ink_height(ink)
    if h <= 1e-9:
        h = max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])), 1e-9)
    scale = height / h
    x0, y0 = xy[:, 0].min(), np.median(xy[:, 1])
    return ink.map_xy(lambda p: ((p - (x0, y0)) * scale).astype(np.float32))


def resample(ink: Ink, spacing: float) -> Ink:
    """Points evenly `spacing` apart along each stroke's arc (times and pressure interpolated).
    Every stroke keeps its first and last point, so a dot stays a dot."""
    if spacing <= 0:
        raise ValueError(f"resample spacing must be positive, got {spacing}")
    out = []
    for s in ink.strokes:
        xy = s.xy.astype(np.float64)
        seg = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        total = arc[-1]
        if total < spacing:
            idx = [0, len(xy) - 1] if len(xy) > 1 and total > 0 else [0]
            out.append(Stroke(s.xy[idx], s.t[idx], None if s.pressure is None else s.pressure[idx]))
            continue
        n = int(np.floor(total / spacing)) + 1
        targets = np.linspace(0.0, total, n)
        # np.interp needs strictly increasing x; drop zero-length segments first.
        keep = np.concatenate([[True], seg > 0])
        a = arc[keep]
        new_xy = np.stack([np.interp(targets, a, xy[keep, 0]), np.interp(targets, a, xy[keep, 1])], 1)
        new_t = np.interp(targets, a, s.t[keep])
        new_p = None if s.pressure is None else np.interp(targets, a, s.pressure[keep])
        out.append(Stroke(new_xy.astype(np.float32), new_t, new_p))
    return ink.with_strokes(out)


def estimate_slope(ink: Ink) -> float:
    """Baseline angle in radians, by least squares through all points (x right, y down)."""
    xy = _all_xy(ink)
    if np.ptp(xy[:, 0]) < 1e-9:
        return 0.0
    slope = np.polyfit(xy[:, 0], xy[:, 1], 1)[0]
    return float(np.arctan(slope))


def correct_slope(ink: Ink) -> Ink:
    """Rotate the ink so its least-squares baseline is horizontal."""
    angle = estimate_slope(ink)
    c, s = np.cos(-angle), np.sin(-angle)
    rot = np.array([[c, -s], [s, c]])
    return ink.map_xy(lambda p: (p.astype(np.float64) @ rot.T).astype(np.float32))


def estimate_slant(ink: Ink) -> float:
    """Slant angle in radians of near-vertical strokes, length-weighted (0 = upright,
    positive = leaning right with y pointing down)."""
    num = den = 0.0
    for s in ink.strokes:
        d = np.diff(s.xy.astype(np.float64), axis=0)
        if len(d) == 0:
            continue
        length = np.hypot(d[:, 0], d[:, 1])
        steep = np.abs(d[:, 1]) > 2 * np.abs(d[:, 0])  # within ~27 degrees of vertical
        if not steep.any():
            continue
        # Angle from the vertical: dx/dy; sign so that a downstroke leaning right is positive.
        ang = np.arctan2(-d[steep, 0] * np.sign(d[steep, 1]), np.abs(d[steep, 1]))
        num += float((ang * length[steep]).sum())
        den += float(length[steep].sum())
    return num / den if den > 0 else 0.0


def shear(ink: Ink, angle: float) -> Ink:
    """Shear x by y·tan(angle): positive angles lean the writing to the right (y down)."""
    k = np.tan(angle)
    return ink.map_xy(lambda p: np.stack([p[:, 0] - k * p[:, 1], p[:, 1]], 1).astype(np.float32))


def correct_slant(ink: Ink, passes: int = 4) -> Ink:
    """Shear the ink so its estimated slant becomes upright. `estimate_slant` only sees
    near-vertical segments and so under-reads strong slants: re-estimate and combine the
    shears a few times (converges to < 0.003 rad in practice)."""
    k, out = 0.0, ink
    for _ in range(passes):
        a = estimate_slant(out)
        if abs(a) < 1e-4:
            break
        k += np.tan(a)
        out = shear(ink, -np.arctan(k))
    return out


def smooth(ink: Ink, sigma: float = 1.0) -> Ink:
    """Gaussian smoothing of each stroke's coordinates over `sigma` points."""
    if sigma <= 0:
        return ink
    return ink.map_xy(
        lambda p: gaussian_filter1d(p.astype(np.float64), sigma, axis=0, mode="nearest").astype(
            np.float32
        )
        if len(p) > 2
        else p.copy()
    )


def translate(ink: Ink, dx: float, dy: float) -> Ink:
    return ink.map_xy(lambda p: (p + np.float32([dx, dy])).astype(np.float32))


def scale(ink: Ink, sx: float, sy: float | None = None) -> Ink:
    sy = sx if sy is None else sy
    return ink.map_xy(lambda p: (p * np.float32([sx, sy])).astype(np.float32))


def join_lines(lines: list[Ink], gap: float = 0.6) -> Ink:
    """One `Ink` holding `lines` stacked top to bottom, `gap` writing heights apart (heights
    measured robustly per line), left edges aligned; later lines' times follow earlier ones."""
    lines = [ln for ln in lines if not ln.is_empty]
    if not lines:
        return Ink()
    strokes, y_next, t_next = [], None, 0.0
    for ln in lines:
        x0, y0, _, y1 = ln.bounds()
        h = max(ink_height(ln), 1e-6)
        dy = 0.0 if y_next is None else y_next - y0
        t0 = float(ln.strokes[0].t[0])
        for s in ln.strokes:
            strokes.append(Stroke(s.xy - np.float32([x0, -dy]), s.t - t0 + t_next, s.pressure))
        y_next = y1 + dy + gap * h
        t_next = float(strokes[-1].t[-1]) + 0.5
    return Ink(tuple(strokes), {"text": "\n".join(str(ln.meta.get("text", "")) for ln in lines)})
