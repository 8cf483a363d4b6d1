"""Where the lines of a page are: strokes grouped into lines of writing by vertical position,
and where typed text goes below existing ink. Pure numpy on `handwriting` ink, no Qt (it
belongs next to `handwriting.geometry` and can move there unchanged)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from handwriting.ink import Ink, Stroke

# A new line starts where the sorted stroke centres jump by more than this many typical
# letter heights. Within a line centres are dense (every letter or word has one); between
# lines they jump by the line spacing, which people keep at well over one letter height.
LINE_GAP = 0.8
# A stroke is "small" (an i-dot, a comma, a dash) below this fraction of the typical height;
# a group holding only small strokes is not a line and joins the nearest real one.
SMALL = 0.45
OVERLAP = 0.5
MAX_SLOPE = 0.3  # steeper writing is not corrected (tan of about 17 degrees)
LINE_PITCH = 2.4  # distance between synthesized lines, in writing heights (5-95 % y-range)


def stroke_extents(strokes: Sequence[Stroke]) -> np.ndarray:
    """(N, 2) top and bottom y of every stroke (y points down)."""
    return _stroke_stats(strokes)[0]


def _stroke_stats(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) top and bottom y and (N,) mean x of every stroke, in a few numpy calls."""
    if not strokes:
        return np.zeros((0, 2)), np.zeros(0)
    xy = np.concatenate([s.xy for s in strokes]).astype(np.float64)
    lengths = np.array([len(s) for s in strokes])
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    ext = np.stack([np.minimum.reduceat(xy[:, 1], starts),
                    np.maximum.reduceat(xy[:, 1], starts)], axis=1)
    return ext, np.add.reduceat(xy[:, 0], starts) / lengths


def typical_height(extents: np.ndarray) -> float:
    """The median height of the strokes that are more than dots: a letter or word height."""
    heights = extents[:, 1] - extents[:, 0]
    if len(heights) == 0 or heights.max() <= 0:
        return 1.0
    tall = heights[heights >= 0.3 * np.percentile(heights, 90)]
    return float(np.median(tall)) if len(tall) else float(heights.max())


def split_lines(strokes: Sequence[Stroke]) -> list[list[int]]:
    """Group stroke indices into lines of writing, top line first.

    1. Each stroke is reduced to its centre; h is the typical letter height.
    2. Sorted by vertical centre, a new group starts where consecutive centres are more than
       `LINE_GAP` * h apart.
    3. Neighbouring groups whose vertical extents overlap by more than `OVERLAP` of the
       shorter one's height are one line (quotes and capitals reach above a line's centres).
    4. A group of only small strokes (dots, commas, a dash) joins the group whose median
       centre is nearest.
    5. Lines written uphill or downhill: the slope of the centres within the groups found is
       removed and steps 2-4 run once more.

    Strokes keep their document (writing) order inside each line."""
    if not strokes:
        return []
    ext, cx = _stroke_stats(strokes)
    cy = ext.mean(1)
    groups = _group(cy, ext)
    if len(strokes) > 2:
        dx = np.concatenate([cx[g] - cx[g].mean() for g in groups])
        dy = np.concatenate([cy[g] - cy[g].mean() for g in groups])
        slope = float(np.clip((dx * dy).sum() / max((dx * dx).sum(), 1e-9), -MAX_SLOPE, MAX_SLOPE))
        shear = (slope * (cx - cx.mean()))[:, None]
        groups = _group(cy - shear[:, 0], ext - shear)
    return [sorted(g) for g in groups]


def _group(centre: np.ndarray, ext: np.ndarray) -> list[list[int]]:
    """Steps 2-4 of `split_lines` on (deskewed) centres and extents, top group first."""
    height = ext[:, 1] - ext[:, 0]
    h = max(typical_height(ext), 1e-6)
    order = np.argsort(centre, kind="stable")
    groups: list[list[int]] = [[int(order[0])]]
    for prev, cur in zip(order[:-1], order[1:], strict=True):
        if centre[cur] - centre[prev] > LINE_GAP * h:
            groups.append([])
        groups[-1].append(int(cur))
    groups = _merge_overlapping(groups, ext)
    real = [g for g in groups if height[g].max() >= SMALL * h]
    if not real:  # nothing but dots: one line
        return [list(range(len(centre)))]
    mids = np.array([np.median(centre[g]) for g in real])
    for g in groups:
        if height[g].max() < SMALL * h:
            real[int(np.argmin(np.abs(mids - np.median(centre[g]))))].extend(g)
    return [real[k] for k in np.argsort(mids, kind="stable")]


def _merge_overlapping(groups: list[list[int]], ext: np.ndarray) -> list[list[int]]:
    """Join neighbouring groups whose vertical extents overlap by more than `OVERLAP` of the
    shorter one: quotes, accents and a capital's top sit above a line's centres, not apart."""
    out = [groups[0]]
    for g in groups[1:]:
        a, b = out[-1], g
        top = max(ext[a, 0].min(), ext[b, 0].min())
        bottom = min(ext[a, 1].max(), ext[b, 1].max())
        shorter = min(np.ptp(ext[a]), np.ptp(ext[b]))
        if bottom - top > OVERLAP * max(shorter, 1e-9):
            a.extend(b)
        else:
            out.append(b)
    return out


def line_ink(ink: Ink, indices: Sequence[int]) -> Ink:
    """The strokes `indices` of `ink` as one line's ink (metadata kept)."""
    return ink.with_strokes(ink.strokes[i] for i in indices)


@dataclass(frozen=True)
class Placement:
    """Where synthesized lines go in scene units: line k starts at (`x0`, `y0 + k * pitch`)
    and one writing height is `height` scene units."""

    x0: float
    y0: float
    height: float
    pitch: float


def writing_height(ink: Ink) -> float | None:
    """The median writing height (5-95 % y-range) of the lines of `ink`, None when empty."""
    from handwriting.geometry import ink_height

    if ink.is_empty:
        return None
    heights = [ink_height(line_ink(ink, g)) for g in split_lines(ink.strokes)]
    heights = [h for h in heights if h > 0]
    return float(np.median(heights)) if heights else None


def place_below(ink: Ink, default_height: float, left: float, top: float) -> Placement:
    """Typed lines go under the existing ink, at its left edge and writing height; on an
    empty page at (`left`, `top`) with `default_height` (scene units)."""
    h = writing_height(ink) or default_height
    if ink.is_empty:
        return Placement(left, top + 1.2 * h, h, LINE_PITCH * h)
    x0, _, _, y1 = ink.bounds()
    return Placement(x0, y1 + 1.6 * h, h, LINE_PITCH * h)
