"""Tests for the plain-data ink types and the coords <-> offsets conversions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handwriting.ink import (
    Ink,
    InkError,
    Stroke,
    coords_to_ink,
    coords_to_offsets,
    ink_to_offsets,
    offsets_to_coords,
    offsets_to_ink,
)

# Integer whiteboard coordinates, as IAM-OnDB stores them: float32 holds them exactly.
grid_point = st.tuples(st.integers(0, 8000), st.integers(0, 3000))
grid_strokes = st.lists(st.lists(grid_point, min_size=1, max_size=30), min_size=1, max_size=8)
real_point = st.tuples(*[st.floats(-1e3, 1e3, allow_nan=False, width=32)] * 2)
real_strokes = st.lists(st.lists(real_point, min_size=1, max_size=30), min_size=1, max_size=8)


@given(grid_strokes)
def test_coords_offsets_round_trip_is_exact_on_integer_coordinates(strokes):
    coords = Ink.from_strokes(strokes).coords()
    offsets = coords_to_offsets(coords)
    assert offsets.shape == coords.shape
    np.testing.assert_array_equal(offsets[:, 2], coords[:, 2])
    np.testing.assert_array_equal(offsets_to_coords(offsets), coords)


@given(real_strokes)
def test_coords_offsets_round_trip_on_real_coordinates(strokes):
    coords = Ink.from_strokes(strokes).coords()
    back = offsets_to_coords(coords_to_offsets(coords))
    # float32 differences round; the cumulative sum may collect one rounding per point.
    np.testing.assert_allclose(back, coords, rtol=0, atol=len(coords) * 1e-4)


@given(grid_strokes)
def test_ink_offsets_ink_round_trip_keeps_strokes(strokes):
    ink = Ink.from_strokes(strokes)
    back = offsets_to_ink(ink_to_offsets(ink))
    assert [s.xy.tolist() for s in back.strokes] == [s.xy.tolist() for s in ink.strokes]


def test_first_offset_is_relative_to_origin():
    offsets = coords_to_offsets(np.array([[5, 7, 0], [6, 9, 1]], np.float32))
    np.testing.assert_array_equal(offsets, [[5, 7, 0], [1, 2, 1]])


def test_coords_to_ink_splits_after_each_pen_up():
    coords = np.array(
        [[0, 0, 0], [1, 0, 0], [2, 0, 1],  # stroke 1
         [5, 5, 1],  # a dot
         [7, 1, 0], [8, 2, 0]],  # trailing points without pen_up: a last stroke
        np.float32,
    )
    ink = coords_to_ink(coords)
    assert [len(s) for s in ink.strokes] == [3, 1, 2]
    np.testing.assert_array_equal(ink.strokes[1].xy, [[5, 5]])
    np.testing.assert_array_equal(ink.times(), 0.01 * np.arange(6, dtype=np.float32))


def test_coords_to_ink_uses_given_times():
    coords = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 1]], np.float32)
    ink = coords_to_ink(coords, times=np.array([10.0, 10.5, 12.0]))
    assert [s.t.tolist() for s in ink.strokes] == [[10.0, 10.5], [12.0]]


@given(grid_strokes)
def test_coords_to_ink_inverts_coords(strokes):
    ink = Ink.from_strokes(strokes)
    back = coords_to_ink(ink.coords(), times=ink.times())
    assert back == ink


def test_empty_ink_round_trips():
    offsets = ink_to_offsets(Ink())
    assert offsets.shape == (0, 3)
    assert offsets_to_ink(offsets).is_empty


def test_coords_to_ink_rejects_wrong_shape():
    with pytest.raises(InkError, match="shape"):
        coords_to_ink(np.zeros((4, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_stroke_rejects_non_finite_coordinates(bad):
    with pytest.raises(InkError, match="NaN or infinite"):
        Stroke([[0, 0], [1, bad]], [0, 1])


def test_stroke_rejects_non_finite_times_and_pressure():
    with pytest.raises(InkError, match="times"):
        Stroke([[0, 0], [1, 1]], [0, np.nan])
    with pytest.raises(InkError, match="pressure"):
        Stroke([[0, 0], [1, 1]], [0, 1], [0.5, np.inf])


@pytest.mark.parametrize(
    "xy, t, pressure, message",
    [
        ([[0, 0], [1, 1]], [0, 1, 2], None, "2 points but 3 times"),
        ([[0, 0], [1, 1]], [0, 1], [0.5], "2 points but 1 pressures"),
        ([[0, 0, 0]], [0], None, r"\(N, 2\)"),
        ([0, 1], [0, 1], None, "2 dimension"),
        (np.zeros((0, 2)), [], None, "at least one point"),
    ],
)
def test_stroke_rejects_mismatched_shapes(xy, t, pressure, message):
    with pytest.raises(InkError, match=message):
        Stroke(xy, t, pressure)


def test_ink_error_is_a_value_error():
    assert issubclass(InkError, ValueError)


def test_stroke_arrays_are_read_only_float32_copies():
    xy = np.array([[0.0, 0.0], [1.0, 2.0]])
    s = Stroke(xy, [0.0, 0.1], [0.2, 0.4])
    for arr in (s.xy, s.t, s.pressure):
        assert arr.dtype == np.float32
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 5
    xy[0, 0] = 99  # the stroke holds its own copy
    assert s.xy[0, 0] == 0


def test_stroke_and_ink_fields_cannot_be_reassigned(text_ink):
    with pytest.raises(dataclasses.FrozenInstanceError):
        text_ink.strokes = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        text_ink.strokes[0].xy = np.zeros((1, 2))
    assert isinstance(text_ink.strokes, tuple)


def test_ink_outputs_do_not_alias_stroke_arrays(text_ink):
    coords = text_ink.coords()
    coords[:] = 0
    assert text_ink.strokes[0].xy.any()


def test_ink_requires_strokes():
    with pytest.raises(InkError, match="Stroke objects"):
        Ink(([[0, 0]],))


def test_map_xy_keeps_times_pressure_and_meta(text_ink):
    moved = text_ink.map_xy(lambda p: p + 1)
    assert moved.meta == text_ink.meta and moved.meta is not text_ink.meta
    for a, b in zip(moved.strokes, text_ink.strokes, strict=True):
        np.testing.assert_array_equal(a.xy, b.xy + 1)
        np.testing.assert_array_equal(a.t, b.t)
        np.testing.assert_array_equal(a.pressure, b.pressure)


@given(st.lists(st.lists(real_point, min_size=1, max_size=20), min_size=1, max_size=10),
       st.floats(1e-3, 0.1))
def test_from_strokes_timestamps_strictly_increase(strokes, dt):
    ink = Ink.from_strokes(strokes, dt=dt, writer="w")
    assert ink.meta == {"writer": "w"}
    assert [len(s) for s in ink.strokes] == [len(s) for s in strokes]
    assert np.all(np.diff(ink.times()) > 0)


def test_ink_properties():
    ink = Ink.from_strokes([[[0, 0], [4, 2]], [[1, -3]]])
    assert len(ink) == 2 and ink.num_points == 3
    assert not ink.is_empty and not ink.has_pressure
    assert ink.bounds() == (0.0, -3.0, 4.0, 2.0)
    np.testing.assert_array_equal(ink.coords()[:, 2], [0, 1, 1])
    empty = Ink()
    assert empty.is_empty and not empty.has_pressure
    assert empty.coords().shape == (0, 3) and empty.times().shape == (0,)
    with pytest.raises(InkError, match="empty"):
        empty.bounds()


def test_stroke_equality_compares_values():
    a = Stroke([[0, 0], [1, 1]], [0, 1])
    assert a == Stroke(np.array([[0, 0], [1, 1]], np.float64), [0, 1])
    assert a != Stroke([[0, 0], [1, 1]], [0, 1], [1, 1])
    assert a != Stroke([[0, 0], [1, 2]], [0, 1])


def test_the_line_builder_builds_the_same_ink_whole_or_point_by_point():
    """One offsets -> ink builder: fed in pieces (as the app's typed text is) it gives the
    strokes and pen times of the whole line at once (`offsets_to_line_ink`), placed."""
    from handwriting.ink import POINT_SECONDS, LineInkBuilder, offsets_to_line_ink

    rng = np.random.default_rng(3)
    offsets = rng.normal(size=(60, 3)).astype(np.float32)
    offsets[:, 2] = rng.random(60) < 0.15
    whole = offsets_to_line_ink(offsets, "ab")
    assert whole.meta == {"text": "ab", "format": "synthesized"}
    builder = LineInkBuilder(scale=2.0, shift=(10.0, 5.0))
    seen = []
    for a in range(0, 60, 7):
        builder.extend(offsets[a:a + 7])
        seen.append(len(builder.strokes(len(builder) - 1)))  # the revealed part, growing
    assert seen == sorted(seen)
    strokes = builder.strokes()
    assert [len(s) for s in strokes] == [len(s) for s in whole.strokes]
    for s, w in zip(strokes, whole.strokes, strict=True):
        np.testing.assert_allclose(s.xy, w.xy * 2.0 + np.float32((10.0, 5.0)), atol=1e-4)
        np.testing.assert_array_equal(s.t, w.t)
    assert np.allclose(np.diff(whole.strokes[0].t), POINT_SECONDS)


def test_map_points_maps_all_points_at_once_as_map_xy_does_stroke_by_stroke():
    ink = Ink((Stroke(np.float32([[0, 0], [1, 2], [3, 1]]), np.float32([0, 1, 2]),
                      np.float32([0.1, 0.5, 0.9])),
               Stroke(np.float32([[5, 5]]), np.float32([3]))), {"text": "a"})

    def shear(p):
        return np.stack([p[:, 0] - 0.3 * p[:, 1], 2 * p[:, 1]], 1)

    out = ink.map_points(shear)
    assert out == ink.map_xy(shear) and out.meta == {"text": "a"}
    assert [len(s) for s in out.strokes] == [3, 1]
    assert out.strokes[0].pressure is ink.strokes[0].pressure  # kept, not copied
    assert all(not s.xy.flags.writeable and s.xy.dtype == np.float32 for s in out.strokes)
    assert Ink().map_points(shear) == Ink()


def test_map_points_checks_what_the_map_returns():
    ink = Ink((Stroke(np.float32([[0, 0], [1, 2]]), np.float32([0, 1])),))
    with pytest.raises(InkError, match="NaN"):
        ink.map_points(lambda p: p * np.nan)
    with pytest.raises(InkError, match="shape"):
        ink.map_points(lambda p: p[:1])
