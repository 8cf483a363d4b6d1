"""The insight dock in the main window: made once a model has loaded, listed in the View
menu; while open it inspects the line drawn last (or the one under the pointer) through the
recognition worker, saliency makes the round trip through the worker, synthesis streams
into the attention panel and marks the character being written in the text box. Checked
against the app's own transcript and the worker's answers, never model quality."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from gui.insight_host import typed_positions
from gui.messages import (
    InsightResult,
    SaliencyJob,
    SaliencyRequest,
    SynthesisBatch,
    SynthesisDone,
    SynthesisStarted,
)
from gui.workers.models import ModelWorkers
from gui.workers.recognition import RecognitionWorker
from handwriting.ink import Ink
from handwriting.results import SynthesisFrame
from tests.fixtures import hershey_ink
from tests.gui.helpers import draw_ink

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


def hover(widget, pos: QPointF) -> None:
    """A mouse move with no button pressed, sent straight to `widget`."""
    event = QMouseEvent(QEvent.Type.MouseMove, pos, widget.mapToGlobal(pos),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def to_widget(canvas, x: float, y: float) -> QPointF:
    return canvas.view_transform().map(QPointF(x, y))


@pytest.fixture
def host(ready_window, qtbot):
    """The window's insight host with the dock open."""
    host = ready_window.insight
    assert host is not None
    ready_window.on_show_insight()
    qtbot.waitUntil(lambda: host.dock.isVisible(), timeout=5000)
    return host


def test_the_dock_waits_for_a_model_then_joins_the_view_menu(ready_window):
    host = ready_window.insight
    assert host is not None and host.dock.isHidden()
    view = next(a.menu() for a in ready_window.menuBar().actions() if a.text() == "&View")
    assert ready_window.insight_action is host.dock.toggleViewAction()
    assert ready_window.insight_action in view.actions()
    assert "Inside the Networks" in ready_window.insight_action.text()
    assert (ready_window.dockWidgetArea(host.dock) == Qt.DockWidgetArea.BottomDockWidgetArea)


def test_nothing_is_inspected_while_the_dock_is_closed(ready_window, qtbot):
    draw_ink(ready_window.canvas, hershey_ink("hi"), top=60, height=60)
    assert ready_window.wait_until_idle(30)
    assert ready_window.insight.dock.state.insight is None
    assert not ready_window.workers.insight_pending


