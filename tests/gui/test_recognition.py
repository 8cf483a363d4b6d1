"""Live recognition: mouse strokes -> worker -> transcript -> text panel, line by line, with
the same text the service gives for the same ink; stale results are dropped; hovering text
marks its ink. Compared with the service's own output, never with fixed strings (the shipped
models are still training)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from gui.messages import LineRequest, LineResult, RecognitionRequest, RecognitionResult
from gui.workers.models import ModelWorkers
from gui.workers.recognition import RecognitionWorker
from handwriting.ink import Ink
from handwriting.results import Recognition
from tests.fixtures import hershey_ink
from tests.gui.helpers import drag, line_strokes, rgb

pytestmark = pytest.mark.gui

HELLO = hershey_ink("hello world")


def write_line(window, qtbot, ink: Ink, top: float, height: float = 60) -> None:
    """Draw `ink` stroke by stroke and wait for the worker's answer to the last pen-up."""
    strokes = line_strokes(ink, 30, top, height)
    for xy in strokes[:-1]:
        drag(window.canvas, xy.tolist(), delay_ms=1)
    assert window.wait_until_idle(30)
    with qtbot.waitSignal(window.workers.recognized, timeout=30_000):
        drag(window.canvas, strokes[-1].tolist(), delay_ms=1)
    assert window.wait_until_idle(30)


def test_a_drawn_line_is_recognized_like_the_service_does(ready_window, qtbot, recognizer):
    write_line(ready_window, qtbot, HELLO, top=60)
    doc = ready_window.document
    expected = recognizer.recognize(doc.ink)
    assert len(doc.transcript) == 1 and doc.transcript[0].strokes == doc.strokes
    assert doc.text == expected.text and doc.text
    assert doc.transcript[0].candidates == tuple(h.text for h in expected.nbest)
    assert ready_window.recognized_panel.text().replace(" ", "") == expected.text.replace(" ", "")
    assert "ms" in ready_window.latency_label.text()


def test_two_lines_are_recognized_separately(ready_window, qtbot, recognizer):
    write_line(ready_window, qtbot, hershey_ink("hello"), top=40)
    write_line(ready_window, qtbot, hershey_ink("world"), top=190)
    doc = ready_window.document
    assert len(doc.transcript) == 2
    first, second = doc.transcript
    assert first.strokes[0] is doc.strokes[0] and second.strokes[-1] is doc.strokes[-1]
    assert len(first.strokes) + len(second.strokes) == len(doc)
    for line in doc.transcript:
        assert line.text == recognizer.recognize(Ink(line.strokes)).text
    assert ready_window.recognized_panel.text().count("\n") == 1

    # An accepted candidate survives recognition of other lines; undo brings back the
    # earlier state without a new recognition of the unchanged line.
    if len(first.candidates) > 1:
        doc.choose_candidate(0, 1)
        drag(ready_window.canvas, [(700, 300), (760, 310)])
        assert ready_window.wait_until_idle(30)
        assert doc.transcript[0].text == first.candidates[1]


def test_hover_highlights_ink_and_colour_coding_paints_characters(ready_window, qtbot):
    write_line(ready_window, qtbot, HELLO, top=60)
    canvas, panel = ready_window.canvas, ready_window.recognized_panel
    plain = rgb(canvas)
    assert canvas.highlighted_points() == 0
    panel.char_hovered.emit(0, 0)
    assert canvas.highlighted_points() > 0
    assert np.any(rgb(canvas) != plain)
    panel.char_hovered.emit(-1, -1)
    assert canvas.highlighted_points() == 0

    def coloured(img):  # saturated pixels: neither ink-grey nor background
        return int((img.max(axis=2).astype(int) - img.min(axis=2) > 80).sum())

    assert coloured(rgb(canvas)) == 0
    ready_window.color_action.trigger()
    assert canvas.color_by_char and coloured(rgb(canvas)) > 200
    ready_window.color_action.trigger()
    assert coloured(rgb(canvas)) == 0


def test_stale_recognition_results_are_dropped(qtbot, tmp_path):
    workers = ModelWorkers(tmp_path)  # never started: results are delivered by hand
    got = []
    workers.recognized.connect(got.append)
    first = workers.recognize([LineRequest("a", HELLO)])
    second = workers.recognize([LineRequest("a", HELLO)])
    assert workers.recognition_pending
    # The answers arrive out of order: the newer first, then the overtaken one.
    workers._on_recognized(RecognitionResult(second, (LineResult("a", Recognition.of_texts(("new",))),), 0.0))
    workers._on_recognized(RecognitionResult(first, (LineResult("a", Recognition.of_texts(("old",))),), 0.0))
    assert [r.seq for r in got] == [second] and workers.dropped == 1
    assert not workers.recognition_pending
    workers.shutdown()


