"""The lines of writing on a page: stroke indices grouped into lines, top line first, from the
strokes' shapes and their writing order alone (`group_lines`), as the app and the CLI's page
reader (`handwriting.pages`) both read a page; and the page's writing height, the median of
its lines' (`writing_height`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from handwriting.geometry import ink_height, line_ink
from handwriting.ink import Ink, Stroke

# A stroke is "small" (an i-dot, a comma, a dash) below this fraction of the typical height;
# small strokes never make a line of their own and join the line nearest them.
SMALL_STROKE = 0.45
# A carriage return: the pen goes back left of the middle of the line so far and lands more
# than this many typical heights above or below the line's last strokes.
LINE_JUMP = 0.7
# Two pieces of writing are one line where their writing bands overlap by this much of the
# narrower band (a word added to a line later, strokes written out of order).
BAND_OVERLAP = 0.5
# A small stroke written between two strokes of one line joins that line when it lies within
# this many typical heights of the line's band, even if another band is nearer.
ORDER_SLACK = 0.75


def _stroke_boxes(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) minimum x, y and (N, 2) maximum x, y of every stroke, in a few numpy calls."""
    xy = np.concatenate([s.xy for s in strokes]).astype(np.float64)
    starts = np.r_[0, np.cumsum([len(s) for s in strokes])[:-1]]
    return np.minimum.reduceat(xy, starts), np.maximum.reduceat(xy, starts)


def typical_height(extents: np.ndarray) -> float:
    """The median height of the strokes that are more than dots: a letter or word height."""
    heights = extents[:, 1] - extents[:, 0]
    if len(heights) == 0 or heights.max() <= 0:
        return 1.0
    tall = heights[heights >= 0.3 * np.percentile(heights, 90)]
    return float(np.median(tall)) if len(tall) else float(heights.max())


def group_lines(ink: Ink) -> list[list[int]]:
    """Group the stroke indices of `ink` into lines of writing, top line first.

    1. h is the typical letter height; strokes under `SMALL_STROKE` * h (dots, commas) wait.
    2. In document order (the order strokes were written or stored; timestamps are not
       trusted: files restart them per line), a new line starts at a carriage return: a
       stroke that begins left of the middle of the line so far (and a letter height or
       more back), `LINE_JUMP` * h or more above or below the line's last strokes. Writing
       order keeps close and sloping lines apart where the strokes' heights interleave.
    3. Pieces whose writing bands overlap by `BAND_OVERLAP` where they lie are one line (a
       word added to a line afterwards, lines written out of order).
    4. Small strokes join the line whose band is nearest them at their x (a line that ends
       before them, or starts after, is that much further; above a band counts half, as
       i-dots and apostrophes sit above their line), or the line they were written in (the
       strokes before and after them in document order are that line's) when they lie
       within `ORDER_SLACK` * h of its band.

    A function of the strokes and their order alone, so undo and redo give back the grouping
    they had. Strokes keep their document order inside each line."""
    strokes = ink.strokes
    if not strokes:
        return []
    lo, hi = _stroke_boxes(strokes)
    h = max(typical_height(np.stack([lo[:, 1], hi[:, 1]], axis=1)), 1e-6)
    big = hi[:, 1] - lo[:, 1] >= SMALL_STROKE * h
    if not big.any():  # nothing but dots: one line
        return [list(range(len(strokes)))]
    cx, cy = (lo[:, 0] + hi[:, 0]) / 2, (lo[:, 1] + hi[:, 1]) / 2
    order = np.flatnonzero(big).tolist()
    lines = [[order[0]]]
    x0, x1, y = lo[:, 0].tolist(), hi[:, 0].tolist(), cy.tolist()  # Python floats: a loop
    left, right = x0[order[0]], x1[order[0]]
    for i in order[1:]:
        back = x0[i] < min((left + right) / 2, right - h)  # not the next letter over
        if back and abs(y[i] - _median([y[k] for k in lines[-1][-5:]])) > LINE_JUMP * h:
            lines.append([i])
            left, right = x0[i], x1[i]
        else:
            lines[-1].append(i)
            left, right = min(left, x0[i]), max(right, x1[i])
    lines = _merge_bands(lines, lo, hi, cx, h)
    line_of = {k: n for n, line in enumerate(lines) for k in line}
    big_order = np.flatnonzero(big)
    small = np.flatnonzero(~big)
    xs, ys = cx[small], cy[small]
    gaps, reach = np.empty((len(small), len(lines))), np.empty((len(small), len(lines)))
    for n, line in enumerate(lines):
        gaps[:, n], reach[:, n] = _gaps_to(line, xs, ys, lo, hi, cx, h)
    for s, i in enumerate(small):
        best = int(np.argmin(gaps[s]))
        # written between two strokes of one line, and near that line: it is that line's
        # (an i-dot placed high, between the lines, is nearer the band of the line above)
        at = int(np.searchsorted(big_order, i))
        if 0 < at < len(big_order):
            same = line_of[int(big_order[at - 1])]
            if line_of[int(big_order[at])] == same and gaps[s, same] <= ORDER_SLACK * h:
                best = same
        line = lines[best]
        rest = _reached(i, line, s + 1, xs, reach[:, best], lo, hi, cx)
        line.append(int(i))
        if len(rest):  # the line's band now holds this stroke too (a comma widens it)
            gaps[rest, best], reach[rest, best] = _gaps_to(line, xs[rest], ys[rest], lo, hi,
                                                           cx, h)
    mids = [np.median(cy[[k for k in line if big[k]]]) for line in lines]
    return [sorted(lines[k]) for k in np.argsort(mids, kind="stable")]


