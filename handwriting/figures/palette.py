"""The figures' colours: fixed RGB tuples, the sequential, diverging and categorical colour
scales, and look-up tables that make them fast on whole heatmaps."""

from __future__ import annotations

import numpy as np

from handwriting.traces import diverging_rgb

TEXT = (40, 44, 52)
MUTED = (120, 126, 136)
GRID = (200, 204, 210)
CURSOR = (20, 20, 20)
INK_GREY = (205, 208, 214)
BLANK = (190, 194, 200)  # the CTC blank's line
HALO = (198, 219, 239)  # light blue behind the points of the chosen character

# Sequential ramps, low -> high (ColorBrewer "Purples" and "YlOrRd"): purple for
# probabilities and gates, so they never read as the blue (negative) of the diverging scale.
PURPLES = np.array([[255, 255, 255], [218, 218, 235], [158, 154, 200], [106, 81, 163],
                    [63, 0, 125]], np.float64)
HEAT = np.array([[255, 237, 160], [254, 178, 76], [240, 59, 32], [189, 0, 38],
                 [110, 0, 30]], np.float64)
# Categorical colours for a few classes at once (Tableau 10, grey left out).
CATEGORICAL = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207))


def _ramp_rgb(values, ramp: np.ndarray) -> np.ndarray:
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), 0.0, 1.0)
    pos = v * (len(ramp) - 1)
    lo = np.minimum(pos.astype(np.int64), len(ramp) - 2)
    frac = (pos - lo)[..., None]
    return np.round(ramp[lo] * (1 - frac) + ramp[lo + 1] * frac).astype(np.uint8)


LUT_SIZE = 1021  # colour look-up tables: finer than the uint8 output, one take() per pixel
_LUTS = {id(PURPLES): _ramp_rgb(np.linspace(0, 1, LUT_SIZE), PURPLES),
         id(HEAT): _ramp_rgb(np.linspace(0, 1, LUT_SIZE), HEAT)}
_DIVERGING_LUT = diverging_rgb(np.linspace(-1, 1, LUT_SIZE))


def _lut_index(values, lo: float, hi: float) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.0)  # white on both scales
    return np.clip(np.rint((v - lo) * ((LUT_SIZE - 1) / (hi - lo))), 0, LUT_SIZE - 1).astype(np.intp)


def sequential_rgb(values, ramp: np.ndarray = PURPLES) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (..., 3) along `ramp` (clipped; NaN is the low end)."""
    lut = _LUTS.get(id(ramp))
    if lut is None:
        return _ramp_rgb(values, ramp)
    return lut[_lut_index(values, 0.0, 1.0)]


def diverging_fast(values) -> np.ndarray:
    """`introspect.diverging_rgb` through a look-up table (several times faster on heatmaps;
    differs by at most one level)."""
    return _DIVERGING_LUT[_lut_index(values, -1.0, 1.0)]


def diverging01(v) -> np.ndarray:
    """The diverging scale on [0, 1] (0 blue, 0.5 white, 1 red): for colour bars."""
    return diverging_rgb(2 * np.asarray(v) - 1)


def class_color(cls: int) -> tuple[int, int, int]:
    """A fixed colour per class, so a letter keeps its colour from line to line."""
    return CATEGORICAL[cls % len(CATEGORICAL)]