def test_the_worker_skips_requests_overtaken_before_they_start(qtbot, tmp_path):
    worker = RecognitionWorker(lambda: 5, tmp_path, None)
    done = []
    worker.done.connect(done.append)
    worker.on_request(RecognitionRequest(4, (LineRequest("a", HELLO),)))
    assert done == []
    worker.on_request(RecognitionRequest(5, (LineRequest("a", HELLO),)))
    assert done[0].seq == 5 and done[0].lines[0].error  # no model in tmp_path: says why


def test_a_page_request_without_a_model_is_still_grouped_into_lines(qtbot, tmp_path):
    """No recognizer (none in tmp_path): the worker groups the page itself, only the lines
    not already known go to recognition, and each says why it has no text."""
    from gui.messages import line_key
    from handwriting.geometry import join_lines
    from handwriting.grouping import group_lines

    page = join_lines([hershey_ink("the cat sat"), hershey_ink("on the mat")])
    worker = RecognitionWorker(lambda: 1, tmp_path, None)
    done = []
    worker.done.connect(done.append)
    want = tuple(tuple(page.strokes[i] for i in g) for g in group_lines(page))
    worker.on_request(RecognitionRequest(1, (), page, frozenset({line_key(want[0])})))
    assert done[0].layout == want and len(want) == 2
    assert [r.key for r in done[0].lines] == [line_key(want[1])]  # the known line is skipped
    assert done[0].lines[0].error


def test_a_stale_result_does_not_reach_the_transcript(ready_window, qtbot):
    write_line(ready_window, qtbot, HELLO, top=60)
    doc, workers = ready_window.document, ready_window.workers
    before = doc.text
    key = tuple(id(s) for s in doc.strokes)
    stale = RecognitionResult(workers._seq - 1, (LineResult(key, Recognition.of_texts(("stale",))),), 0.0)
    workers._on_recognized(stale)
    assert doc.text == before and workers.dropped >= 1


def test_the_models_run_in_processes_of_their_own(ready_window, monkeypatch):
    """The app's process holds neither network (so their Python never takes the GUI
    thread's turn at the GIL); `HANDWRITING_IN_PROCESS=1` loads one here instead."""
    from gui.workers.base import load_service
    from handwriting.remote import RemoteProcess
    from handwriting.service import Recognizer

    workers = ready_window.workers
    for service in (workers._rec._service, workers._syn._service):
        assert isinstance(service, RemoteProcess) and service.alive
        assert service._proc.pid != os.getpid()
    if sys.platform.startswith("linux"):  # the bench's memory figures read /proc
        from gui.bench import memory_mb

        memory = memory_mb()
        assert memory["app_process_mb"] > 0
        assert {"recognizer", "synthesizer"} <= set(memory["model_process_mb"])
        assert all(mb > 0 for mb in memory["model_process_mb"].values())
    monkeypatch.setenv("HANDWRITING_IN_PROCESS", "1")
    assert isinstance(load_service("recognizer", None, 1), Recognizer)


