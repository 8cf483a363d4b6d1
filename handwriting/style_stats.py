"""Statistics of a line of ink that describe a hand (slant, x-height, letter width, word
spacing, pen lifts, pen speed), and a distance between two hands normalized by how much each
statistic varies between writers. Measures style fidelity of primed synthesis (issue 18,
item 6; issue 14, item 3); `handwriting evaluate style` runs it on IAM-OnDB writers."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from handwriting import geometry
from handwriting.ink import Ink, InkError

# Arc-length step (in writing heights) the shape statistics are measured at: the same for raw
# tablet ink (~21 points per character) and sampled ink (~10), so neither point rate counts.
SPACING = 0.05
# The statistics the distance compares. Pen speed and pen-up time are left out: sampled ink
# has synthetic timing (one point every `ink.POINT_SECONDS`), which says nothing of a hand.
SHAPE_STATS = ("slant", "x_height", "letter_width", "word_gap", "strokes_per_char",
               "ink_per_char")
MAD_TO_SD = 1.4826  # median absolute deviation -> standard deviation of a normal


@dataclass(frozen=True)
class StyleStats:
    """What a line of ink says about its writer. Lengths are in writing heights h: the 5-95 %
    range of y of the desloped ink resampled every `SPACING` h (ascender top to descender
    bottom, robustly); per character means per non-space character of the text."""

    slant: float  # radians, 0 upright, > 0 leaning right: the shear deslanting removes
    x_height: float  # the core band (interquartile range of y), in h
    letter_width: float  # ink width per character of the text, spaces included, in h
    word_gap: float  # mean of the widest gaps between pieces of ink, one per word space, in h
    strokes_per_char: float  # pen lifts: printed hands lift more than joined-up ones
    ink_per_char: float  # pen-down path length per character, in h
    pen_speed: float  # median pen-down speed, h per second (nan without timestamps)
    pen_up_time: float  # fraction of the writing time the pen is up (nan without timestamps)

    def vector(self, names: Sequence[str] = SHAPE_STATS) -> np.ndarray:
        return np.array([getattr(self, n) for n in names], np.float64)

    def to_dict(self, digits: int = 4) -> dict:
        return {k: (None if not np.isfinite(v) else round(float(v), digits))
                for k, v in asdict(self).items()}


def _merged_intervals(lo: np.ndarray, hi: np.ndarray) -> list[tuple[float, float]]:
    """The union of the x intervals [lo_i, hi_i] as sorted disjoint intervals."""
    out: list[list[float]] = []
    for a, b in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _timing(ink: Ink, h: float) -> tuple[float, float]:
    """Median pen-down speed (h per second) and the fraction of time the pen is up."""
    t = [s.t.astype(np.float64) for s in ink.strokes]
    span = t[-1][-1] - t[0][0]
    down = sum(float(x[-1] - x[0]) for x in t)
    speeds = []
    for s in ink.strokes:
        dt = np.diff(s.t.astype(np.float64))
        d = np.hypot(*np.diff(s.xy.astype(np.float64), axis=0).T)
        ok = dt > 0
        speeds.append(d[ok] / dt[ok] / h)
    v = np.concatenate(speeds) if speeds else np.zeros(0)
    if span <= 0 or not len(v):
        return float("nan"), float("nan")
    return float(np.median(v)), float(np.clip(1.0 - down / span, 0.0, 1.0))


def style_stats(ink: Ink, text: str) -> StyleStats:
    """The `StyleStats` of one line of `ink` that says `text`. Invariant to the ink's scale,
    position, baseline slope and point rate."""
    if ink.is_empty:
        raise InkError("ink is empty: no style to measure")
    letters = sum(not c.isspace() for c in text)
    if not letters:
        raise ValueError(f"text {text!r} has no characters to measure ink per character by")
    flat = geometry.correct_slope(ink)
    slant = geometry.slant_angle(flat)
    unit = geometry.normalize(flat)
    if geometry.resampled_count(unit, SPACING) > 200_000:
        raise InkError("ink too long to measure: split it into lines")
    pts = geometry.resample(unit, SPACING)
    xy = np.concatenate([s.xy for s in pts.strokes]).astype(np.float64)
    p5, p25, p75, p95 = np.percentile(xy[:, 1], [5, 25, 75, 95])
    h = max(p95 - p5, 1e-9)
    x_height = (p75 - p25) / h
    width = float(np.ptp(xy[:, 0])) / h
    lo = np.array([s.xy[:, 0].min() for s in pts.strokes], np.float64)
    hi = np.array([s.xy[:, 0].max() for s in pts.strokes], np.float64)
    pieces = _merged_intervals(lo, hi)
    gaps = np.sort([b[0] - a[1] for a, b in zip(pieces[:-1], pieces[1:], strict=True)])[::-1]
    spaces = len(text.split()) - 1
    word_gap = float(np.mean(gaps[:spaces])) / h if spaces and len(gaps) else float("nan")
    length = sum(float(np.hypot(*np.diff(s.xy.astype(np.float64), axis=0).T).sum())
                 for s in unit.strokes)
    speed, up = _timing(unit, h)
    return StyleStats(slant=slant, x_height=float(x_height),
                      letter_width=float(width / len(text)), word_gap=float(word_gap),
                      strokes_per_char=len(ink.strokes) / letters,
                      ink_per_char=float(length / h / letters), pen_speed=speed, pen_up_time=up)


def mean_stats(stats: Sequence[StyleStats]) -> StyleStats:
    """The statistic-by-statistic mean of several lines' stats (nan where none has one)."""
    if not stats:
        raise ValueError("no lines to average")
    names = list(StyleStats.__dataclass_fields__)
    rows = np.array([[getattr(s, n) for n in names] for s in stats], np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-nan column's mean: nan
        means = np.nanmean(rows, axis=0)
    return StyleStats(**{n: float(v) for n, v in zip(names, means, strict=True)})


# --------------------------------------------------------------------------- distance


def population_spread(vectors: np.ndarray) -> np.ndarray:
    """(N, D) one stat vector per writer -> (D,) how much each statistic varies between
    writers: 1.4826 x the median absolute deviation from the median (a standard deviation
    that one odd writer cannot inflate), the plain standard deviation where that is 0, and
    never below 1e-6."""
    v = np.asarray(vectors, np.float64)
    if v.ndim != 2 or len(v) < 2:
        raise ValueError(f"a spread needs stat vectors of at least 2 writers, got {v.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mad = MAD_TO_SD * np.nanmedian(np.abs(v - np.nanmedian(v, 0)), 0)
        sd = np.nanstd(v, 0)
    out = np.where(mad > 0, mad, sd)
    return np.maximum(np.nan_to_num(out, nan=1.0), 1e-6)


def style_distance(a: np.ndarray, b: np.ndarray, spread: np.ndarray) -> float:
    """Root mean square over the statistics of (a - b) / spread: 1.0 is a typical difference
    between two writers in every statistic. Statistics missing (nan) in either are skipped."""
    z = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) / spread
    z = z[np.isfinite(z)]
    if not len(z):
        raise ValueError("no statistic is known in both stat vectors")
    return float(np.sqrt(np.mean(z * z)))


def fidelity(outputs: np.ndarray, own: np.ndarray, spread: np.ndarray) -> list[dict]:
    """For writer i: is `outputs[i]` (the stats of ink written in i's style) closer to
    `own[i]` (i's own ink) than to the mean of the other writers' own vectors? One dict per
    writer with both distances, `closer`, and the writer nearest to the output (`nearest`,
    an index: a stricter test than the mean of the others)."""
    outputs, own = np.asarray(outputs, np.float64), np.asarray(own, np.float64)
    if outputs.shape != own.shape or len(own) < 2:
        raise ValueError(f"outputs {outputs.shape} and own {own.shape}: one row per writer, "
                         "at least 2 writers")
    rows = []
    for i in range(len(own)):
        others = np.nanmean(np.delete(own, i, axis=0), axis=0)
        d_own = style_distance(outputs[i], own[i], spread)
        d_others = style_distance(outputs[i], others, spread)
        nearest = int(np.argmin([style_distance(outputs[i], o, spread) for o in own]))
        rows.append({"distance_own": round(d_own, 4), "distance_others": round(d_others, 4),
                     "closer": bool(d_own < d_others), "nearest": nearest})
    return rows


def per_statistic(outputs: np.ndarray, own: np.ndarray,
                  names: Sequence[str] = SHAPE_STATS) -> dict[str, dict]:
    """Statistic by statistic over writers: the fraction whose output is closer to their own
    value than to the mean of the others', and the correlation across writers between the
    output's value and the writer's own (a constant offset between written and real ink,
    which makes every output far from every writer, does not lower it)."""
    outputs, own = np.asarray(outputs, np.float64), np.asarray(own, np.float64)
    out = {}
    for j, name in enumerate(names):
        o, w = outputs[:, j], own[:, j]
        others = (np.nansum(w) - w) / max(len(w) - 1, 1)
        ok = np.isfinite(o) & np.isfinite(w)
        closer = np.abs(o - w) < np.abs(o - others)
        r = (float(np.corrcoef(o[ok], w[ok])[0, 1])
             if ok.sum() > 2 and np.std(o[ok]) > 0 and np.std(w[ok]) > 0 else float("nan"))
        out[name] = {"closer_fraction": round(float(closer[ok].mean()), 4) if ok.any() else None,
                     "correlation": round(r, 4) if np.isfinite(r) else None}
    return out


def own_ink_fidelity(lines_per_writer: Sequence[Sequence[StyleStats]],
                     spread: np.ndarray) -> list[dict]:
    """`fidelity` of the writers' own ink: each writer's lines split into alternate halves
    (lines 0, 2, 4, ... and 1, 3, 5, ...), the first half's mean scored as the output and the
    second half's as the writer's own. What the test gives real handwriting, that is a perfect
    imitation of each writer: the ceiling against which `fidelity` of synthesized ink reads.
    Writers with fewer than two lines are left out (one row per writer kept, in order)."""
    kept = [ls for ls in lines_per_writer if len(ls) >= 2]
    if len(kept) < 2:
        raise ValueError(f"{len(kept)} writers have two lines or more; need at least 2")
    first = np.stack([mean_stats(ls[0::2]).vector() for ls in kept])
    second = np.stack([mean_stats(ls[1::2]).vector() for ls in kept])
    return fidelity(first, second, spread)
