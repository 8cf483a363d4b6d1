"""Typed text -> ink: the worker streams points, the canvas shows them as a preview, and the
result lands below the existing ink as one undo step; unsupported characters are reported;
Stop cancels. The synthesizer is still training, so only the mechanics are checked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gui.panels import MY_STYLE
from tests.fixtures import hershey_ink
from tests.gui.helpers import draw_ink

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


def test_typed_text_becomes_ink_as_one_undo_step(ready_window, qtbot):
    win, doc = ready_window, ready_window.document
    draw_ink(win.canvas, hershey_ink("hi"), top=40, height=50)
    drawn = doc.ink
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS) as blocker:
        assert win.write_text("ab cd efg hij klm nop qrs tuv wxyz abc def ghi jkl mn",
                              speed="instant", seed=3)
    assert blocker.args == [True]
    assert len(doc) > len(drawn) and doc.preview is None
    new = doc.strokes[len(drawn.strokes):]
    assert min(float(s.xy[:, 1].min()) for s in new) > drawn.bounds()[3]  # below the ink
    assert new[0].t[0] > drawn.strokes[-1].t[-1]  # written after the drawn ink, line by line
    assert all(b.t[0] >= a.t[-1] for a, b in zip(new[:-1], new[1:], strict=True))
    report = win.report()
    assert report["synthesized_text"].count("\n") == 1  # two lines of typed text
    assert report["synthesized_points"] == doc.ink.num_points - drawn.num_points
    assert doc.undo_label == "Write Text"
    doc.undo()
    assert doc.ink == drawn
    doc.redo()
    assert len(doc) > len(drawn)


def _same_shape(a, b) -> bool:
    """The same strokes up to where they were placed and how large (`normalize`)."""
    import numpy as np

    from handwriting.geometry import normalize

    sa, sb = normalize(a).strokes, normalize(b).strokes
    return len(sa) == len(sb) and all(
        x.xy.shape == y.xy.shape and np.allclose(x.xy, y.xy, atol=1e-3)
        for x, y in zip(sa, sb, strict=True))


def test_same_seed_same_ink(ready_window, qtbot):
    win, doc = ready_window, ready_window.document
    inks = []
    for _ in range(2):
        with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS):
            win.write_text("ok", speed="instant", seed=11)
        inks.append(doc.ink)
        doc.clear()
    # the same writing; where it lands follows the view, which the first write may refit
    assert _same_shape(inks[0], inks[1])


def test_unsupported_characters_are_reported(ready_window, qtbot):
    win = ready_window
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS):
        win.write_text("a€b", speed="instant", seed=1)
    assert "€" in win.statusBar().currentMessage()
    assert not win.write_text("   ")
    assert "Type some text" in win.statusBar().currentMessage()


def test_stop_keeps_what_was_written(ready_window, qtbot):
    win, doc = ready_window, ready_window.document
    win.write_text("a long sentence to be written slowly", speed="realtime", seed=2)
    assert win.write_panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: doc.preview is not None and doc.preview.num_points > 3,
                    timeout=TIMEOUT_MS)
    shown = doc.preview.num_points
    win.stop_action.trigger()
    assert not win.typed.running and doc.preview is None
    assert shown <= doc.ink.num_points < 2000
    assert not win.write_panel.stop_button.isEnabled()
    doc.undo()
    assert doc.ink.is_empty
    qtbot.waitUntil(lambda: not win.workers.synthesis_running, timeout=TIMEOUT_MS)


def test_my_handwriting_needs_recognized_ink_then_primes_with_it(ready_window, qtbot):
    win = ready_window
    win.write_panel.style_combo.setCurrentText(MY_STYLE)
    assert not win.write_text("ok", speed="instant")
    assert "Write a line" in win.statusBar().currentMessage()
    draw_ink(win.canvas, hershey_ink("hello"), top=40, height=50)
    assert win.wait_until_idle(30) and win.document.transcript
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS) as blocker:
        assert win.write_text("ok", speed="instant", seed=5)
    assert blocker.args == [True]


def test_instant_speed_shows_the_ink_in_frames_and_writes_what_other_speeds_write(
        ready_window, qtbot):
    """At instant speed the preview grows a batch of points at a time (never a point at a
    time, never shrinking), and the committed ink is the ink any other speed writes."""
    win, doc = ready_window, ready_window.document
    shown: list[int] = []

    def on_event(event) -> None:
        if event.kind == "preview_changed" and doc.preview is not None:
            shown.append(doc.preview.num_points)

    unsubscribe = doc.subscribe(on_event)
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS):
        win.write_text("hello there", speed="instant", seed=4)
    instant = doc.ink
    assert shown == sorted(shown) and len(shown) < instant.num_points / 4
    doc.clear()
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS):
        win.write_text("hello there", speed="fast", seed=4)
    unsubscribe()
    assert _same_shape(doc.ink, instant)


def test_typed_ink_landing_while_the_pen_is_down_leaves_that_stroke_alone(ready_window, qtbot):
    """Typed text committed mid-stroke used to drop the stroke being drawn."""
    win, doc = ready_window, ready_window.document
    canvas = win.canvas
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(40, 40))
    QTest.mouseMove(canvas, QPoint(60, 50))
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS) as blocker:
        assert win.write_text("ok", speed="instant", seed=5)
    assert blocker.args == [True] and doc.is_drawing
    typed = len(doc)
    for x in range(70, 130, 10):
        QTest.mouseMove(canvas, QPoint(x, 50))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(130, 55))
    assert len(doc) == typed + 1
    assert len(doc.strokes[-1]) == 9  # press, 7 moves, release: none lost
    doc.undo()
    assert len(doc) == typed and doc.undo_label == "Write Text"


def test_tries_go_with_the_job_and_the_ink_still_lands(ready_window, qtbot):
    win, doc = ready_window, ready_window.document
    win.write_panel.set_candidates(2)
    with qtbot.waitSignal(win.workers._synthesize, timeout=TIMEOUT_MS) as job:
        with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS) as done:
            assert win.write_text("ok", speed="instant", seed=4)
    assert job.args[0].candidates == 2
    assert done.args == [True] and len(doc) > 0
