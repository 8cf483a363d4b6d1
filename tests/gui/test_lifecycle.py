"""The document's life cycle as users expect it: File > New, "Save changes?" before ink is
replaced or the window closes, Save never overwriting a file not chosen for this ink, one
autosave per running app, recent files merged, and batch runs that never wait on a box."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui.files import DocumentFiles
from gui.main_window import MainWindow
from gui.settings import Preferences, settings
from handwriting.formats import read_ink, write_ink
from handwriting.ink import Ink
from tests.gui.helpers import drag, zigzag
from tests.gui.test_app import ROOT, offscreen_env

pytestmark = pytest.mark.gui

INK = Ink.from_strokes([[(0, 0), (40, 30), (80, 0)], [(100, 0), (100, 30)]])
OTHER = Ink.from_strokes([[(0, 0), (10, 10)]])


@pytest.fixture
def answers(monkeypatch):
    """Script the "Save changes?" answers; records what was asked. Once the script runs
    out the answer is Discard, so a window closed at teardown never refuses."""
    asked: list[str] = []
    script: list[str] = []

    def ask(self, action):
        asked.append(action)
        return script.pop(0) if script else "discard"

    monkeypatch.setattr(DocumentFiles, "ask_save_changes", ask)
    return script, asked


def _window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


def test_open_over_modified_ink_asks_and_cancel_keeps_everything(window, answers, tmp_path):
    script, asked = answers
    drag(window.canvas, zigzag(40, 80))
    before = window.document.ink
    write_ink(OTHER, tmp_path / "other.json")
    script.append("cancel")
    assert not window.files.open_file(tmp_path / "other.json")
    assert asked == ["opening other.json"]
    assert window.document.ink is before and window.document.can_undo


def test_open_after_discard_replaces_and_save_answer_saves_first(window, answers, tmp_path,
                                                                 monkeypatch):
    script, asked = answers
    write_ink(OTHER, tmp_path / "other.json")
    drag(window.canvas, zigzag(40, 80))
    target = tmp_path / "mine.json"
    monkeypatch.setattr("gui.files.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "JSON ink (*.json)"))
    script.append("save")
    assert window.files.open_file(tmp_path / "other.json")
    assert len(read_ink(target)) == 1  # saved before it was replaced
    assert window.document.ink == OTHER and not window.files.is_modified


def test_a_cancelled_save_as_keeps_the_ink(window, answers, tmp_path, monkeypatch):
    script, _ = answers
    write_ink(OTHER, tmp_path / "other.json")
    drag(window.canvas, zigzag(40, 80))
    before = window.document.ink
    monkeypatch.setattr("gui.files.QFileDialog.getSaveFileName", lambda *a, **k: ("", ""))
    script.append("save")
    assert not window.files.open_file(tmp_path / "other.json")
    assert window.document.ink is before


def test_new_document_asks_then_starts_untitled(window, answers, tmp_path):
    script, asked = answers
    write_ink(INK, tmp_path / "ink.json")
    assert window.files.open_file(tmp_path / "ink.json")
    assert asked == []  # nothing was modified
    drag(window.canvas, zigzag(40, 200))
    window.new_action.trigger()
    assert asked == ["starting a new document"]
    assert window.document.ink.is_empty and window.files.current_path is None
    assert window.windowTitle().startswith("Untitled —")


def test_quit_with_modified_ink_asks_and_cancel_keeps_the_window(window, answers):
    script, asked = answers
    drag(window.canvas, zigzag(40, 80))
    script.append("cancel")
    assert not window.close()
    assert asked == ["quitting"] and window.isVisible() and len(window.document) == 1
    assert window.close()  # the next answer (Discard) lets it go


def test_clear_is_an_undoable_edit_of_the_same_document(window, tmp_path):
    write_ink(INK, tmp_path / "ink.json")
    window.files.open_file(tmp_path / "ink.json")
    window.clear_action.trigger()
    assert window.files.current_path == tmp_path / "ink.json" and window.files.is_modified
    window.undo_action.trigger()
    assert window.document.ink == INK


def test_save_never_overwrites_another_programs_file_silently(window, tmp_path, monkeypatch):
    opened = tmp_path / "fixture.inkml"
    write_ink(INK, opened)
    original = opened.read_bytes()
    window.files.open_file(opened)
    window.clear_action.trigger()
    drag(window.canvas, zigzag(40, 80))
    chosen = tmp_path / "new.json"
    asked = []

    def dialog(*a, **k):
        asked.append(a)
        return str(chosen), "JSON ink (*.json)"

    monkeypatch.setattr("gui.files.QFileDialog.getSaveFileName", dialog)
    window.save_action.trigger()
    assert asked, "Save wrote over the opened file without asking for a name"
    assert opened.read_bytes() == original and read_ink(chosen) == window.document.ink
    window.save_action.trigger()  # now a file the user chose: saved in place
    assert len(asked) == 1


def test_two_apps_keep_separate_autosaves_and_a_clean_quit_keeps_the_others(qtbot, messages):
    a, b = _window(qtbot), _window(qtbot)
    a.document.replace(INK)
    b.document.replace(OTHER)
    assert a.autosave.save_now() and b.autosave.save_now()
    assert a.autosave.path != b.autosave.path
    assert read_ink(a.autosave.path) == INK and read_ink(b.autosave.path) == OTHER
    assert a.autosave.crashed_sessions() == []  # B is running: never offered
    a.close()
    assert b.autosave.path.is_file() and b.autosave.lock_path.is_file()
    # B is killed: now, and only now, its ink is offered
    b.autosave.timer.stop()
    b._closed = True
    b.workers.shutdown()
    b.autosave._lock.release()
    c = MainWindow(offer_restore=False)
    qtbot.addWidget(c)
    crashed = c.autosave.crashed_sessions()
    assert [read_ink(s.ink_path) for s in crashed] == [OTHER]


def test_an_old_clean_session_is_never_offered_as_a_crash(qtbot, messages):
    folder = Path(os.environ["HANDWRITING_APP_DATA"])
    first = _window(qtbot)
    first.document.replace(INK)
    first.close()
    assert read_ink(folder / "last-session.json") == INK
    second = MainWindow(offer_restore=False)
    qtbot.addWidget(second)
    assert second.autosave.crashed_sessions() == []


def test_recent_files_of_two_apps_are_merged(qtbot, messages, tmp_path):
    a, b = _window(qtbot), _window(qtbot)
    for name, win in (("one.json", a), ("two.json", b)):
        write_ink(INK, tmp_path / name)
        win.files.open_file(tmp_path / name)
    a.close()
    b.close()
    recent = Preferences.load(settings()).recent
    assert recent[:2] == [str((tmp_path / "two.json").resolve()),
                          str((tmp_path / "one.json").resolve())]


def test_a_fifo_is_refused_without_blocking_the_window(window, messages, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert not window.files.open_file(fifo)
    assert "not a regular file" in messages[-1][1]


def test_batch_open_of_a_bad_file_prints_and_exits_2(tmp_path):
    bad = tmp_path / "truncated.json"
    bad.write_text('{"format": "handwriting-ink", "version": 1, "strokes": [{"x": [1')
    shot, report = tmp_path / "s.png", tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "gui", "--open", str(bad), "--screenshot",
                          str(shot), "--report-json", str(report)], cwd=ROOT,
                         env=offscreen_env(tmp_path), capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 2, run.stderr
    assert f"handwriting-app: error: {bad}: " in run.stderr
    assert shot.is_file() and report.is_file()


def test_a_large_file_is_read_off_the_gui_thread(window, tmp_path, monkeypatch):
    import threading

    import gui.files

    path = tmp_path / "big.json"
    write_ink(INK, path)
    readers = []
    real = gui.files.read_ink

    def spy(p):
        readers.append(threading.current_thread() is threading.main_thread())
        return real(p)

    monkeypatch.setattr(gui.files, "BACKGROUND_READ_BYTES", 10)  # every file is "large"
    monkeypatch.setattr(gui.files, "read_ink", spy)
    assert window.files.open_file(path)
    assert readers == [False] and window.document.ink == INK


def test_a_scripted_window_closes_without_asking(window, monkeypatch):
    """gui.bench and the batch options close windows holding ink they drew: no question
    may block them (python -m gui.bench hung on one)."""
    monkeypatch.setattr(DocumentFiles, "ask_save_changes",
                        lambda self, action: pytest.fail(f"asked before {action}"))
    window.unattended = True
    drag(window.canvas, zigzag(40, 80))
    assert window.close()


def test_gui_bench_closes_its_window_without_asking(monkeypatch):
    """python -m gui.bench draws into its window and closes it: it hung on "Save changes?"."""
    import argparse

    import gui.bench
    from handwriting.ink import Stroke

    asked = []
    monkeypatch.setattr(DocumentFiles, "ask_save_changes",
                        lambda self, action: asked.append(action) or "cancel")

    def draw(window, repeats, first_strokes=None):  # stands in for the measured drags
        window.document.add_stroke(Stroke.from_xy([(0, 0), (40, 30), (80, 0)]))
        return [10.0]

    monkeypatch.setattr(gui.bench, "pen_up_latency", draw)
    monkeypatch.setattr(gui.bench, "paint_gaps", lambda w, s, sp: {"max_gap_ms": 1.0})
    monkeypatch.setattr(gui.bench, "instant_write_seconds", lambda w, r: [0.1])
    figures = gui.bench.window_figures(argparse.Namespace(threads=1, repeats=1, seconds=0.1))
    assert asked == [] and "models_ready_s" in figures
