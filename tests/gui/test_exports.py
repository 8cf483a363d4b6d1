"""The app's SVG and PNG exports: the physical size the CLI gives (`handwriting.exports`),
and a title that follows the page (not the text of ink cleared away)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from handwriting.exports import WRITING_HEIGHT_MM, picture_options
from handwriting.formats import write_ink
from handwriting.ink import Ink
from tests.fixtures import hershey_ink

pytestmark = pytest.mark.gui


def _size(path) -> tuple[str, str]:
    text = path.read_text()
    return (re.search(r' width="([^"]+)"', text).group(1),
            re.search(r' height="([^"]+)"', text).group(1))


def test_app_svg_has_the_cli_size_and_a_title_that_follows_the_page(window, tmp_path):
    ink = hershey_ink("hello world", scale=3.0)
    window.document.replace(ink)
    assert window.files.export_to(tmp_path / "app.svg")
    # the CLI's rule, at the app's pen width: the same physical size, in millimetres
    pen_mm = window.prefs.stroke_width / 100 * WRITING_HEIGHT_MM  # a share of the height
    write_ink(ink, tmp_path / "cli.svg", **picture_options(ink, ".svg", pen_mm))
    assert _size(tmp_path / "app.svg") == _size(tmp_path / "cli.svg")
    assert _size(tmp_path / "app.svg")[0].endswith("mm")
    window.document.clear()
    window.document.add_strokes(Ink.from_strokes([[(0, 0), (40, 30), (80, 0)]]).strokes)
    assert window.files.export_to(tmp_path / "after.svg")
    assert "hello world" not in (tmp_path / "after.svg").read_text()
    assert window.document.ink.meta.get("text") != "hello world"


def test_app_png_is_at_300_dpi(window, tmp_path):
    window.document.replace(hershey_ink("hello", scale=3.0))
    assert window.files.export_to(tmp_path / "x.png")
    with Image.open(tmp_path / "x.png") as im:
        assert im.info["dpi"][0] == pytest.approx(300, abs=0.5)
        assert im.size[1] > 60  # a writing height of 6 mm is 71 px (was 48 px)


def test_app_png_resolution_is_a_preference_that_persists(window, tmp_path, qtbot):
    from gui.settings import Preferences, PreferencesDialog

    window.document.replace(hershey_ink("hello", scale=3.0))
    dialog = PreferencesDialog(window.prefs, window)
    dialog.dpi_spin.setValue(150)
    dialog.apply_to(window.prefs)
    window.prefs.save()
    assert window.files.export_to(tmp_path / "x150.png")
    window.prefs.png_dpi = 600
    assert window.files.export_to(tmp_path / "x600.png")
    with Image.open(tmp_path / "x150.png") as a, Image.open(tmp_path / "x600.png") as b:
        assert a.info["dpi"][0] == pytest.approx(150, abs=0.5)
        assert b.info["dpi"][0] == pytest.approx(600, abs=0.5)
        assert b.size[1] == pytest.approx(4 * a.size[1], rel=0.05)
    assert Preferences.load().png_dpi == 150  # what was saved comes back next session
