"""Pure geometry on `Ink`: normalize, resample by arc length, slope and slant correction,
smoothing, and grouping a page's strokes into lines of writing. Every function returns new
ink (or new arrays) and never mutates its input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from handwriting.ink import Ink, InkError, Stroke


def _all_xy(ink: Ink) -> np.ndarray:
    if ink.is_empty:
        raise InkError("ink is empty")
    return np.concatenate([s.xy for s in ink.strokes]).astype(np.float64)


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only float32 array, as `Stroke` keeps its data."""
    out = np.array(a, dtype=np.float32)  # a copy: never a view of another stroke's data
    out.setflags(write=False)
    return out


def ink_height(ink: Ink) -> float:
    """A robust writing height: the 5-95 % range of y (ignores stray descender points)."""
    y = _all_xy(ink)[:, 1]
    lo, hi = np.percentile(y, [5, 95])
    return float(hi - lo)


# A line is never taken to be flatter than this: a 100-point line 1e-5 units tall would
# otherwise be scaled up a million times and resampled into billions of points.
MAX_ASPECT = 200.0


def normalize_scale(ink: Ink) -> float:
    """The factor `normalize` multiplies coordinates by for unit height: 1 / the robust
    y-range, the range taken to be at least 1/MAX_ASPECT of the ink's larger extent."""
    xy = _all_xy(ink)
    extent = max(float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])))
    return 1.0 / max(ink_height(ink), extent / MAX_ASPECT, 1e-9)


def normalize(ink: Ink, height: float = 1.0) -> Ink:
    """Translate and scale so the robust y-range becomes `height`, the median y sits at 0
    and the leftmost point at x = 0 (aspect ratio kept). The y-range is taken to be at least
    1/MAX_ASPECT of the ink's larger extent, which bounds the work of resampling after it."""
    xy = _all_xy(ink)
    scale = height * normalize_scale(ink)
    x0, y0 = xy[:, 0].min(), np.median(xy[:, 1])
    return ink.map_points(lambda p: ((p - (x0, y0)) * scale).astype(np.float32))


def resampled_count(ink: Ink, spacing: float) -> int:
    """How many points `resample(ink, spacing)` will return, computed from the arc lengths
    alone, so callers can refuse oversized work before allocating it."""
    if spacing <= 0:
        raise ValueError(f"resample spacing must be positive, got {spacing}")
    total = 0
    for s in ink.strokes:
        xy = s.xy.astype(np.float64)
        arc = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0
        if arc < spacing:
            total += 2 if len(xy) > 1 and arc > 0 else 1
        else:
            total += int(np.floor(arc / spacing + 1e-6)) + 1
    return total


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
            out.append(Stroke._trusted(_frozen(s.xy[idx]), _frozen(s.t[idx]),
                                       None if s.pressure is None else _frozen(s.pressure[idx])))
            continue
        # float32 ink rounds a 10-unit line to 9.99999: at spacing 5 that is 2 steps, not 1
        n = int(np.floor(total / spacing + 1e-6)) + 1
        targets = np.linspace(0.0, total, n)
        # np.interp needs strictly increasing x; drop zero-length segments first.
        keep = np.concatenate([[True], seg > 0])
        a = arc[keep]
        new_xy = np.stack([np.interp(targets, a, xy[keep, 0]), np.interp(targets, a, xy[keep, 1])], 1)
        new_t = np.interp(targets, a, s.t[keep])
        new_p = None if s.pressure is None else np.interp(targets, a, s.pressure[keep])
        # interpolated between finite points of a checked stroke: finite, no check needed
        out.append(Stroke._trusted(_frozen(new_xy), _frozen(new_t),
                                   None if new_p is None else _frozen(new_p)))
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
    return ink.map_points(lambda p: (p.astype(np.float64) @ rot.T).astype(np.float32))


def estimate_slant(ink: Ink) -> float:
    """Slant angle in radians of near-vertical strokes, length-weighted (0 = upright,
    positive = leaning right with y pointing down)."""
    if ink.is_empty:
        return 0.0
    xy = _all_xy(ink)
    d = np.diff(xy, axis=0)
    inside = np.ones(len(d), bool)  # segments within a stroke, not the jumps between
    inside[np.cumsum([len(s) for s in ink.strokes])[:-1] - 1] = False
    length = np.hypot(d[:, 0], d[:, 1])
    steep = inside & (np.abs(d[:, 1]) > 2 * np.abs(d[:, 0]))  # within ~27 degrees of vertical
    den = float(length[steep].sum())
    if not den > 0:
        return 0.0
    # Angle from the vertical: dx/dy; sign so that a downstroke leaning right is positive.
    ang = np.arctan2(-d[steep, 0] * np.sign(d[steep, 1]), np.abs(d[steep, 1]))
    return float((ang * length[steep]).sum()) / den


def shear(ink: Ink, angle: float) -> Ink:
    """Shear x by y·tan(angle): positive angles lean the writing to the right (y down)."""
    k = np.tan(angle)
    return ink.map_points(lambda p: np.stack([p[:, 0] - k * p[:, 1], p[:, 1]], 1).astype(np.float32))


