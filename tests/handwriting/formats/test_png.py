"""PNG: requested sizes, ink pixels where the strokes are, options, and no Qt in the core."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from handwriting.formats.png import render_ink, write_png
from handwriting.ink import Ink

# A 100 x 100 square outline and a dot at its centre.
SQUARE = Ink.from_strokes([[(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)], [(50, 50)]],
                          text="square")


def _px(image: Image.Image, x: float, y: float) -> np.ndarray:
    return np.asarray(image.convert("RGB"))[round(y), round(x)].astype(int)


def test_written_file_opens_with_requested_size_and_ink_on_the_strokes(tmp_path):
    path = tmp_path / "square.png"
    write_png(SQUARE, path, width=200, height=200, stroke_width=4, margin=10, smooth=False)
    with Image.open(path) as image:
        image.load()
    assert image.format == "PNG" and image.size == (200, 200) and image.mode == "RGB"
    assert image.text["Title"] == "square"
    def to_px(x, y):  # pad = margin + stroke_width / 2 = 12; scale = (200 - 24) / 100
        return 12 + 1.76 * x, 12 + 1.76 * y

    for x, y in [(50, 0), (100, 50), (50, 100), (0, 50), (50, 50), (0, 0)]:
        assert _px(image, *to_px(x, y)).max() < 80, (x, y)  # dark: on a stroke or the dot
    for x, y in [(25, 25), (75, 75), (25, 75)]:
        assert _px(image, *to_px(x, y)).min() > 250, (x, y)  # white inside the square
    for x, y in [(2, 2), (197, 197), (100, 3)]:
        assert _px(image, x, y).min() == 255, (x, y)  # the margin stays white


def test_one_side_follows_the_ink_aspect(text_ink):
    x0, y0, x1, y1 = text_ink.bounds()
    image = render_ink(text_ink, height=64, stroke_width=2, margin=3)
    scale = (64 - 2 * 4) / (y1 - y0)
    assert image.size == (math.ceil((x1 - x0) * scale + 8), 64)
    image = render_ink(text_ink, width=300)
    assert image.width == 300 and image.height < 300


def test_scale_is_pixels_per_ink_unit():
    image = render_ink(SQUARE, scale=0.5, stroke_width=2, margin=0)
    assert image.size == (52, 52)


def test_default_size_and_stroke_width():
    image = render_ink(SQUARE)
    assert image.size == (128, 128)
    ink_pixels = (np.asarray(image.convert("L")) < 128).sum()
    assert 0 < ink_pixels < 128 * 128 // 5


def test_colour_and_transparent_background():
    image = render_ink(SQUARE, width=100, height=100, color="red", background=None,
                       stroke_width=6, margin=2, smooth=False)  # a square keeps its corners
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # transparent corner
    r, g, b, a = image.getpixel((50, 5))  # top edge: pad 5, so y = 5
    assert (r, g, b) == (255, 0, 0) and a > 200


def test_antialiased_edges_have_grey_levels():
    image = np.asarray(render_ink(SQUARE, width=100, height=100, stroke_width=3).convert("L"))
    assert len(np.unique(image)) > 10


def test_empty_ink_gives_a_blank_image():
    image = render_ink(Ink(), width=20, height=10)
    assert image.size == (20, 10) and image.getextrema() == ((255, 255),) * 3


@pytest.mark.parametrize("options", [
    {"scale": 1, "width": 10},
    {"width": 0},
    {"height": 10, "margin": 10},
    {"stroke_width": 0},
    {"supersample": 0},
    {"color": "no-such-colour"},
    {"width": 30000, "height": 30000},
])
def test_bad_options_are_refused(options):
    with pytest.raises(ValueError):
        render_ink(SQUARE, **options)


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "x.png"
    write_png(SQUARE, path, height=32)
    first = path.read_bytes()
    with pytest.raises(ValueError):
        write_png(SQUARE, path, height=32, color="no-such-colour")
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def test_formats_never_import_qt():
    code = ("import sys, handwriting.formats, handwriting.formats.png, handwriting.formats.svg, "
            "handwriting.formats.inkml, handwriting.formats.jsonink; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'PyQt5', 'PyQt6', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