def test_an_open_dock_gets_the_drawn_line_and_hovering_moves_its_cursor(host, qtbot):
    win, doc, dock = host.window, host.window.document, host.dock
    draw_ink(win.canvas, hershey_ink("hello"), top=60, height=60)
    qtbot.waitUntil(lambda: dock.state.insight is not None and not win.workers.insight_pending,
                    timeout=TIMEOUT_MS)
    assert win.wait_until_idle(30)
    insight = dock.state.insight
    # The line's ink is the document's own strokes, recognized once for both views.
    assert all(a is b for a, b in zip(insight.ink.strokes, doc.strokes, strict=True))
    assert insight.text == doc.transcript[0].text
    for mine, theirs in zip(insight.recognition.nbest_char_points, doc.transcript[0].char_points,
                            strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
    # Hovering over a point of the line sets the time cursor to the frame that read it.
    k = insight.ink.num_points // 2
    hover(win.canvas, to_widget(win.canvas, *insight.xy[k]))
    assert dock.state.cursor.frame == insight.point_frames[k]
    # A cleared page clears the dock.
    win.clear_action.trigger()
    qtbot.waitUntil(lambda: dock.state.insight is None, timeout=5000)


def test_the_line_under_the_pointer_is_inspected(host, qtbot):
    win, dock = host.window, host.dock
    draw_ink(win.canvas, hershey_ink("ab"), top=40, height=50)
    draw_ink(win.canvas, hershey_ink("cd"), top=220, height=50)
    qtbot.waitUntil(lambda: len(win.document.transcript) == 2 and dock.state.insight is not None
                    and not win.workers.insight_pending, timeout=TIMEOUT_MS)
    first, second = win.recognition.lines
    assert dock.state.insight.ink.strokes[0] is second[0]  # the line drawn last
    x0, y0, x1, y1 = Ink(first).bounds()
    middle = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
    assert host.line_at(*middle) is first
    hover(win.canvas, to_widget(win.canvas, *middle))
    qtbot.waitUntil(lambda: dock.state.insight is not None
                    and dock.state.insight.ink.strokes[0] is first[0], timeout=TIMEOUT_MS)


def test_saliency_goes_through_the_worker_and_back(host, qtbot):
    win, dock = host.window, host.dock
    draw_ink(win.canvas, hershey_ink("hello"), top=60, height=60)
    qtbot.waitUntil(lambda: dock.state.insight is not None, timeout=TIMEOUT_MS)
    state = dock.state
    state.cursor.set_frame(state.insight.n_frames // 2)
    state.request_saliency()  # the saliency view may have asked already: either way
    qtbot.waitUntil(lambda: state.saliency is not None and state.pending is None,
                    timeout=TIMEOUT_MS)
    result = state.saliency
    assert result.request.insight is state.insight
    assert result.magnitude.shape == (state.insight.ink.num_points,)
    assert np.all(np.isfinite(result.magnitude)) and 0 < result.label


def test_only_the_newest_insight_request_is_answered(qtbot, tmp_path):
    workers = ModelWorkers(tmp_path)  # never started: answers are delivered by hand
    got = []
    workers.insight_ready.connect(got.append)
    ink = hershey_ink("a")
    first = workers.inspect_line("a", ink)
    second = workers.inspect_line("b", ink)
    assert workers.insight_pending
    workers._on_insight(InsightResult(first, "a", None, None, 0.0))
    assert got == [] and workers.insight_pending
    workers._on_insight(InsightResult(second, "b", None, None, 0.0))
    assert [r.key for r in got] == ["b"] and not workers.insight_pending
    workers.inspect_line("c", ink)
    workers.cancel_insight()
    assert not workers.insight_pending
    workers.shutdown()


def test_the_worker_reports_saliency_it_cannot_compute_and_skips_stale_requests(
        qtbot, tmp_path):
    worker = RecognitionWorker(lambda: 0, tmp_path, None, latest_saliency=lambda: 2)
    answers = []
    worker.saliency_done.connect(answers.append)
    request = SaliencyRequest(None, 0, None, None)
    worker.on_saliency(SaliencyJob(1, request))
    assert answers == []  # overtaken by request 2 before it started
    worker.on_saliency(SaliencyJob(2, request))
    assert answers[0].request is request and answers[0].result is None
    assert answers[0].error  # no model in tmp_path: says why


def test_typed_text_streams_into_the_attention_panel(host, qtbot):
    win, dock = host.window, host.dock
    dock.tabs.setCurrentIndex(1)
    marks = []
    dock.synthesis_char_changed.connect(lambda *_: marks.append(win.write_panel.highlighted))
    with qtbot.waitSignal(win.typed.finished, timeout=TIMEOUT_MS):
        assert win.write_text("hello world", speed="instant", seed=5)
    assert len(dock.attention.track) > 0 and dock.attention.finished
    assert dock.lines == ["hello world"]
    assert marks and all(m is not None for m in marks)
    assert marks == sorted(marks)  # forward through the text, never back
    assert win.write_panel.highlighted is None  # the mark goes once the ink is down


def _frame(step: int, phi_row: np.ndarray) -> SynthesisFrame:
    m = 2
    return SynthesisFrame(step, np.zeros((1, 3), np.float32), np.ones(1, bool), phi_row[None],
                          np.zeros((1, 1)), np.zeros(1), np.log(np.full((1, m), 0.5)),
                          np.zeros((1, m, 2)), np.ones((1, m, 2)), np.zeros((1, m)), 0)


def test_the_text_box_marks_the_character_the_attention_is_on(host, qtbot):
    """Frames whose attention walks along the line: the mark follows in the typed text,
    which has a double space and a character the model cannot write."""
    win = host.window
    typed = "ab  c€d"
    line = "ab cd"
    win.write_panel.text_edit.setPlainText(typed)
    host.typed.text, host.typed.speed = typed, "instant"  # as `TypedInk.write` sets them
    workers = win.workers
    workers.synthesis_started.emit(SynthesisStarted(1, (line,), ("€",)))
    marks = []
    host.dock.synthesis_char_changed.connect(lambda *_: marks.append(win.write_panel.highlighted))
    for k in range(len(line)):
        phi = np.zeros(len(line) + 1)
        phi[k] = 1.0
        workers.synthesis_points.emit(SynthesisBatch(1, (np.zeros((1, 3), np.float32),),
                                                     np.zeros(1, bool), (_frame(k, phi),)))
    assert [typed[m] for m in marks] == list(line)
    workers.synthesis_finished.emit(SynthesisDone(1, False, None, len(line), 0.1))
    assert host.dock.attention.finished


def test_in_real_time_the_panels_follow_the_pen_not_the_sampler(host, qtbot):
    """Sampling runs ahead of a pen drawn at its own pace: the panels show a step only
    once the canvas has drawn its point ("step 404: reading end" under "Bright m")."""
    workers = host.window.workers
    line = "ab cd"
    host.typed.text, host.typed.speed = line, "realtime"
    workers.synthesis_started.emit(SynthesisStarted(1, (line,), ()))
    for k in range(10):
        phi = np.zeros(len(line) + 1)
        phi[min(k // 2, len(line) - 1)] = 1.0
        workers.synthesis_points.emit(SynthesisBatch(1, (np.zeros((1, 3), np.float32),),
                                                     np.zeros(1, bool), (_frame(k, phi),)))
    workers.synthesis_finished.emit(SynthesisDone(1, False, None, 10, 0.1))
    assert len(host.dock.attention.track) == 0  # all sampled, nothing drawn yet
    host.typed.revealed.emit([4])
    assert len(host.dock.attention.track) == 4 and not host.dock.attention.finished
    host.typed.revealed.emit([7])
    assert len(host.dock.attention.track) == 7
    host.typed.finished.emit(True)
    assert host.dock.attention.finished


def test_the_dock_keeps_the_window_on_its_screen_and_gives_the_room_back(ready_window,
                                                                         qtbot):
    win = ready_window
    area = win.screen().availableGeometry()
    win.resize(900, 420)
    win.move(area.left(), area.bottom() - win.frameGeometry().height() - 10)
    qtbot.wait(20)
    before = win.geometry()
    win.on_show_insight()
    dock = win.insight.dock
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    qtbot.wait(50)
    assert win.frameGeometry().bottom() <= area.bottom()  # the status bar stays on screen
    assert win.height() > before.height()  # it did grow, upwards
    dock.hide()
    qtbot.waitUntil(lambda: win.height() == before.height(), timeout=2000)
    assert win.geometry().top() == before.top()


def test_typed_positions_follow_the_planned_lines():
    assert typed_positions("hello world", ["hello world"]) == [list(range(11))]
    assert typed_positions("ab  c\nd", ["ab c", "d"]) == [[0, 1, 2, 4], [6]]
    assert typed_positions("a€b", ["ab"]) == [[0, 2]]
    assert typed_positions("’tis", ["'tis"]) == [[0, 1, 2, 3]]  # a mapped character
