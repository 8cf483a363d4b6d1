"""Smooth ink: strokes are drawn as centripetal Catmull-Rom curves through their points in
the SVG and PNG exports (and the canvas, tests/gui/test_canvas.py), so that a round letter
sampled every 0.14 writing heights looks round, not polygonal."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.curves import bezier_controls, bezier_controls_of, smooth_points
from handwriting.formats.png import render_ink
from handwriting.formats.svg import ink_to_svg_string, parse_svg_ink
from handwriting.ink import Ink, Stroke

R = 100.0
N = 10  # points on the circle: chords cut 5 % of the radius at their middles


def _circle(n: int = N, phase: float = 0.0) -> np.ndarray:
    a = phase + np.linspace(0, 2 * np.pi, n + 1)
    return np.stack([R * np.cos(a), R * np.sin(a)], 1)


def test_the_curve_passes_through_every_point():
    xy = _circle()
    pts = smooth_points(xy, per_segment=5)
    np.testing.assert_allclose(pts[::5], xy, atol=1e-9)


def test_a_circle_drawn_through_few_points_stays_round():
    xy = _circle()
    pts = smooth_points(xy, per_segment=16)[16:-16]  # the end segments have one neighbour
    chord_error = R - R * np.cos(np.pi / N)  # the polygon's worst point, mid-chord
    curve_error = np.abs(np.hypot(*pts.T) - R).max()
    assert curve_error < chord_error / 5, (curve_error, chord_error)


def test_uneven_spacing_gives_no_loops():
    # a long segment beside a tiny one: uniform Catmull-Rom overshoots and loops here
    xy = np.array([[0, 0], [100, 0], [100.5, 0.5], [101, 100]], float)
    pts = smooth_points(xy, per_segment=32)
    assert pts[:, 0].max() < 101.5 and pts[:, 1].min() > -1.0


@pytest.mark.parametrize("xy", [np.array([[1.0, 2.0]]), np.array([[0, 0], [3, 4]], float),
                                np.array([[0, 0], [0, 0], [5, 5]], float)])
def test_degenerate_strokes_are_finite(xy):
    c1, c2 = bezier_controls(xy)
    assert len(c1) == len(c2) == max(len(xy) - 1, 0)
    assert np.all(np.isfinite(c1)) and np.all(np.isfinite(c2))


def test_many_strokes_at_once_give_each_strokes_own_curves_exactly():
    """The canvas builds a committed paragraph's paths in one pass: the same numbers as a
    call per stroke, whatever the strokes' lengths (dots, two points, repeated points)."""
    rng = np.random.default_rng(3)
    strokes = [_circle(), np.array([[1.0, 2.0]]), np.array([[0, 0], [3, 4]], float),
               np.array([[0, 0], [0, 0], [5, 5], [5, 5]], float), _circle(7, 0.3)[:5],
               *(rng.normal(size=(n, 2)) * 50 for n in (1, 3, 12, 2, 40))]
    together = bezier_controls_of(strokes)
    assert len(together) == len(strokes)
    for xy, (c1, c2) in zip(strokes, together, strict=True):
        one1, one2 = bezier_controls(xy)
        assert c1.shape == one1.shape and c2.shape == one2.shape
        np.testing.assert_array_equal(c1, one1)
        np.testing.assert_array_equal(c2, one2)
    assert bezier_controls_of([]) == []


def test_svg_strokes_are_one_curved_path_each_and_read_back_exactly():
    ink = Ink((Stroke(_circle().astype(np.float32), np.arange(N + 1) * 0.01),
               Stroke(np.array([[300, 0], [320, 10]], np.float32), np.array([0.2, 0.3]))))
    svg = ink_to_svg_string(ink)
    assert svg.count("<path") == 2 and " C " in svg
    back = parse_svg_ink(svg.encode(), "x.svg")
    for a, b in zip(back.strokes, ink.strokes, strict=True):
        np.testing.assert_allclose(a.xy, b.xy, atol=1e-4)


def test_png_draws_the_curve_not_the_polygon():
    ink = Ink((Stroke(_circle().astype(np.float32), np.arange(N + 1) * 0.01),))
    scale = 2.0
    img = np.asarray(render_ink(ink, scale=scale, stroke_width=2.0, margin=10,
                                supersample=4).convert("L"), dtype=float)
    # centre of the circle in pixels: the image is the ink's bounds plus margin and stroke
    cy, cx = (np.array(img.shape) - 1) / 2
    a = np.pi / N + 2 * np.pi * (N // 2) / N  # the middle of a chord away from the ends
    radii = np.linspace(0.85 * R, 1.05 * R, 400)
    ys, xs = cy + radii * np.sin(a) * scale, cx + radii * np.cos(a) * scale
    darkness = 255 - img[np.round(ys).astype(int), np.round(xs).astype(int)]
    drawn_at = radii[np.argmax(darkness)]
    assert drawn_at > R * (1 - 0.01), drawn_at  # a polygon's chord lies at 0.951 R
