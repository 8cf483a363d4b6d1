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
    order = [int(i) for i in np.flatnonzero(big)]
    lines = [[order[0]]]
    left, right = lo[order[0], 0], hi[order[0], 0]
    for i in order[1:]:
        back = lo[i, 0] < min((left + right) / 2, right - h)  # not the next letter over
        if back and abs(cy[i] - np.median(cy[lines[-1][-5:]])) > LINE_JUMP * h:
            lines.append([i])
            left, right = lo[i, 0], hi[i, 0]
        else:
            lines[-1].append(i)
            left, right = min(left, lo[i, 0]), max(right, hi[i, 0])
    lines = _merge_bands(lines, lo, hi, cx, h)
    line_of = {k: n for n, line in enumerate(lines) for k in line}
    big_order = np.flatnonzero(big)
    for i in np.flatnonzero(~big):
        gaps = []
        for line in lines:  # how far above or below the line's band, and past its ends
            top, bottom = _band(line, cx[i], lo, hi, cx, h)
            beyond = max(lo[line, 0].min() - cx[i], cx[i] - hi[line, 0].max(), 0.0)
            # above a band counts half: i-dots and apostrophes sit above their line
            gaps.append(max(0.5 * (top - cy[i]), cy[i] - bottom, 0.0) + 0.5 * beyond
                        + 0.01 * abs(cy[i] - (top + bottom) / 2))
        best = int(np.argmin(gaps))
        # written between two strokes of one line, and near that line: it is that line's
        # (an i-dot placed high, between the lines, is nearer the band of the line above)
        at = int(np.searchsorted(big_order, i))
        if 0 < at < len(big_order):
            same = line_of[int(big_order[at - 1])]
            if line_of[int(big_order[at])] == same and gaps[same] <= ORDER_SLACK * h:
                best = same
        lines[best].append(int(i))
    mids = [np.median(cy[[k for k in line if big[k]]]) for line in lines]
    return [sorted(lines[k]) for k in np.argsort(mids, kind="stable")]


def _band(line: list[int], x: float, lo: np.ndarray, hi: np.ndarray, cx: np.ndarray,
          h: float) -> tuple[float, float]:
    """Top and bottom of the writing of `line` (stroke indices) near `x`: its strokes within
    3 h of x (at least its three nearest), quartiles of their tops and bottoms."""
    idx = np.asarray(line)
    d = np.abs(cx[idx] - x)
    near = idx[d <= max(3 * h, np.sort(d)[min(2, len(d) - 1)])]
    return _percentile(lo[near, 1], 25), _percentile(hi[near, 1], 75)


def _percentile(values: np.ndarray, q: float) -> float:
    """`np.percentile(values, q)` (linear interpolation) without its per-call overhead of
    ~0.1 ms: grouping a page calls it hundreds of times, in the app's GUI thread."""
    a = np.sort(values)
    pos = (len(a) - 1) * q / 100.0
    i = int(pos)
    j = min(i + 1, len(a) - 1)
    return float(a[i] + (a[j] - a[i]) * (pos - i))


def _merge_bands(lines: list[list[int]], lo: np.ndarray, hi: np.ndarray, cx: np.ndarray,
                 h: float) -> list[list[int]]:
    """Step 3 of `group_lines`: smallest piece first, join the piece whose band overlaps its
    own most (by `BAND_OVERLAP` at least), until no piece joins another."""
    lines = [list(line) for line in lines]
    merged = True
    while merged and len(lines) > 1:
        merged = False
        for a in sorted(range(len(lines)), key=lambda k: len(lines[k])):
            own = np.asarray(lines[a])
            top, bottom = _percentile(lo[own, 1], 25), _percentile(hi[own, 1], 75)
            best, into = BAND_OVERLAP, None
            for b, other in enumerate(lines):
                if b == a or len(other) < len(own):
                    continue
                t, bt = _band(other, float(np.median(cx[own])), lo, hi, cx, h)
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
