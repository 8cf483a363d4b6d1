"""`InkDocument`: drawing, stroke-level undo/redo, erase, clear, replace, and its events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from handwriting.document import InkDocument, TranscriptLine
from handwriting.ink import Ink, Stroke
from handwriting.results import Recognition


def draw(doc: InkDocument, points, t0: float = 0.0, pressure=None) -> int | None:
    (x, y), *rest = points
    doc.begin_stroke(x, y, t0, None if pressure is None else pressure[0])
    for i, (x, y) in enumerate(rest, start=1):
        doc.add_point(x, y, t0 + 0.01 * i, None if pressure is None else pressure[i])
    return doc.end_stroke()


@pytest.fixture
def events():
    return []


@pytest.fixture
def doc(events) -> InkDocument:
    d = InkDocument()
    d.subscribe(events.append)
    return d


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_drawing_commits_a_stroke_with_events(doc, events):
    assert draw(doc, [(0, 0), (1, 2), (3, 4)]) == 0
    assert len(doc) == 1 and not doc.is_drawing
    s = doc.strokes[0]
    np.testing.assert_array_equal(s.xy, [[0, 0], [1, 2], [3, 4]])
    assert s.pressure is None
    assert np.all(np.diff(s.t) > 0)
    assert kinds(events) == ["stroke_started", "point_added", "point_added",
                             "stroke_added", "changed"]
    assert events[-2].index == 0


def test_pending_stroke_is_visible_but_not_committed(doc):
    doc.begin_stroke(5, 5, 1.0, 0.5)
    doc.add_point(6, 5, 1.1, 0.7)
    doc.add_point(6, 5, 1.2, 0.9)  # same position: ignored
    pending = doc.pending_stroke()
    assert len(pending) == 2 and doc.ink.is_empty
    np.testing.assert_allclose(pending.pressure, [0.5, 0.7])
    doc.cancel_stroke()
    assert doc.pending_stroke() is None and doc.ink.is_empty and not doc.can_undo


def test_timestamps_never_decrease(doc):
    doc.replace(Ink((Stroke([[0, 0], [1, 1]], [100.0, 100.5]),)))
    doc.begin_stroke(0, 0, 0.0)  # a canvas clock far behind the opened file's times
    doc.add_point(1, 0, 0.2)
    doc.add_point(2, 0, 0.1)  # an out-of-order event is clamped
    doc.end_stroke()
    t = doc.ink.times()
    assert np.all(np.diff(t) >= 0) and t[2] > 100.5


def test_add_point_without_pen_down_is_ignored(doc, events):
    assert doc.add_point(1, 1, 0.0) is False
    assert doc.end_stroke() is None
    assert events == []


def test_undo_redo_are_stroke_level(doc, events):
    draw(doc, [(0, 0), (1, 1)])
    draw(doc, [(5, 5), (6, 6)], t0=1.0)
    first, second = doc.strokes
    events.clear()
    assert doc.undo() and doc.strokes == (first,)
    assert kinds(events) == ["stroke_removed", "changed"] and events[0].index == 1
    assert doc.redo() and doc.strokes == (first, second)
    assert doc.undo_label == "Add Stroke"
    assert doc.undo() and doc.undo() and doc.ink.is_empty
    assert not doc.undo() and doc.can_redo
    draw(doc, [(9, 9)])
    assert not doc.can_redo  # a new command drops the redo history


def test_erase_and_clear_are_undoable(doc, events):
    for i in range(3):
        draw(doc, [(i, 0), (i, 1)], t0=i)
    a, b, c = doc.strokes
    doc.erase_stroke(1)
    assert doc.strokes == (a, c)
    doc.undo()
    assert doc.strokes == (a, b, c)
    events.clear()
    doc.clear()
    assert doc.ink.is_empty and kinds(events) == ["cleared", "changed"]
    doc.undo()
    assert doc.strokes == (a, b, c)
    with pytest.raises(IndexError, match="stroke index 7"):
        doc.erase_stroke(7)


def test_replace_starts_a_new_history_unless_undoable(doc):
    draw(doc, [(0, 0), (1, 1)])
    opened = Ink.from_strokes([[(0, 0), (10, 0)], [(0, 5), (10, 5)]], text="hello")
    doc.replace(opened)
    assert doc.ink == opened and doc.ink.meta["text"] == "hello"
    assert not doc.can_undo and not doc.can_redo
    doc.replace(Ink(), undoable=True, label="Synthesize")
    assert doc.ink.is_empty and doc.undo_label == "Synthesize"
    doc.undo()
    assert doc.ink == opened


def test_added_strokes_are_one_undo_step_and_leave_a_stroke_being_drawn(doc, events):
    draw(doc, [(0, 0), (1, 1)])
    doc.begin_stroke(5, 5, 1.0)
    doc.add_point(6, 6, 1.01)
    typed = Ink.from_strokes([[(0, 20), (10, 20)], [(0, 25), (10, 25)]]).strokes
    doc.add_strokes(typed, label="Write Text")
    assert doc.is_drawing and "stroke_cancelled" not in kinds(events)
    assert doc.add_point(7, 7, 1.02)
    index = doc.end_stroke()
    assert index == 3 and len(doc) == 4 and doc.strokes[1:3] == typed
    doc.undo()  # the drawn stroke
    assert doc.undo_label == "Write Text"
    doc.undo()
    assert len(doc) == 1
    with pytest.raises(TypeError, match="expected Strokes, got a list"):
        doc.add_strokes([[(0, 0), (1, 1)]])


def test_stroke_at_finds_the_nearest_stroke_within_radius(doc):
    draw(doc, [(0, 0), (10, 0)])
    draw(doc, [(0, 10), (10, 10)], t0=1)
    draw(doc, [(50, 50)], t0=2)
    assert doc.stroke_at(5, 2, radius=3) == 0
    assert doc.stroke_at(5, 8, radius=3) == 1
    assert doc.stroke_at(51, 50, radius=3) == 2
    assert doc.stroke_at(5, 5, radius=3) is None


def test_unsubscribe_and_bad_input(doc, events):
    other = []
    unsubscribe = doc.subscribe(other.append)
    unsubscribe()
    draw(doc, [(0, 0)])
    assert other == [] and events
    with pytest.raises(ValueError, match="x must be finite"):
        doc.begin_stroke(float("nan"), 0, 0)
    with pytest.raises(TypeError):
        doc.replace([])


def test_preview_and_transcript_leave_the_ink_and_history_alone(doc, events):
    draw(doc, [(0, 0), (5, 5)])
    ink, n_undo = doc.ink, doc.can_undo
    events.clear()
    doc.set_preview(Ink.from_strokes([[(0, 10), (5, 12)]]))
    assert doc.preview is not None and doc.ink is ink and kinds(events) == ["preview_changed"]
    doc.set_preview(None)
    line = TranscriptLine(doc.strokes, Recognition.of_texts(
        ("ab", "ob"), ((np.arange(1), np.arange(1, 2)), (np.arange(1), np.arange(1, 2)))))
    doc.set_transcript([line])
    assert doc.text == "ab" and doc.transcript[0].points[1].tolist() == [1]
    doc.choose_candidate(0, 1)
    assert doc.text == "ob" and doc.transcript[0].chosen == 1
    assert "changed" not in kinds(events) and doc.ink is ink and doc.can_undo == n_undo
    with pytest.raises(IndexError):
        doc.choose_candidate(0, 2)
    with pytest.raises(TypeError):
        doc.set_transcript(["ab"])
    assert doc.end_time == pytest.approx(float(doc.strokes[-1].t[-1]))


def test_document_imports_without_qt():
    code = ("import handwriting.document, sys; "
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'torch'))]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
