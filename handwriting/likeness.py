"""A writer's slant and letter width (`Hand`), and the linear map of the pen's offsets that
gives synthesized ink the writer's. Priming (Graves 2013 §5.5) carries a hand only part of
the way: over 16 IAM-OnDB testset_v writers, the slant of the primed output follows the
writer's with a correlation of 0.73 and its letter width with 0.25 (the model writes wider
than most writers). The map is measured once per style (a few calibration lines written in
it) and applied to every point as it is sampled, so a line is drawn in its final shape while
it is written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from handwriting.ink import Ink, InkError
from handwriting.results import Hand

# What the map may do to a line: shear it by at most this angle (radians, about 20 degrees)
# and stretch or squeeze it by at most these factors. A measured hand beyond them is more
# likely a misreading (a line of capitals, a scribble) than a hand, and letters squeezed
# further read worse: 48 testset_v writers, seed 0, at (0.7, 1.4) 60.4 % closer to their own
# ink at primed CER 3.40 %, at these 56.3 % at 3.22 % (not matched: 43.8 %, 3.23 %).
MAX_SHEAR = 0.35
WIDTH_LIMITS = (0.8, 1.25)
# The calibration lines: the shipped legibility list's 7th to 10th phrases, cut in two (the
# first six are `handwriting evaluate style`'s, which must not tune what it measures).
CALIBRATION_LINES = ("she painted the kitchen door", "a bright yellow",
                     "our team finished the puzzle", "before midnight",
                     "the museum has a new room", "full of old clocks",
                     "he forgot his umbrella", "in the taxi again")
CALIBRATION_SEED = 2013


def measure_hand(lines: Iterable[tuple[Ink, str]]) -> Hand | None:
    """The mean slant and letter width (`style_stats`) of lines of ink and their texts; None
    when no line can be measured (empty ink, a text of punctuation only)."""
    from handwriting.style_stats import mean_stats, style_stats

    stats = []
    for ink, text in lines:
        try:
            stats.append(style_stats(ink, text))
        except (InkError, ValueError):
            continue
    if not stats:
        return None
    m = mean_stats(stats)
    if not (np.isfinite(m.slant) and np.isfinite(m.letter_width) and m.letter_width > 0):
        return None
    return Hand(float(m.slant), float(m.letter_width))


def hand_map(target: Hand, written: Hand) -> np.ndarray:
    """(2, 2) the linear map of (dx, dy) offsets (y down) that turns ink of the `written` hand
    into the `target`'s: a horizontal stretch by the ratio of letter widths, then a shear from
    the stretched ink's slant to the target's, both within the limits."""
    sx = float(np.clip(target.letter_width / written.letter_width, *WIDTH_LIMITS))
    # stretching x by sx turns a slant's tangent t into sx t; x -= k y (y down) adds k to it
    k = np.clip(np.tan(target.slant) - sx * np.tan(written.slant),
                -np.tan(MAX_SHEAR), np.tan(MAX_SHEAR))
    return np.array([[sx, -k], [0.0, 1.0]], np.float64)


def map_points(matrix: np.ndarray, offsets: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
               rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sampled points and their next-point mixtures, any leading axes (steps, lines), mapped
    by `matrix` (2, 2, as `hand_map` makes it: y is left alone): offsets (..., 3) and means
    (..., M, 2) by A x, deviations (..., M, 2) and correlations (..., M) by the covariance
    A S A^T. New arrays; the inputs are left alone."""
    (a, b), (c, d) = matrix
    if c != 0 or d != 1:
        raise ValueError(f"a hand map leaves y alone, got {matrix.tolist()}")
    offsets, mu, sigma = offsets.copy(), mu.copy(), sigma.copy()
    offsets[..., 0] = a * offsets[..., 0] + b * offsets[..., 1]
    mu[..., 0] = a * mu[..., 0] + b * mu[..., 1]
    s1, s2 = sigma[..., 0].astype(np.float64), sigma[..., 1].astype(np.float64)
    cov = rho * s1 * s2
    sigma[..., 0] = np.sqrt(np.maximum(a * a * s1 * s1 + 2 * a * b * cov + b * b * s2 * s2,
                                       1e-12))
    den = sigma[..., 0] * s2  # 0 in rows no longer written (their deviations are 0)
    rho = np.clip(np.divide(a * cov + b * s2 * s2, den, out=rho.astype(np.float64),
                            where=den > 0), -1.0, 1.0).astype(rho.dtype)
    return offsets, mu, sigma, rho


def calibration_hand(write, style) -> Hand | None:
    """The hand the synthesizer writes in `style` (its `hand` ignored; None: unprimed):
    `write(text, style, seed)` -> inks, one a line, each with its text in `meta["text"]`."""
    plain = None if style is None else replace(style, hand=None)
    inks = write("\n".join(CALIBRATION_LINES), plain, CALIBRATION_SEED)
    return measure_hand((ink, ink.meta["text"]) for ink in inks if ink.num_points > 1)
