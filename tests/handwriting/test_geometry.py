"""Property tests for the pure geometry functions on `Ink`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from handwriting import geometry
from handwriting.geometry import (
    correct_slant,
    correct_slope,
    estimate_slant,
    estimate_slope,
    ink_height,
    normalize,
    resample,
    scale,
    shear,
    smooth,
    translate,
)
from handwriting.grouping import group_lines, writing_height
from handwriting.ink import Ink, InkError, Stroke
from tests.fixtures import hershey_ink

TEXT = "The quick brown fox jumps over the lazy dog"

point = st.tuples(st.integers(0, 300), st.integers(0, 300))
stroke = st.lists(point, min_size=1, max_size=25)
inks = st.lists(stroke, min_size=1, max_size=6).map(Ink.from_strokes)
with_pressure = st.just(hershey_ink(TEXT[:12], pressure=True))


def _arrays(ink: Ink) -> list[np.ndarray]:
    return [a.copy() for s in ink.strokes for a in (s.xy, s.t, s.pressure) if a is not None]


def _rotate(ink: Ink, angle: float) -> Ink:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return ink.map_xy(lambda p: (p.astype(np.float64) @ rot.T).astype(np.float32))


@pytest.fixture(scope="module")
def upright_ink() -> Ink:
    """Upright (sans-serif) text: its slant is about 0 before any shear."""
    return hershey_ink(TEXT, font="futural")


@given(inks, st.floats(-5000, 5000), st.floats(-5000, 5000), st.floats(0.2, 20))
def test_normalize_ignores_translation_and_scale(ink, dx, dy, factor):
    assume(ink_height(ink) >= 10)  # well-conditioned: float32 rounding stays far below 1e-3
    moved = translate(scale(ink, factor), dx, dy)
    a, b = normalize(ink, height=2.0), normalize(moved, height=2.0)
    for sa, sb in zip(a.strokes, b.strokes, strict=True):
        np.testing.assert_allclose(sb.xy, sa.xy, atol=2e-3 * max(1.0, np.abs(sa.xy).max()))
        np.testing.assert_array_equal(sb.t, sa.t)


@given(inks, st.floats(0.1, 10))
def test_normalize_places_and_scales(ink, height):
    assume(ink_height(ink) >= 1)
    out = normalize(ink, height=height)
    xy = np.concatenate([s.xy for s in out.strokes])
    assert xy[:, 0].min() == pytest.approx(0, abs=1e-6)
    assert np.median(xy[:, 1]) == pytest.approx(0, abs=1e-4 * height)
    assert ink_height(out) == pytest.approx(height, rel=1e-4)


def test_normalize_of_a_single_point_does_not_divide_by_zero():
    out = normalize(Ink.from_strokes([[[7, 9]]]))
    np.testing.assert_array_equal(out.strokes[0].xy, [[0, 0]])


@pytest.mark.parametrize(
    "fn",
    [
        normalize,
        lambda ink: resample(ink, 3.0),
        lambda ink: shear(ink, 0.3),
        smooth,
        correct_slope,
        correct_slant,
        lambda ink: translate(ink, 1.0, 2.0),
        lambda ink: scale(ink, 2.0),
    ],
    ids=["normalize", "resample", "shear", "smooth", "correct_slope", "correct_slant",
         "translate", "scale"],
)
@given(ink=st.one_of(inks, with_pressure))
def test_geometry_never_mutates_its_input(fn, ink):
    before, meta = _arrays(ink), dict(ink.meta)
    out = fn(ink)
    assert isinstance(out, Ink) and out.meta == meta
    for a, b in zip(_arrays(ink), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ink.meta == meta


@given(st.lists(stroke, min_size=1, max_size=6), st.floats(1.0, 40.0))
def test_resample_spacing_and_endpoints(strokes, spacing):
    ink = Ink.from_strokes(strokes)
    out = resample(ink, spacing)
    assert len(out) == len(ink)
    for old, new in zip(ink.strokes, out.strokes, strict=True):
        arc = float(np.hypot(*np.diff(old.xy.astype(np.float64), axis=0).T).sum())
        np.testing.assert_allclose(new.xy[0], old.xy[0], atol=1e-3)
        np.testing.assert_allclose(new.xy[-1], old.xy[-1], atol=1e-3)
        if arc < spacing:
            assert len(new) <= 2
            continue
        n = int(np.floor(arc / spacing)) + 1
        assert abs(len(new) - n) <= 1  # floor() of a float arc length may land either side
        # Points lie on the old polyline, evenly spaced along it: chords never exceed the step.
        chords = np.hypot(*np.diff(new.xy.astype(np.float64), axis=0).T)
        assert chords.max() <= arc / (len(new) - 1) + 1e-3
        assert np.all(np.diff(new.t) >= -1e-6)


@given(st.floats(0, 2 * np.pi), st.floats(10, 500), st.floats(1.0, 7.0))
def test_resample_a_straight_line_gives_equal_steps(angle, length, spacing):
    end = length * np.array([np.cos(angle), np.sin(angle)])
    out = resample(Ink.from_strokes([[[0, 0], end / 3, end]]), spacing)
    steps = np.hypot(*np.diff(out.strokes[0].xy.astype(np.float64), axis=0).T)
    step = length / (len(steps))
    assert spacing - 1e-3 <= step < 2 * spacing
    np.testing.assert_allclose(steps, step, atol=1e-3)


def test_resample_hershey_text_is_spaced_about_spacing(text_ink):
    out = resample(text_ink, 2.0)
    steps = np.concatenate([np.hypot(*np.diff(s.xy, axis=0).T) for s in out.strokes if len(s) > 1])
    assert np.median(steps) == pytest.approx(2.0, rel=0.1)
    assert out.has_pressure and np.all(np.diff(out.times()) >= 0)


def test_resample_keeps_dots_and_rejects_bad_spacing():
    ink = Ink.from_strokes([[[5, 5]], [[1, 1], [1, 1]], [[0, 0], [0.5, 0]]])
    out = resample(ink, 10.0)
    assert [len(s) for s in out.strokes] == [1, 1, 2]
    with pytest.raises(ValueError, match="spacing"):
        resample(ink, 0.0)


@given(inks, st.floats(-1.2, 1.2))
def test_shear_then_shear_back_is_identity_up_to_rounding(ink, angle):
    # shear(a) maps x -> x - tan(a) y, and tan(-a) = -tan(a): the inverse of shear(a) is
    # shear(-a), exact but for two float32 roundings of x.
    back = shear(shear(ink, angle), -angle)
    for a, b in zip(ink.strokes, back.strokes, strict=True):
        np.testing.assert_array_equal(b.xy[:, 1], a.xy[:, 1])
        np.testing.assert_allclose(b.xy[:, 0], a.xy[:, 0], atol=1e-4 * (1 + np.abs(a.xy).max()))


def test_positive_shear_leans_right(upright_ink):
    # y points down: the top of a right-leaning letter sits right of its foot.
    sheared = shear(Ink.from_strokes([[[0, 0], [0, 10]]]), 0.2)
    (top, foot) = sheared.strokes[0].xy
    assert top[0] > foot[0]
    assert estimate_slant(shear(upright_ink, 0.2)) > 0.1
    assert estimate_slant(shear(upright_ink, -0.2)) < -0.1


@pytest.mark.parametrize("angle", [-0.3, -0.15, 0.15, 0.3])
def test_correct_slant_reduces_slant(upright_ink, angle):
    sheared = shear(upright_ink, angle)
    before = abs(estimate_slant(sheared))
    after = abs(estimate_slant(correct_slant(sheared)))
    assert before > 0.1
    assert after < 0.6 * before


@pytest.mark.parametrize("font, angle", [("futural", 0.3), ("scripts", 0.0)])
def test_correct_slant_leaves_no_estimated_slant(font, angle):
    ink = shear(hershey_ink(TEXT, font=font), angle)
    assert abs(estimate_slant(correct_slant(ink))) < 0.02


@pytest.mark.parametrize("angle", [-0.3, -0.1, 0.05, 0.2, 0.4])
def test_correct_slope_levels_rotated_text(text_ink, angle):
    rotated = _rotate(text_ink, angle)
    assert estimate_slope(rotated) == pytest.approx(angle, abs=0.03)
    assert abs(estimate_slope(correct_slope(rotated))) < 0.01


def test_estimates_of_degenerate_ink_are_zero():
    vertical = Ink.from_strokes([[[3, 0], [3, 10]]])
    assert estimate_slope(vertical) == 0.0
    assert estimate_slant(Ink.from_strokes([[[0, 0]], [[4, 4]]])) == 0.0
    with pytest.raises(InkError, match="empty"):
        normalize(Ink())


def test_smooth_reduces_jitter_and_keeps_short_strokes():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 100, 200)
    noisy = np.stack([x, rng.normal(0, 1, x.size)], 1)
    out = smooth(Ink.from_strokes([noisy, [[0, 0], [1, 1]]]), sigma=2.0)
    assert out.strokes[0].xy[:, 1].std() < 0.5 * noisy[:, 1].std()
    np.testing.assert_array_equal(out.strokes[1].xy, [[0, 0], [1, 1]])
    assert smooth(out, sigma=0) is out


def test_translate_and_scale(text_ink):
    x0, y0, x1, y1 = text_ink.bounds()
    moved = geometry.scale(translate(text_ink, -x0, -y0), 2.0, 3.0)
    assert moved.bounds() == pytest.approx((0, 0, 2 * (x1 - x0), 3 * (y1 - y0)), abs=1e-3)
    assert all(isinstance(s, Stroke) for s in moved.strokes)


# --------------------------------------------------------------------------- lines of a page


def _stack(*inks: Ink, gap: float = 1.5) -> tuple[Ink, list[int]]:
    """`inks` one below the other, `gap` line heights apart, in writing order; and how many
    strokes each brought."""
    strokes, y, t = [], 0.0, 0.0
    for ink in inks:
        x0, y0, _, y1 = ink.bounds()
        for s in ink.strokes:
            strokes.append(Stroke(s.xy - np.float32([x0, y0 - y]), s.t - s.t[0] + t))
            t = float(strokes[-1].t[-1]) + 0.1
        y += (y1 - y0) * (1 + gap)
    return Ink(tuple(strokes)), [len(i) for i in inks]


def test_group_lines_finds_the_lines_of_a_page_top_first():
    page, counts = _stack(hershey_ink("quick"), hershey_ink("brown fox"), hershey_ink("jumps"))
    groups = group_lines(page)
    starts = np.cumsum([0, *counts])
    assert groups == [list(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    # the same lines written bottom line first come back top line first, strokes in order
    strokes = page.strokes
    order = list(range(starts[2], starts[3])) + list(range(starts[2]))
    reordered = Ink(tuple(strokes[i] for i in order))
    assert [[order[i] for i in g] for g in group_lines(reordered)] == groups


def test_group_lines_keeps_dots_with_their_line_and_follows_a_slope():
    line = hershey_ink("minimum jiving")  # i-dots and a j-dot: small strokes above the line
    assert group_lines(line) == [list(range(len(line)))]
    page, counts = _stack(line, hershey_ink("little bits"))
    tilted = _rotate(page, -0.15)  # both lines written uphill
    assert [len(g) for g in group_lines(tilted)] == counts
    assert group_lines(Ink()) == []
    dots = Ink.from_strokes([[(0, 0)], [(5, 0)], [(10, 40)]])
    assert group_lines(dots) == [[0, 1, 2]]  # nothing but dots: one line


def test_a_dot_written_inside_a_line_stays_with_it_though_nearer_the_line_above():
    """A synthesized i-dot placed high, between close lines, is nearer the band of the line
    above; written between two strokes of its own line, it belongs there (the app's typed
    paragraphs lost 4 dots in 200 to the line above). Written last, geometry decides."""
    first = [[(x, 0.0), (x, 1.0)] for x in range(10)]  # letters one unit tall
    second = [[(x, 1.6), (x, 2.6)] for x in range(10)]  # the next line, 0.6 below
    dot = [(4.5, 1.15)]  # 0.15 below the first line's band, 0.45 above the second's
    inside = Ink.from_strokes([*first, *second[:5], dot, *second[5:]])
    assert group_lines(inside) == [list(range(10)), list(range(10, 21))]
    last = Ink.from_strokes([*first, *second, dot])
    assert group_lines(last) == [[*range(10), 20], list(range(10, 20))]


@given(inks)
def test_group_lines_covers_every_stroke_once(ink):
    groups = group_lines(ink)
    assert sorted(i for g in groups for i in g) == list(range(len(ink)))
    assert all(g == sorted(g) for g in groups)


def _page_with_dots(seed: int) -> Ink:
    """Lines of Hershey text with dots and commas strewn about them, some written
    late, some among the line's strokes: small strokes for `group_lines`' step 4."""
    rng = np.random.default_rng(seed)
    words = TEXT.split()
    lines = [hershey_ink(" ".join(rng.choice(words, size=int(rng.integers(1, 5)))))
             for _ in range(int(rng.integers(2, 5)))]
    page, _ = _stack(*lines, gap=float(rng.uniform(0.3, 1.2)))
    strokes = list(page.strokes)
    x0, y0, x1, y1 = page.bounds()
    for _ in range(int(rng.integers(5, 25))):
        x, y = rng.uniform(x0 - 10, x1 + 10), rng.uniform(y0 - 5, y1 + 5)
        dot = Stroke(np.float32([[x, y], [x + 0.5, y + 0.8]]), np.array([0.0, 0.01]))
        strokes.insert(int(rng.integers(0, len(strokes) + 1)), dot)
    return Ink(tuple(strokes))


@pytest.mark.parametrize("seed", range(12))
def test_group_lines_recomputes_only_what_a_placed_small_stroke_changes(seed, monkeypatch):
    """Placing a small stroke changes its line's band for the small strokes still to place;
    `group_lines` recomputes only those the stroke reached (`_reached`): the same lines as
    recomputing every one of them."""
    from handwriting import grouping

    page = _page_with_dots(seed)
    fast = group_lines(page)
    monkeypatch.setattr(grouping, "_reached",
                        lambda i, line, first, xs, *rest: np.arange(first, len(xs)))
    assert fast == group_lines(page)


@pytest.mark.parametrize("seed", range(40))
def test_a_small_stroke_changes_only_the_distances_it_reached(seed):
    """The claim `_reached` rests on: when small stroke i joins a line, the distance of a
    small stroke from that line (and its band's reach) changes only if `_reached` names it."""
    from handwriting.grouping import _gaps_to, _reached

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    lo = np.column_stack([rng.uniform(0, 30, n + 30), rng.uniform(0, 1, n + 30)])
    hi = lo + np.column_stack([rng.uniform(0.1, 2, n + 30), rng.uniform(0.1, 1.5, n + 30)])
    cx = (lo[:, 0] + hi[:, 0]) / 2
    line, small = list(range(n)), np.arange(n, n + 30)
    xs, ys = cx[small], (lo[small, 1] + hi[small, 1]) / 2
    i = int(small[0])
    gaps, reach = _gaps_to(line, xs, ys, lo, hi, cx, h=1.0)
    named = set(_reached(i, line, 1, xs, reach, lo, hi, cx).tolist())
    gaps2, reach2 = _gaps_to([*line, i], xs, ys, lo, hi, cx, h=1.0)
    changed = set(np.flatnonzero((gaps != gaps2) | (reach != reach2)).tolist()) - {0}
    assert changed <= named


def test_core_height_reads_the_evenly_resampled_path():
    """`core_height` takes the y of the path resampled every 1/30 writing height, all
    strokes at once: the interquartile range of `resample`'s points, dots included."""
    ink = Ink((*hershey_ink("minimum jiving, ok").strokes,
               Stroke(np.float32([[5, 5], [5, 5], [6, 7]]), np.array([0.0, 0.1, 0.2]))))
    flat = correct_slope(ink)
    ys = np.concatenate([s.xy[:, 1] for s in resample(flat, ink_height(flat) / 30).strokes])
    lo, hi = np.percentile(ys, [25, 75])
    assert geometry.core_height(ink) == pytest.approx(hi - lo, rel=1e-5)


def test_writing_height_is_the_median_line_height():
    small, big = hershey_ink("ab cd"), hershey_ink("ab cd", scale=2.0)
    assert writing_height(small) == pytest.approx(ink_height(small))
    page, _ = _stack(small, big, big)
    assert writing_height(page) == pytest.approx(ink_height(big), rel=1e-3)
    assert writing_height(Ink()) is None
    line = geometry.line_ink(page, [0, 1])
    assert line.strokes == page.strokes[:2]


def test_resample_counts_steps_through_float32_rounding():
    # Found by hypothesis: this line's float32 length is 9.99999, which gave one 10-unit step.
    end = 10.0 * np.array([np.cos(1.5), np.sin(1.5)])
    out = resample(Ink.from_strokes([[[0, 0], end / 3, end]]), 5.0)
    assert len(out.strokes[0]) == 3


def test_slant_ignores_the_jumps_between_strokes():
    """`estimate_slant` measures all strokes' segments at once: the pen-up jump from one
    stroke to the next (here straight down and leaning) is not a segment of either."""
    from handwriting.geometry import estimate_slant

    flat = [np.float32([[0, 0], [1, 0], [2, 0]]), np.float32([[3, 10], [4, 10]])]
    ink = Ink(tuple(Stroke(xy, np.arange(len(xy), dtype=np.float32)) for xy in flat))
    assert estimate_slant(ink) == 0.0
    leaning = Ink((Stroke(np.float32([[0, 0], [1, 3]]), np.float32([0, 1])),
                   Stroke(np.float32([[9, 0], [10, 3]]), np.float32([2, 3]))))
    one = Ink(leaning.strokes[:1])
    assert estimate_slant(leaning) == pytest.approx(estimate_slant(one)) != 0.0
