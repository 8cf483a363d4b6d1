"""Pictures at a physical size (`handwriting.exports`): SVG width and height in millimetres,
one path per stroke, pen width in millimetres; PNG at a DPI or pixel height; the CLI's
`synthesize` writes them so."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from handwriting import cli
from handwriting.exports import (
    WRITING_HEIGHT_MM,
    mm_per_unit,
    picture_options,
    titled,
)
from handwriting.formats import read_ink, write_ink
from handwriting.grouping import writing_height
from handwriting.ink import Ink
from tests.fixtures import hershey_ink


def _svg_size(text: str) -> tuple[float, float, list[float]]:
    w = float(re.search(r'width="([\d.]+)mm"', text).group(1))
    h = float(re.search(r'height="([\d.]+)mm"', text).group(1))
    box = [float(v) for v in re.search(r'viewBox="([^"]+)"', text).group(1).split()]
    return w, h, box


def test_svg_is_sized_in_millimetres_with_one_path_per_stroke(tmp_path):
    ink = hershey_ink("hello world", scale=3.0)
    path = tmp_path / "x.svg"
    write_ink(ink, path, **picture_options(ink, ".svg", stroke_width_mm=0.5))
    text = path.read_text()
    w, h, box = _svg_size(text)
    k = WRITING_HEIGHT_MM / writing_height(ink)
    assert w == pytest.approx(box[2] * k, rel=1e-4) and h == pytest.approx(box[3] * k, rel=1e-4)
    assert text.count("<path") == len(ink)
    sw = float(re.search(r'stroke-width="([\d.]+)"', text).group(1))
    assert sw * k == pytest.approx(0.5, rel=1e-3)
    assert len(read_ink(path)) == len(ink)


def test_ink_in_millimetres_keeps_its_size():
    ink = hershey_ink("hi")
    assert mm_per_unit(Ink(ink.strokes, {"units": "mm"})) == 1.0
    with pytest.raises(ValueError, match="stroke width"):
        picture_options(ink, ".svg", stroke_width_mm=0)


def test_png_at_a_dpi_or_a_height(tmp_path):
    ink = hershey_ink("hello", scale=3.0)
    path = tmp_path / "x.png"
    write_ink(ink, path, **picture_options(ink, ".png", dpi=254))  # 10 px per mm
    with Image.open(path) as im:
        assert im.info["dpi"][0] == pytest.approx(254, abs=0.5)
        _, y0, _, y1 = ink.bounds()
        ink_mm = (y1 - y0) * mm_per_unit(ink)
        assert im.size[1] >= 10 * ink_mm  # the ink's height at 10 px/mm, plus margins
    write_ink(ink, path, **picture_options(ink, ".png", height_px=300))
    with Image.open(path) as im:
        assert im.size[1] == 300
    with pytest.raises(ValueError, match="either"):
        picture_options(ink, ".png", dpi=100, height_px=100)
    with pytest.raises(ValueError, match="DPI"):
        picture_options(ink, ".png", dpi=100000)


def test_title_follows_the_text_given():
    ink = hershey_ink("hello world")
    assert titled(ink, "").meta.get("text") is None
    assert titled(ink, "good night").meta["text"] == "good night"


def test_cli_synthesize_writes_millimetre_svgs_and_sized_pngs(tmp_path, capsys):
    svg, png = tmp_path / "hi.svg", tmp_path / "hi.png"
    assert cli.main(["synthesize", "hi there", "-o", str(svg), "--seed", "1",
                     "--stroke-width", "0.3"]) == 0
    w, h, box = _svg_size(svg.read_text())
    assert WRITING_HEIGHT_MM < h < 4 * WRITING_HEIGHT_MM and w > 2 * h  # one line, in mm
    assert cli.main(["synthesize", "hi there", "-o", str(png), "--seed", "1",
                     "--png-height", "120"]) == 0
    with Image.open(png) as im:
        assert im.size[1] == 120
