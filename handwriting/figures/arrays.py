"""Array helpers behind the figures and the Qt panels in `gui/insight`: value scaling, unit
order, emitted characters, CTC classes, ink segments, covariance ellipses and tick steps."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from handwriting.ink import Ink
from handwriting.traces import CellTrace

QUANTITIES = {"c": "cell state c", "tanh_c": "tanh(c)", "h": "output h"}


def robust_scale(values, percentile: float = 98.0) -> float:
    """A scale for colouring unbounded values (cell states reach +-100): the `percentile` of
    |values|, so a few extreme cells do not wash out the rest."""
    a = np.abs(np.asarray(values, np.float64))
    s = float(np.percentile(a, percentile)) if a.size else 0.0
    return s if s > 1e-6 else 1.0


def unit_values(cell: CellTrace, quantity: str = "c") -> tuple[np.ndarray, str]:
    """(T, H) values of one LSTM in [-1, 1] for a diverging colour scale, and their label.
    'c': the cell state divided by its robust scale; 'tanh_c': what the output gate sees;
    'h': the output h = o * tanh(c) (Graves 2013, eq. 11)."""
    if quantity == "c":
        s = robust_scale(cell.c)
        return np.clip(cell.c / s, -1, 1), f"c / {s:.3g}"
    if quantity == "tanh_c":
        return np.tanh(cell.c), "tanh(c)"
    if quantity == "h":
        return cell.h, "h"
    raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}; got {quantity!r}")


def activity_order(values) -> np.ndarray:
    """Unit indices of (T, H) values, the most active units (largest standard deviation
    over time) first: strong, changing units on top, near-silent ones at the bottom."""
    v = np.asarray(values, np.float64)
    return np.argsort(-v.std(0), kind="stable") if v.shape[0] else np.arange(v.shape[1])


def lively_units(cell: CellTrace) -> np.ndarray:
    """Unit indices, the units whose cell state reacts most to the ink first: mean absolute
    change per frame relative to the unit's own range (drifting counters and silent units
    last). A good default for the neuron view."""
    c = np.asarray(cell.c, np.float64)
    if c.shape[0] < 2:
        return np.arange(c.shape[1])
    size = np.abs(c).max(0)
    score = np.abs(np.diff(c, axis=0)).mean(0) / np.maximum(size, 1e-9)
    score[size < 0.1 * robust_scale(c)] = -1.0  # too faint to see
    return np.argsort(-score, kind="stable")


def single_unit(cell: CellTrace, unit: int, quantity: str = "c") -> tuple[np.ndarray, str]:
    """(T,) values of one unit in [-1, 1] and their label: c scaled by the unit's own
    largest |c| (a unit's pattern matters more than its size), tanh(c) and h as they are."""
    if not 0 <= unit < cell.c.shape[1]:
        raise ValueError(f"unit {unit} outside 0..{cell.c.shape[1] - 1}")
    if quantity != "c":
        return unit_values(cell, quantity)[0][:, unit], QUANTITIES[quantity]
    c = cell.c[:, unit]
    s = float(np.abs(c).max()) if c.size else 0.0
    s = s if s > 1e-6 else 1.0
    return c / s, f"c / {s:.3g}"


def emitted_chars(text: str, char_frames: Sequence[int]) -> list[tuple[int, str]]:
    """(frame, character) for each character of a decoded text (`Hypothesis.char_frames`)."""
    return [(int(f), c) for f, c in zip(char_frames, text, strict=False)]


def top_classes(probs, k: int = 8, min_peak: float = 0.1) -> np.ndarray:
    """The (at most k) non-blank classes of probs (T, K) whose peak reaches `min_peak`, the
    highest peaks first."""
    p = np.asarray(probs)
    if p.size == 0:
        return np.zeros(0, np.int64)
    peak = p[:, 1:].max(0)
    order = np.argsort(-peak, kind="stable")[:k]
    return order[peak[order] >= min_peak] + 1


def class_label(cls: int, chars: str) -> str:
    """Display text of class `cls` (0 = CTC blank) of an alphabet string."""
    if cls == 0:
        return "blank"
    c = chars[cls - 1] if 0 < cls <= len(chars) else "?"
    return "\u00b7" if c == " " else c


def ink_segments(ink: Ink) -> tuple[np.ndarray, np.ndarray]:
    """All points (N, 2) and the segments between consecutive points of a stroke as point
    index pairs (S, 2); a one-point stroke is one zero-length segment (a dot)."""
    if ink.is_empty:
        return np.zeros((0, 2)), np.zeros((0, 2), np.int64)
    xy = np.concatenate([s.xy for s in ink.strokes]).astype(np.float64)
    segs, start = [], 0
    for s in ink.strokes:
        idx = np.arange(start, start + len(s))
        segs.append(np.stack([idx[:-1], idx[1:]], 1) if len(s) > 1 else np.array([[start, start]]))
        start += len(s)
    return xy, np.concatenate(segs)


def covariance_ellipses(sigma, rho) -> np.ndarray:
    """One-sigma ellipses of bivariate Gaussians sigma (M, 2), rho (M,): rows of (semi-axis a,
    semi-axis b, angle of a in radians), from the eigenvectors of the covariance (eq. 24)."""
    sigma, rho = np.asarray(sigma, np.float64), np.asarray(rho, np.float64)
    s1, s2 = sigma[:, 0], sigma[:, 1]
    cxx, cyy, cxy = s1**2, s2**2, rho * s1 * s2
    half_tr, diff = (cxx + cyy) / 2, np.sqrt(((cxx - cyy) / 2) ** 2 + cxy**2)
    l1, l2 = half_tr + diff, np.maximum(half_tr - diff, 0.0)
    angle = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    return np.stack([np.sqrt(l1), np.sqrt(l2), angle], 1)


def nice_step(n: int, target: int = 8) -> int:
    """A round tick step (1, 2, 5, 10, 20, ...) giving about `target` ticks over n."""
    raw = max(n / max(target, 1), 1.0)
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))
