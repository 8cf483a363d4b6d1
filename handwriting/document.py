"""`InkDocument`: the one observable app-state object (STYLE.md principle 7).

It holds the current `Ink`, the stroke being drawn, a stroke-level undo history, the ink being
synthesized (a preview, not yet committed) and the recognized text of each line. Views subscribe to its events and write back only through its methods; nothing here
imports Qt, so the same document drives the canvas, the tests and future headless tools.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from handwriting.edits import SIDE_EVENTS, AddStroke, DocumentEvent, EraseStroke, ReplaceInk
from handwriting.ink import Ink, Stroke
from handwriting.results import Recognition

# A stroke drawn after ink with later timestamps (an opened file) starts this long after it,
# so times never run backwards across the document's strokes.
STROKE_GAP_S = 0.1
MAX_UNDO = 1000


Observer = Callable[[DocumentEvent], None]


@dataclass(frozen=True, eq=False)
class TranscriptLine:
    """The recognized text of one line of writing: its strokes (in writing order), the
    recognizer's `Recognition` of them (the one result type from the decoder to the view) and
    the candidate the user chose. `candidates` are the n-best texts (best first, in the
    recognizer's IAM tokenization); `char_points`, per candidate and per character, the
    indices of the line's concatenated points it was read from."""

    strokes: tuple[Stroke, ...]
    recognition: Recognition
    chosen: int = 0

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.recognition.candidates

    @property
    def char_points(self) -> tuple[tuple[np.ndarray, ...], ...]:  # [candidate][char] -> (n,)
        return self.recognition.nbest_char_points

    @property
    def text(self) -> str:
        return self.candidates[self.chosen] if self.candidates else ""

    @property
    def points(self) -> tuple[np.ndarray, ...]:
        """Per character of `text`, the indices of its points."""
        return self.char_points[self.chosen] if self.char_points else ()


# ----------------------------------------------------------------------------- document


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


class InkDocument:
    """The current ink plus the stroke being drawn, with undo/redo and observers.

    Coordinates are the caller's ink units (the canvas uses its scene coordinates, y down);
    times are seconds from the caller's clock. Within a stroke, and across the document's
    strokes, timestamps never decrease: later points are clamped and later strokes shifted.
    """

    def __init__(self, ink: Ink | None = None):
        self._ink = ink if ink is not None else Ink()
        self._undo: list = []
        self._redo: list = []
        self._observers: list[Observer] = []
        self._pending: list[tuple[float, float, float, float | None]] | None = None
        self._t_shift = 0.0  # added to the caller's clock; see begin_stroke
        self._preview: Ink | None = None
        self._transcript: tuple[TranscriptLine, ...] = ()

    # ---------------------------------------------------------------- observing
    def subscribe(self, callback: Observer) -> Callable[[], None]:
        """Call `callback(event)` after every change; returns a function that unsubscribes."""
        self._observers.append(callback)

        def unsubscribe() -> None:
            if callback in self._observers:
                self._observers.remove(callback)

        return unsubscribe

    def _emit(self, event: DocumentEvent) -> None:
        for callback in list(self._observers):
            callback(event)
        if event.kind not in SIDE_EVENTS:
            for callback in list(self._observers):
                callback(DocumentEvent("changed", event.index))

    # ---------------------------------------------------------------- reading
    @property
    def ink(self) -> Ink:
        """The committed ink (immutable; the pending stroke is not part of it)."""
        return self._ink

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return self._ink.strokes

    def __len__(self) -> int:
        return len(self._ink)

    @property
    def is_drawing(self) -> bool:
        return self._pending is not None

    def pending_stroke(self) -> Stroke | None:
        """The stroke being drawn, as a `Stroke`, or None when the pen is up."""
        if not self._pending:
            return None
        x, y, t, p = zip(*self._pending, strict=True)
        pressure = None if p[0] is None else np.array(p, np.float32)
        return Stroke(np.stack([x, y], axis=1), np.array(t, np.float32), pressure)

    def stroke_at(self, x: float, y: float, radius: float) -> int | None:
        """Index of the stroke passing closest to (x, y), if it is within `radius`."""
        best, best_d = None, float(radius)
        q = np.array([x, y], np.float64)
        for i, s in enumerate(self._ink.strokes):
            xy = s.xy.astype(np.float64)
            if len(xy) == 1:
                d = float(np.hypot(*(xy[0] - q)))
            else:
                a, b = xy[:-1], xy[1:]  # (N-1, 2) segment ends
                ab = b - a
                denom = np.maximum((ab * ab).sum(1), 1e-12)
                u = np.clip(((q - a) * ab).sum(1) / denom, 0.0, 1.0)
                d = float(np.hypot(*(a + u[:, None] * ab - q).T).min())
            if d <= best_d:
                best, best_d = i, d
        return best

    @property
    def end_time(self) -> float:
        """The last timestamp of the committed ink (0 when empty)."""
        return float(self._ink.strokes[-1].t[-1]) if self._ink.strokes else 0.0

    # ---------------------------------------------------------------- derived state
    @property
    def preview(self) -> Ink | None:
        """Ink shown but not committed (typed text being written), or None."""
        return self._preview

    def set_preview(self, ink: Ink | None) -> None:
        if ink is not None and not isinstance(ink, Ink):
            raise TypeError(f"expected an Ink or None, got {type(ink).__name__}")
        self._preview = ink
        self._emit(DocumentEvent("preview_changed"))

    @property
    def transcript(self) -> tuple[TranscriptLine, ...]:
        """The recognized lines, top first (may lag the ink while recognition runs)."""
        return self._transcript

    @property
    def text(self) -> str:
        """The chosen text of every line, one line each."""
        return "\n".join(line.text for line in self._transcript)

    def set_transcript(self, lines) -> None:
        lines = tuple(lines)
        for line in lines:
            if not isinstance(line, TranscriptLine):
                raise TypeError(f"expected TranscriptLine, got {type(line).__name__}")
        self._transcript = lines
        self._emit(DocumentEvent("transcript_changed"))

    def choose_candidate(self, line: int, candidate: int) -> None:
        """Accept another n-best candidate as the text of `line`."""
        if not 0 <= line < len(self._transcript):
            raise IndexError(f"line {line} out of range for {len(self._transcript)} lines")
        current = self._transcript[line]
        if not 0 <= candidate < len(current.candidates):
            raise IndexError(f"candidate {candidate} out of range for "
                             f"{len(current.candidates)} candidates")
        lines = list(self._transcript)
        lines[line] = TranscriptLine(current.strokes, current.recognition, candidate)
        self._transcript = tuple(lines)
        self._emit(DocumentEvent("transcript_changed", line))

    # ---------------------------------------------------------------- drawing
    def begin_stroke(self, x: float, y: float, t: float, pressure: float | None = None) -> None:
        """Put the pen down at (x, y) at time `t`; a stroke still pending is finished first."""
        if self._pending is not None:
            self.end_stroke()
        x, y, t = _finite("x", x), _finite("y", y), _finite("t", t)
        if self._ink.strokes:
            # An opened file may carry timestamps from another clock: keep time running on.
            last = float(self._ink.strokes[-1].t[-1])
            if t + self._t_shift < last:
                self._t_shift = last + STROKE_GAP_S - t
        p = None if pressure is None else _finite("pressure", pressure)
        self._pending = [(x, y, t + self._t_shift, p)]
        self._emit(DocumentEvent("stroke_started", len(self._ink)))

    def add_point(self, x: float, y: float, t: float, pressure: float | None = None) -> bool:
        """Extend the pending stroke; ignored (returns False) when the pen is up or the point
        repeats the last one's position."""
        if self._pending is None:
            return False
        x, y, t = _finite("x", x), _finite("y", y), _finite("t", t)
        lx, ly, lt, lp = self._pending[-1]
        if (x, y) == (lx, ly):
            return False
        if lp is not None:
            p = lp if pressure is None else _finite("pressure", pressure)
        else:
            p = None  # a stroke begun without pressure stays without it
        self._pending.append((x, y, max(t + self._t_shift, lt), p))
        self._emit(DocumentEvent("point_added", len(self._ink)))
        return True

    def end_stroke(self) -> int | None:
        """Lift the pen: commit the pending stroke (undoable); returns its index."""
        stroke = self.pending_stroke()
        self._pending = None
        if stroke is None:
            return None
        index = len(self._ink)
        self._push(AddStroke(index, stroke))
        return index

    def cancel_stroke(self) -> None:
        """Drop the pending stroke without committing it."""
        if self._pending is not None:
            self._pending = None
            self._emit(DocumentEvent("stroke_cancelled", len(self._ink)))

    # ---------------------------------------------------------------- editing
    def add_stroke(self, stroke: Stroke) -> int:
        """Append a finished stroke (undoable); returns its index."""
        if not isinstance(stroke, Stroke):
            raise TypeError(f"expected a Stroke, got {type(stroke).__name__}")
        index = len(self._ink)
        self._push(AddStroke(index, stroke))
        return index

    def add_strokes(self, strokes, label: str = "Add Strokes") -> None:
        """Append finished strokes as one undo step. Unlike `replace`, a stroke being drawn
        goes on: ink that arrives while the user writes (typed text) does not cut it off."""
        strokes = tuple(strokes)
        for s in strokes:
            if not isinstance(s, Stroke):
                raise TypeError(f"expected Strokes, got a {type(s).__name__}")
        if strokes:
            self._push(ReplaceInk(self._ink, self._ink.with_strokes(self._ink.strokes + strokes),
                                   label))

    def erase_stroke(self, index: int) -> None:
        """Remove the stroke at `index` (undoable)."""
        n = len(self._ink)
        if not -n <= index < n:
            raise IndexError(f"stroke index {index} out of range for {n} strokes")
        index %= n
        self._push(EraseStroke(index, self._ink.strokes[index]))

    def clear(self) -> None:
        """Remove all strokes (undoable); does nothing on empty ink."""
        self.cancel_stroke()
        if not self._ink.is_empty:
            # the page's text goes with its strokes (an opened file's transcription, say)
            meta = {k: v for k, v in self._ink.meta.items() if k != "text"}
            self._push(ReplaceInk(self._ink, Ink((), meta), "Clear"))

    def replace(self, ink: Ink, *, undoable: bool = False, label: str = "Replace Ink") -> None:
        """Replace all ink, e.g. after opening a file. By default this starts a new history
        (nothing to undo); with `undoable=True` it is one more undo step."""
        if not isinstance(ink, Ink):
            raise TypeError(f"expected an Ink, got {type(ink).__name__}")
        self.cancel_stroke()
        command = ReplaceInk(self._ink, ink, label)
        if undoable:
            self._push(command)
            return
        self._undo.clear()
        self._redo.clear()
        self._t_shift = 0.0
        self._ink, event = command.apply(self._ink)
        self._emit(event)

    # ---------------------------------------------------------------- history
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def undo(self) -> bool:
        """Revert the last command (dropping any pending stroke); False if there is none."""
        return self._step(self._undo, self._redo, forward=False)

    def redo(self) -> bool:
        """Re-apply the last undone command; False if there is none."""
        return self._step(self._redo, self._undo, forward=True)

    def _step(self, source: list, target: list, forward: bool) -> bool:
        self.cancel_stroke()
        if not source:
            return False
        command = source.pop()
        target.append(command)
        self._ink, event = (command.apply if forward else command.revert)(self._ink)
        self._emit(event)
        return True

    def _push(self, command) -> None:
        self._ink, event = command.apply(self._ink)
        self._undo.append(command)
        del self._undo[:-MAX_UNDO]
        self._redo.clear()
        self._emit(event)
