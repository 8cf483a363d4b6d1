"""Saving, recent files, preferences, autosave and crash recovery, model files that are
missing or broken, and the About box."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from gui.main_window import MainWindow
from gui.settings import Preferences
from handwriting.formats import read_ink
from handwriting.ink import Ink
from tests.gui.conftest import MODEL_TIMEOUT_MS
from tests.gui.helpers import drag, zigzag

pytestmark = pytest.mark.gui

INK = Ink.from_strokes([[(0, 0), (40, 30), (80, 0)], [(100, 0), (100, 30)]])


def new_window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


def test_save_as_then_save_and_recent_files(window, messages, monkeypatch, tmp_path):
    drag(window.canvas, zigzag(40, 80))
    assert window.windowTitle().startswith("Untitled*")
    target = tmp_path / "mine"
    monkeypatch.setattr("gui.files.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "InkML (*.inkml)"))
    window.save_action.trigger()  # no file yet: Save asks for one
    assert window.files.current_path == tmp_path / "mine.inkml"
    assert window.windowTitle().startswith("mine.inkml —")
    drag(window.canvas, zigzag(40, 160))
    assert "*" in window.windowTitle()
    window.save_action.trigger()  # now saves in place, no dialog
    assert len(read_ink(tmp_path / "mine.inkml")) == 2 and messages == []
    assert Preferences.load().recent[0] == str((tmp_path / "mine.inkml").resolve())
    window.files.on_fill_recent()
    assert [a.text() for a in window.recent_menu.actions()][0].endswith("mine.inkml")


def test_svg_and_png_exports_use_the_preferred_width_and_colour(window, tmp_path):
    window.document.replace(INK)
    window.prefs.color, window.prefs.stroke_width = "#aa0000", 10.0
    assert window.files.export_to(tmp_path / "x.svg") and window.files.export_to(tmp_path / "x.png")
    svg = (tmp_path / "x.svg").read_text()
    assert 'stroke="#aa0000"' in svg
    width = float(re.search(r'stroke-width="([\d.]+)"', svg).group(1))
    assert width == pytest.approx(0.1 * 30, rel=0.2)  # 10 % of a ~30 unit writing height
    assert len(read_ink(tmp_path / "x.svg")) == 2


def test_preferences_persist_across_sessions(qtbot, messages):
    first = new_window(qtbot)
    first.write_panel.set_bias(2.0)
    first.write_panel.set_speed("fast")
    first.write_panel.set_match_hand(False)  # a bool: QSettings gives back the string "false"
    first.close()
    second = new_window(qtbot)
    assert second.write_panel.bias() == pytest.approx(2.0)
    assert second.write_panel.speed() == "fast"
    assert second.write_panel.match_hand() is False


def _crash(win: MainWindow) -> None:
    """The window's process dies: no clean exit, its lock is gone with it."""
    win.autosave.timer.stop()
    win._closed = True
    win.workers.shutdown()
    win.autosave._lock.release()


def test_autosave_and_restore_after_a_crash(qtbot, messages, monkeypatch):
    folder = Path(os.environ["HANDWRITING_APP_DATA"])
    first = new_window(qtbot)
    first.document.replace(INK)
    assert first.autosave.save_now()
    assert read_ink(first.autosave.path) == INK
    assert first.autosave.path.parent == folder / "sessions"
    _crash(first)

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    second = new_window(qtbot)
    qtbot.waitUntil(lambda: second.document.ink == INK, timeout=5000)
    assert not first.autosave.path.exists()  # restored into the second session's autosave
    assert second.files.is_modified  # restored ink is not saved anywhere yet
    second.close()  # a clean exit: nothing is offered next time, the ink is kept
    assert read_ink(folder / "last-session.json") == INK
    assert list((folder / "sessions").iterdir()) == []
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a))
    third = new_window(qtbot)
    qtbot.wait(50)
    assert asked == [] and third.document.ink.is_empty


def test_missing_models_are_reported_once_and_drawing_still_works(qtbot, messages, tmp_path):
    win = MainWindow(models=tmp_path)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=MODEL_TIMEOUT_MS)
    title, text = messages[0]
    assert title == "Models not loaded"
    assert "recognizer.pt: checkpoint not found" in text and "synthesizer.pt" in text
    assert "not loaded" in win.models_label.text()
    drag(win.canvas, zigzag(40, 80))
    drag(win.canvas, zigzag(40, 160))
    assert len(win.document) == 2 and win.wait_until_idle(5)
    assert win.document.transcript == () and len(messages) == 1
    assert not win.write_panel.write_button.isEnabled()


def test_model_failures_are_handled_in_the_gui_thread(qtbot, messages, tmp_path):
    """A failed load used to be handled in the worker's thread (a lambda slot): it took the
    model out of `loading` while the GUI thread read it, so the message box could go up with
    one model's failure and never show the other's."""
    import threading

    win = MainWindow(models=tmp_path)
    qtbot.addWidget(win)
    gui_thread, seen = threading.get_ident(), []

    class Recording(set):
        def discard(self, kind):
            seen.append((kind, threading.get_ident()))
            super().discard(kind)

    win.workers.loading = Recording(win.workers.loading)
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=MODEL_TIMEOUT_MS)
    assert sorted(k for k, _ in seen) == ["recognizer", "synthesizer"]
    assert all(t == gui_thread for _, t in seen)


def test_a_corrupt_model_file_is_reported(qtbot, messages, tmp_path):
    (tmp_path / "recognizer.pt").write_bytes(b"not a checkpoint")
    win = MainWindow(models=tmp_path)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=MODEL_TIMEOUT_MS)
    assert "recognizer.pt: not a readable checkpoint" in messages[0][1]


def test_about_box_shows_model_metrics_and_licence(ready_window, qtbot, monkeypatch):
    from gui.about import AboutDialog

    shown = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: shown.append(self) or 0)
    ready_window.about_action.trigger()
    text = shown[0].browser.toPlainText()
    assert "non-commercial" in text and "IAM-OnDB" in text
    for kind in ("recognizer", "synthesizer"):
        info = ready_window.models[kind] if hasattr(ready_window, "models") else None
        card = Path(__file__).resolve().parents[2] / "models" / f"{kind}.md"
        if card.is_file():  # the shipped card is shown as it is
            assert card.read_text().splitlines()[0].lstrip("# ").replace("`", "") in text
        else:  # else what the checkpoint says about itself
            assert f"{kind}.pt" in text and (info is None or "val_" in text)


def test_missing_models_in_a_scripted_run_are_printed_not_boxed(qtbot, messages, tmp_path,
                                                                 capfd):
    win = MainWindow(models=tmp_path)
    win.batch = True  # --screenshot / --report-json: nobody to click a box
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.workers.loading, timeout=MODEL_TIMEOUT_MS)
    qtbot.wait(50)
    assert messages == []
    assert "handwriting-app: warning: The recognizer did not load" in capfd.readouterr().err