def test_a_window_closed_during_a_long_model_call_does_not_abort(tmp_path):
    """Under load a model call can outlast the shutdown wait; deleting the window must not
    then destroy a running QThread (Qt aborts the whole process: the suite's rare crash)."""
    import subprocess
    import sys

    code = """
import sys, time
from PySide6.QtCore import QCoreApplication, QObject, QThread, QEvent
from gui.workers.models import _outlive_parent
app = QCoreApplication([])
class Busy(QThread):
    def run(self):
        time.sleep(1.0)  # a call still waiting on the model process
parent = QObject()
thread = Busy(parent)
thread.start()
thread.quit()
if not thread.wait(10):
    _outlive_parent(thread)
parent.deleteLater()
QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
deadline = time.monotonic() + 5
while thread.isRunning() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
app.processEvents()
print("survived")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**__import__("os").environ,
                                          "QT_QPA_PLATFORM": "offscreen"},
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[2])
    assert run.returncode == 0 and "survived" in run.stdout, run.stderr[-2000:]


def test_close_lines_keep_their_grouping_through_undo_and_redo(ready_window, qtbot):
    # Two lines at the app's typed-text pitch, sloping: stroke by stroke the second line is
    # undone and redone; the app's lines never mix strokes of the two.
    from tests.handwriting.test_pages import close_lines

    page, counts = close_lines(["Bright lamps lit the old stone bridge",
                                "Seven ships sailed north in 1984"], slope=0.07)
    doc = ready_window.document
    doc.add_strokes(page.strokes[:counts[0]])
    for stroke in page.strokes[counts[0]:]:
        doc.add_stroke(stroke)
    line_of = {id(s): int(i >= counts[0]) for i, s in enumerate(page.strokes)}

    def check() -> None:
        ready_window.recognition.on_request()  # group now (the timer would, a moment later)
        qtbot.waitUntil(lambda: not ready_window.recognition.pending, timeout=10_000)
        lines = ready_window.recognition.lines
        assert all(len({line_of[id(s)] for s in strokes}) == 1 for strokes in lines)

    check()
    assert len(ready_window.recognition.lines) == 2
    for _ in range(counts[1]):
        doc.undo()
        check()
    for _ in range(counts[1]):
        doc.redo()
        check()
    assert len(ready_window.recognition.lines) == 2


def test_both_models_load_in_their_worker_threads_not_the_gui_thread(qtbot, tmp_path,
                                                                     monkeypatch):
    """A slot overridden in a subclass ran in the emitting (GUI) thread under PySide6: the
    window froze ~1.5 s at start-up while the synthesizer's process started."""
    import threading

    import gui.workers.base as base

    threads = {}

    def fake_load(kind, folder, n):
        threads[kind] = threading.current_thread()
        raise FileNotFoundError(f"no {kind} here")

    monkeypatch.setattr(base, "load_service", fake_load)
    workers = ModelWorkers(tmp_path)
    with qtbot.waitSignals([workers.model_failed, workers.model_failed], timeout=10_000):
        workers.start()
    assert set(threads) == {"recognizer", "synthesizer"}
    assert all(t is not threading.main_thread() for t in threads.values()), threads
    workers.shutdown()


def test_preloaded_models_are_the_ones_the_workers_use(qtbot, tmp_path, monkeypatch):
    """`preload` (what the app calls before Qt) starts each model once; the window's workers
    wait for those loads instead of starting their own."""
    import threading
    import time

    import gui.workers.base as base

    calls = []
    gate = threading.Event()

    def slow_remote(kind, path, threads):
        calls.append(kind)
        gate.wait(5)
        raise OSError(f"{kind}: deliberately unavailable")

    monkeypatch.setattr("handwriting.remote.RemoteService", slow_remote)
    monkeypatch.setattr(base, "_cache", {})
    monkeypatch.setattr(base, "_loading", {})
    (tmp_path / "recognizer.pt").write_bytes(b"x")
    (tmp_path / "synthesizer.pt").write_bytes(b"x")
    base.preload(tmp_path, 1)
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(calls) == ["recognizer", "synthesizer"]
    workers = ModelWorkers(tmp_path)
    workers.start()
    time.sleep(0.2)  # the workers are now waiting on the preloads' locks, not loading
    assert len(calls) == 2
    gate.set()
    qtbot.waitUntil(lambda: not workers.loading, timeout=10_000)
    workers.shutdown()


def test_the_page_is_grouped_in_the_recognizers_process_not_the_gui_thread(ready_window,
                                                                           qtbot, monkeypatch):
    """Grouping a full page took the GUI thread tens of milliseconds after every pen-up (the
    longest pauses between frames): the worker asks the recognizer's process instead, and
    its lines are those `group_lines` gives."""
    import gui.recognition
    from handwriting.grouping import group_lines
    from tests.handwriting.test_pages import close_lines

    def not_here(ink):
        raise AssertionError("the page was grouped in the GUI thread")

    monkeypatch.setattr(gui.recognition, "page_lines", not_here)
    page, _ = close_lines(["Bright lamps lit the old stone bridge",
                           "Seven ships sailed north in 1984"], slope=0.0)
    ready_window.document.add_strokes(page.strokes)
    qtbot.waitUntil(lambda: not ready_window.recognition.pending, timeout=30_000)
    ink = ready_window.document.ink
    want = [[id(ink.strokes[i]) for i in g] for g in group_lines(ink)]
    assert [[id(s) for s in line] for line in ready_window.recognition.lines] == want
    assert len(want) == 2 and len(ready_window.document.transcript) == 2