def slant_angle(ink: Ink, passes: int = 4) -> float:
    """The slant `correct_slant` removes, in radians (0 = upright, positive = leaning right).
    `estimate_slant` only sees near-vertical segments and so under-reads strong slants:
    re-estimate on the sheared ink and combine the shears a few times (converges to
    < 0.003 rad in practice)."""
    k, out = 0.0, ink
    for _ in range(passes):
        a = estimate_slant(out)
        if abs(a) < 1e-4:
            break
        k += np.tan(a)
        out = shear(ink, -np.arctan(k))
    return float(np.arctan(k))


def correct_slant(ink: Ink, passes: int = 4) -> Ink:
    """Shear the ink so its slant (`slant_angle`) becomes upright."""
    angle = slant_angle(ink, passes)
    return shear(ink, -angle) if angle else ink


def smooth(ink: Ink, sigma: float = 1.0) -> Ink:
    """Gaussian smoothing of each stroke's coordinates over `sigma` points."""
    # scipy loads here, not with the module: line grouping runs at the app's start-up
    from scipy.ndimage import gaussian_filter1d

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
    return ink.map_points(lambda p: (p + np.float32([dx, dy])).astype(np.float32))


def scale(ink: Ink, sx: float, sy: float | None = None) -> Ink:
    sy = sx if sy is None else sy
    return ink.map_points(lambda p: (p * np.float32([sx, sy])).astype(np.float32))


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


def line_ink(ink: Ink, indices: Sequence[int]) -> Ink:
    """The strokes `indices` of `ink` as one line's ink (metadata kept)."""
    return ink.with_strokes(ink.strokes[i] for i in indices)


# `core_height` resamples each line to about this many points per writing height.
CORE_POINTS_PER_HEIGHT = 30


def core_height(ink: Ink) -> float:
    """The height of a line's core band: the interquartile range of y over points evenly
    spaced along the pen's path (slope removed). Ascenders, descenders and capitals are a
    minority of the path, so this follows the size of the small letters and depends less on
    which letters a line holds than the 5-95 % range (`ink_height`) does. Measured on
    IAM-OnDB testset_v (one writer per form; `models/synthesizer.md`): across
    the two-word chunks of one line it varies by a median 18 % where the 5-95 % range varies
    by 22 %, and across the lines of one form by 13 % against 15 %. 0 for empty or flat ink."""
    if ink.is_empty:
        return 0.0
    flat = correct_slope(ink)
    h = ink_height(flat)
    if h <= 1e-9:
        return 0.0
    y = _path_ys(flat, h / CORE_POINTS_PER_HEIGHT, limit=200_000)
    if y is None:  # absurdly long ink: the plain points do
        y = _all_xy(flat)[:, 1]
    lo, hi = np.percentile(y, [25, 75])
    return float(hi - lo)


def _path_ys(ink: Ink, spacing: float, limit: int) -> np.ndarray | None:
    """The y of `resample(ink, spacing)` (up to rounding) in a few array operations over all
    strokes at once, None beyond `limit` points: `core_height` runs in the app's GUI thread
    when typed text is committed, where a loop over strokes cost ~5 ms a line."""
    xy = _all_xy(ink).astype(np.float64)
    lens = np.array([len(s) for s in ink.strokes])
    starts, ends = np.r_[0, np.cumsum(lens)[:-1]], np.cumsum(lens) - 1
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[ends[:-1]] = spacing + 1.0  # a gap between strokes, which no target falls in
    arc = np.r_[0.0, np.cumsum(seg)]
    total = arc[ends] - arc[starts]
    # as `resample`: evenly spaced, ends kept; shorter than a spacing: both ends (a dot: one)
    n = np.where(total < spacing, np.where((lens > 1) & (total > 0), 2, 1),
                 np.floor(total / spacing + 1e-6).astype(np.int64) + 1)
    if n.sum() > limit:
        return None
    step = total / np.maximum(n - 1, 1)
    first = np.r_[0, np.cumsum(n)[:-1]]
    j = np.arange(n.sum()) - np.repeat(first, n)
    return np.interp(np.repeat(arc[starts], n) + j * np.repeat(step, n), arc, xy[:, 1])


def equal_heights(lines: Sequence[Ink]) -> list[Ink]:
    """The lines of one text scaled (about each line's left end and median height, aspect
    kept) to their median core height (`core_height`), so a wrapped text is written at one
    size: sampled lines of one text varied by 20-160 % from one another. Scaling to the
    5-95 % range instead (until Dec 2026) blew a short last line without descenders
    ("tickets.") up to 1.3-1.6 times the first line's letter size."""
    heights = [core_height(line) for line in lines]
    good = [h for h in heights if h > 1e-9]
    if len(good) < 2:
        return list(lines)
    target = float(np.median(good))
    out = []
    for line, h in zip(lines, heights, strict=True):
        if h <= 1e-9:
            out.append(line)
            continue
        xy = _all_xy(line)
        origin = np.array([xy[:, 0].min(), np.median(xy[:, 1])])
        k = target / h
        out.append(line.map_points(lambda p, o=origin, k=k: ((p - o) * k + o).astype(np.float32)))
    return out
