"""Hypothesis strategies for random ink (finite float32 values, any number of strokes)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from handwriting.ink import Ink, Stroke

coordinate = st.floats(-1e4, 1e4, allow_nan=False, width=32)
time = st.floats(0, 1e4, allow_nan=False, width=32)
pressure = st.floats(0, 1, allow_nan=False, width=32)


@st.composite
def strokes(draw, with_pressure: bool | None = None) -> Stroke:
    n = draw(st.integers(1, 12))
    xy = draw(st.lists(st.tuples(coordinate, coordinate), min_size=n, max_size=n))
    t = draw(st.lists(time, min_size=n, max_size=n))
    has_p = draw(st.booleans()) if with_pressure is None else with_pressure
    p = draw(st.lists(pressure, min_size=n, max_size=n)) if has_p else None
    return Stroke(np.array(xy, np.float32), np.array(t, np.float32), p)


@st.composite
def inks(draw, min_strokes: int = 0, with_pressure: bool | None = None) -> Ink:
    return Ink(tuple(draw(st.lists(strokes(with_pressure), min_size=min_strokes, max_size=5))))