def _quartiles(values: np.ndarray, q: int) -> float:
    """`np.percentile(values, q)` with linear interpolation, without its ~0.1 ms per call."""
    a = np.sort(values)
    pos = (len(a) - 1) * q / 100.0
    i = int(pos)
    j = min(i + 1, len(a) - 1)
    return float(a[i] + (a[j] - a[i]) * (pos - i))


def _median(values) -> float:
    """`np.median` of a few values (the same number) without its ~20 us per call."""
    a = sorted(values.tolist() if isinstance(values, np.ndarray) else values)
    mid = len(a) // 2
    return a[mid] if len(a) % 2 else (a[mid - 1] + a[mid]) / 2


def _reached(i: int, line: list[int], first: int, xs: np.ndarray, reach: np.ndarray,
             lo: np.ndarray, hi: np.ndarray, cx: np.ndarray) -> np.ndarray:
    """The small strokes from `first` on (indices into xs) whose distance from `line`
    changes when stroke i joins it: those whose band at their x reached i (`_bands`), and
    those past the line's end that i extends. Any other's three nearest strokes and 3 h
    neighbourhood stay as they were, so recomputing these alone is exactly recomputing all,
    in a fraction of the time (grouping runs in the app's GUI thread after every stroke)."""
    rest = np.arange(first, len(xs))
    if len(line) < 3:  # its "three nearest" grow with i
        return rest
    x_min, x_max, xr = lo[line, 0].min(), hi[line, 0].max(), xs[rest]
    return rest[(np.abs(cx[i] - xr) <= reach[rest]) | ((xr < x_min) & (lo[i, 0] < x_min))
                | ((xr > x_max) & (hi[i, 0] > x_max))]


def _gaps_to(line: list[int], xs: np.ndarray, ys: np.ndarray, lo: np.ndarray, hi: np.ndarray,
             cx: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Step 4's distance of small strokes' centres (xs, ys) from `line`: how far above
    (counting half: i-dots and apostrophes sit above their line) or below the line's band at
    their x, plus half how far past the line's ends, plus a hundredth of the distance from
    the band's middle (which breaks ties); and the reach of the band at each x (`_bands`)."""
    idx = np.asarray(line)
    top, bottom, reach = _bands(idx, xs, lo, hi, cx, h)
    beyond = np.maximum(np.maximum(lo[idx, 0].min() - xs, xs - hi[idx, 0].max()), 0.0)
    gaps = np.maximum(np.maximum(0.5 * (top - ys), ys - bottom), 0.0)
    gaps += 0.5 * beyond
    gaps += 0.01 * np.abs(ys - (top + bottom) / 2)
    return gaps, reach


def _bands(idx: np.ndarray, xs: np.ndarray, lo: np.ndarray, hi: np.ndarray, cx: np.ndarray,
           h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top and bottom of the writing of a line (its stroke indices `idx`) near each x of
    `xs`: its strokes within the reach of x (3 h, or as far as its third nearest), the first
    quartile of their tops and the third of their bottoms, interpolated linearly as
    `np.percentile` does; and the reach. All xs at once, in few NumPy calls: grouping runs
    in the app's GUI thread after every stroke."""
    d = np.abs(cx[idx] - xs[:, None])
    reach = np.partition(d, min(2, len(idx) - 1), axis=1)[:, min(2, len(idx) - 1)]
    np.maximum(reach, 3 * h, out=reach)
    near = d <= reach[:, None]
    last = np.count_nonzero(near, axis=1) - 1
    rows = np.arange(len(xs))
    return (_quartile_rows(np.where(near, lo[idx, 1], np.inf), rows, last, 0.25),
            _quartile_rows(np.where(near, hi[idx, 1], np.inf), rows, last, 0.75), reach)


def _quartile_rows(a: np.ndarray, rows: np.ndarray, last: np.ndarray, q: float) -> np.ndarray:
    """Per row of `a` (R, N), the quantile q of its first last + 1 values once sorted (the
    rest are inf), interpolated linearly as `np.percentile` does."""
    a.sort(axis=1)
    pos = last * q
    i = pos.astype(np.int64)
    v = a[rows, i]
    return v + (a[rows, np.minimum(i + 1, last)] - v) * (pos - i)


def _merge_bands(lines: list[list[int]], lo: np.ndarray, hi: np.ndarray, cx: np.ndarray,
                 h: float) -> list[list[int]]:
    """Step 3 of `group_lines`: smallest piece first, join the piece whose band overlaps its
    own most (by `BAND_OVERLAP` at least), until no piece joins another."""
    lines = [list(line) for line in lines]
    merged = True
    while merged and len(lines) > 1:
        merged = False
        # every piece's band at every piece's middle, a vectorized call per piece
        xs = np.array([_median(cx[line]) for line in lines])
        at = [_bands(np.asarray(other), xs, lo, hi, cx, h)[:2] for other in lines]
        for a in sorted(range(len(lines)), key=lambda k: len(lines[k])):
            own = np.asarray(lines[a])
            top, bottom = _quartiles(lo[own, 1], 25), _quartiles(hi[own, 1], 75)
            best, into = BAND_OVERLAP, None
            for b, other in enumerate(lines):
                if b == a or len(other) < len(own):
                    continue
                t, bt = float(at[b][0][a]), float(at[b][1][a])
                overlap = (min(bottom, bt) - max(top, t)) / max(min(bottom - top, bt - t), 1e-9)
                if overlap >= best:
                    best, into = overlap, b
            if into is not None:
                lines[into] += lines[a]
                del lines[a]
                merged = True
                break
    return lines


def writing_height(ink: Ink) -> float | None:
    """The median writing height (5-95 % y-range) of the lines of `ink`, None when empty."""
    if ink.is_empty:
        return None
    heights = [ink_height(line_ink(ink, g)) for g in group_lines(ink)]
    heights = [h for h in heights if h > 0]
    return float(np.median(heights)) if heights else None
