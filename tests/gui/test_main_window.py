"""`MainWindow`: menus drive the document; open and export go through `handwriting.formats`;
bad files produce a message naming the file and the problem, and the ink stays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from handwriting.formats import read_ink
from tests.gui.helpers import drag, zigzag

pytestmark = pytest.mark.gui


def draw_two_strokes(window) -> None:
    drag(window.canvas, zigzag(40, 80))
    drag(window.canvas, zigzag(40, 160, n=5))


def test_menus_have_the_expected_actions(window):
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert {"File", "Edit", "View", "Help"} <= set(menus)
    shortcuts = {"open": "Ctrl+O", "save": "Ctrl+S", "save_as": "Ctrl+Shift+S",
                 "export": "Ctrl+Shift+E", "undo": "Ctrl+Z", "redo": "Ctrl+Shift+Z"}
    for name, keys in shortcuts.items():
        assert getattr(window, f"{name}_action").shortcut().toString() == keys
    assert set(window.export_actions) == {".svg", ".inkml", ".json", ".png"}
    assert window.recognized_dock.windowTitle() == "Recognized text"
    assert window.recognized_panel.text() == ""
    assert window.color_action.isCheckable() and not window.color_action.isChecked()


def test_undo_redo_and_clear_through_actions(window):
    doc = window.document
    assert not window.undo_action.isEnabled()
    draw_two_strokes(window)
    first, second = doc.strokes
    assert window.undo_action.isEnabled() and "2 strokes" in window.info_label.text()
    window.undo_action.trigger()
    assert doc.strokes == (first,) and window.redo_action.isEnabled()
    window.redo_action.trigger()
    assert doc.strokes == (first, second)
    window.clear_action.trigger()
    assert doc.ink.is_empty and not window.clear_action.isEnabled()
    window.undo_action.trigger()
    assert doc.strokes == (first, second)


def test_opening_a_broken_file_reports_it_and_keeps_the_ink(window, messages, tmp_path):
    draw_two_strokes(window)
    before = window.document.ink
    broken = tmp_path / "broken.inkml"
    broken.write_text("<ink><trace>1 2, 3 oops</trace>")
    assert not window.files.open_file(broken)
    assert len(messages) == 1
    title, text = messages[0]
    assert title == "Cannot open file" and "broken.inkml" in text
    assert window.document.ink == before
    assert not window.files.open_file(tmp_path / "missing.json")
    assert "missing.json" in messages[1][1]
    assert window.document.ink == before


@pytest.mark.parametrize("ext", [".svg", ".inkml", ".json"])
def test_export_then_read_back(window, messages, tmp_path, ext):
    draw_two_strokes(window)
    path = tmp_path / f"out{ext}"
    assert window.files.export_to(path), messages
    back = read_ink(path)
    assert len(back) == 2
    for a, b in zip(window.document.strokes, back.strokes, strict=True):
        assert len(a) == len(b)
        # SVG keeps coordinates only up to its chosen scale and offset; compare shapes.
        xy_a, xy_b = a.xy - a.xy.mean(0), b.xy - b.xy.mean(0)
        scale = np.abs(xy_a).max() / max(np.abs(xy_b).max(), 1e-9)
        np.testing.assert_allclose(xy_b * scale, xy_a, atol=0.05 * np.abs(xy_a).max())


def test_export_png_and_open_it_again(window, messages, tmp_path):
    draw_two_strokes(window)
    png = tmp_path / "out.png"
    assert window.files.export_to(png)
    with Image.open(png) as image:
        assert image.size[0] > 0 and image.size[1] > 0
    json_path = tmp_path / "out.json"
    window.files.export_to(json_path)
    window.document.clear()
    assert window.files.open_file(json_path) and len(window.document) == 2
    assert window.windowTitle().startswith("out.json")
    assert messages == []


def test_export_of_empty_ink_is_refused(window, messages, tmp_path):
    assert not window.files.export_to(tmp_path / "empty.svg")
    assert messages and messages[0][0] == "Nothing to export"
    assert not (tmp_path / "empty.svg").exists()


def test_menu_actions_go_through_file_dialogs(window, messages, monkeypatch, tmp_path):
    draw_two_strokes(window)
    target = tmp_path / "picked"  # no extension: the chosen format's is added
    monkeypatch.setattr("gui.files.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    window.export_actions[".inkml"].trigger()
    assert window.files.current_path is None  # exporting does not change the current file
    assert (tmp_path / "picked.inkml").is_file(), messages

    window.document.clear()
    monkeypatch.setattr("gui.files.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(tmp_path / "picked.inkml"), ""))
    window.open_action.trigger()
    assert len(window.document) == 2 and not window.document.can_undo
    assert window.windowTitle().startswith("picked.inkml")
    assert messages == []


def test_status_messages_are_not_hidden_behind_the_model_summary(window):
    window.statusBar().showMessage("A long message that must be readable in full", 5000)
    assert window.models_label.isHidden()
    window.statusBar().clearMessage()
    assert not window.models_label.isHidden()
