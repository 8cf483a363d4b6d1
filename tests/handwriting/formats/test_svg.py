"""SVG: plotter-friendly structure, stacked lines, and round trips through the reader."""

from __future__ import annotations

import re

import numpy as np
import pytest
from defusedxml import ElementTree as SafeET
from hypothesis import given, settings

from handwriting.formats.errors import InkFormatError
from handwriting.formats.svg import (
    ink_to_svg_string,
    parse_svg_ink,
    read_svg_ink,
    stack_lines,
    write_svg,
)
from handwriting.ink import Ink
from tests.handwriting.formats.strategies import inks

SVG = "{http://www.w3.org/2000/svg}"


def _tree(text: str):
    return SafeET.fromstring(text.encode())


def _viewbox(root) -> list[float]:
    return [float(v) for v in root.get("viewBox").split()]


def test_one_unfilled_round_path_per_stroke(small_ink):
    root = _tree(ink_to_svg_string(small_ink, stroke_width=1.5, color="#c00000", margin=4))
    paths = list(root.iter(SVG + "path"))
    assert len(paths) == len(small_ink)
    assert all(re.fullmatch(r"M [-\d.,]+ [LC][-\d., ]+", p.get("d")) for p in paths)
    straight = _tree(ink_to_svg_string(small_ink, smooth=False))
    assert all(re.fullmatch(r"M [-\d.,]+ L[-\d., ]+", p.get("d"))
               for p in straight.iter(SVG + "path"))
    (group,) = root.iter(SVG + "g")
    assert group.get("fill") == "none"
    assert group.get("stroke") == "#c00000" and group.get("stroke-width") == "1.5"
    assert group.get("stroke-linecap") == "round" and group.get("stroke-linejoin") == "round"
    assert root.find(SVG + "title").text == "hi!"


def test_viewbox_fits_bounds_plus_margin_and_half_the_stroke(small_ink):
    root = _tree(ink_to_svg_string(small_ink, stroke_width=2, margin=5))
    x0, y0, x1, y1 = small_ink.bounds()
    assert _viewbox(root) == [x0 - 6, y0 - 6, x1 - x0 + 12, y1 - y0 + 12]
    assert root.get("width") is None  # no scale: the viewBox alone sizes it


def test_scale_sets_width_and_height(small_ink):
    root = _tree(ink_to_svg_string(small_ink, stroke_width=2, margin=5, scale=2))
    vb = _viewbox(root)
    assert float(root.get("width")) == pytest.approx(vb[2] * 2)
    assert float(root.get("height")) == pytest.approx(vb[3] * 2)


def test_default_lengths_follow_the_ink_size(small_ink):
    big = small_ink.map_xy(lambda xy: xy * 100)
    w_small = float(_tree(ink_to_svg_string(small_ink)).find(SVG + "g").get("stroke-width"))
    w_big = float(_tree(ink_to_svg_string(big)).find(SVG + "g").get("stroke-width"))
    assert w_big == pytest.approx(100 * w_small)


def test_round_trip_keeps_coordinates_and_text(tmp_path, text_ink):
    path = tmp_path / "line.svg"
    write_svg(text_ink, path)
    back = read_svg_ink(path)
    assert len(back) == len(text_ink)
    for a, b in zip(back.strokes, text_ink.strokes, strict=True):
        np.testing.assert_allclose(a.xy, b.xy, rtol=1e-6, atol=1e-4)
    assert back.meta["text"] == text_ink.meta["text"]
    assert back.meta["format"] == "svg"
    assert np.all(np.diff(back.times()) > 0)  # synthetic times


def test_smooth_curves_pass_through_every_point(small_ink):
    text = ink_to_svg_string(small_ink, smooth=True)
    assert " C " in text
    back = parse_svg_ink(text.encode())
    for a, b in zip(back.strokes, small_ink.strokes, strict=True):
        np.testing.assert_allclose(a.xy, b.xy, atol=1e-4)


def test_dots_are_drawn_and_read_back_as_one_point(small_ink):
    text = ink_to_svg_string(small_ink)
    assert 'd="M 55,25 L 55,25"' in text
    assert len(parse_svg_ink(text.encode()).strokes[-1]) == 1


def test_lines_are_stacked_top_to_bottom_left_aligned(small_ink, plain_ink):
    gap = 7.0
    placed = stack_lines([small_ink, Ink(), plain_ink], gap)
    assert len(placed) == 2
    assert placed[0] == small_ink
    b0, b1 = placed[0].bounds(), placed[1].bounds()
    assert b1[0] == pytest.approx(b0[0])
    assert b1[1] == pytest.approx(b0[3] + gap)
    back = parse_svg_ink(ink_to_svg_string([small_ink, plain_ink], line_gap=gap).encode())
    assert len(back) == len(small_ink) + len(plain_ink)
    np.testing.assert_allclose(back.strokes[-1].xy, placed[1].strokes[-1].xy, atol=1e-3)
    assert back.meta["text"] == f"hi!\n{plain_ink.meta['text']}"


def test_empty_ink_writes_a_valid_empty_svg():
    assert parse_svg_ink(ink_to_svg_string(Ink()).encode()).is_empty


@pytest.mark.parametrize("options", [{"stroke_width": 0}, {"margin": -1}, {"line_gap": -1},
                                     {"scale": 0}])
def test_bad_lengths_are_refused(small_ink, options):
    with pytest.raises(ValueError):
        ink_to_svg_string(small_ink, **options)


def test_reader_understands_relative_and_axis_commands():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><path d="m1 2 3 4h5v-1L0,0z'
           'M 10 10 c 1 1 2 2 3 3 S 5 5 6 6 Q 1 1 2 2 T 7 7"/></svg>')
    a, b = parse_svg_ink(svg.encode()).strokes
    assert a.xy.tolist() == [[1, 2], [4, 6], [9, 6], [9, 5], [0, 0], [1, 2]]
    assert b.xy.tolist() == [[10, 10], [13, 13], [6, 6], [2, 2], [7, 7]]


@pytest.mark.parametrize("svg, problem", [
    ('<svg><path d="M 0 0 A 1 1 0 0 1 5 5"/></svg>', "unsupported path command 'A'"),
    ('<svg><path d="M 0 0 L 1"/></svg>', "lacks its 2 numbers"),
    ('<svg><path d="L 1 1"/></svg>', "must start with a moveto"),
    ('<svg><path d="5 5"/></svg>', "a number where a command belongs"),
    ('<svg><path d="M 0 0 L 1 # 2"/></svg>', "unreadable path data"),
    ('<svg><path d="M nan,nan"/></svg>', "unsupported path command 'n'"),
    ('<svg><path d="M 1e999,0"/></svg>', "NaN, infinite"),
    ('<svg><g transform="scale(2)"><path d="M 0 0"/></g></svg>', "transform"),
    ("<html/>", "not <svg>"),
])
def test_bad_svgs_name_the_file_and_problem(svg, problem):
    with pytest.raises(InkFormatError, match=re.escape(problem)) as err:
        parse_svg_ink(svg.encode(), "bad.svg")
    assert str(err.value).startswith("bad.svg: ")


@settings(max_examples=40, deadline=None)
@given(ink=inks())
def test_random_ink_round_trips_within_tolerance(ink):
    back = parse_svg_ink(ink_to_svg_string(ink).encode())
    assert len(back) == len(ink)
    for a, b in zip(back.strokes, ink.strokes, strict=True):
        expected = b.xy[:1] if np.all(b.xy == b.xy[0]) else b.xy  # a dot reads back as one
        np.testing.assert_allclose(a.xy, expected, rtol=1e-6, atol=1e-3)
