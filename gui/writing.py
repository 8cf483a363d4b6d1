"""Typed text -> ink on the canvas. The synthesis worker streams sampled points (offsets in
writing heights, all lines sampled as one batch); this controller places the lines below the
existing ink, reveals the points on the document's preview at the chosen speed (the sampled
pen timing, 4x that, or as fast as they come), and commits the result as one undo step."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from gui.layout import Placement, place_below
from gui.messages import SynthesisBatch, SynthesisDone, SynthesisStarted
from gui.panels import SPEED_FACTORS
from gui.workers.models import ModelWorkers
from handwriting.document import STROKE_GAP_S, InkDocument
from handwriting.geometry import equal_heights
from handwriting.ink import Ink, LineInkBuilder, Stroke
from handwriting.results import Prime

FRAME_MS = 16  # reveal at about 60 frames per second
LINE_PAUSE_S = 0.3  # moving the hand to the next line
SCREEN_HEIGHT_PX = 44.0  # a writing height on an empty page, in screen pixels
LINE_WIDTH_PER_CHAR = 0.55  # rough width of a character in writing heights, for fitting
LINE_CLEARANCE = 0.6  # least space between typed lines, in writing heights
GROWTH_HEADROOM = 0.3  # when the preview leaves the view, refit with this much room to grow


class _Line:
    """One line being written: its sampled points placed on the page and timed as a pen
    (`handwriting.ink.LineInkBuilder`, incrementally), how many of them are revealed, and
    the bounds of the revealed points (kept up to date from the newly revealed ones only)."""

    def __init__(self, text: str, index: int, placement: Placement):
        self.text = text
        self.finished = False
        self.shown = 0  # points revealed
        p = placement
        self.ink = LineInkBuilder(p.height, (p.x0, p.y0 + index * p.pitch))
        self._box = np.array([np.inf, np.inf, -np.inf, -np.inf])  # of the first `_boxed`
        self._boxed = 0

    def __len__(self) -> int:
        return len(self.ink)

    @property
    def t(self) -> np.ndarray:
        """Synthetic pen time of each point, from 0."""
        return self.ink.t

    def extend(self, offsets: np.ndarray) -> None:
        """Append sampled offsets (n, 3) in writing heights."""
        self.ink.extend(offsets)

    def bounds(self) -> np.ndarray:
        """(x0, y0, x1, y1) of the revealed points (inf, inf, -inf, -inf when none)."""
        if self.shown > self._boxed:
            new = self.ink.xy[self._boxed:self.shown]
            self._box = np.r_[np.minimum(self._box[:2], new.min(0)),
                              np.maximum(self._box[2:], new.max(0))]
            self._boxed = self.shown
        return self._box

    def strokes(self) -> list[Stroke]:
        """The revealed points as strokes: the complete ones plus the one underway."""
        return self.ink.strokes(self.shown)


class TypedInk(QObject):
    """Runs one synthesis at a time for the window. `message` carries status-bar text;
    `finished` says whether anything was written."""

    started = Signal()
    message = Signal(str)
    finished = Signal(bool)
    revealed = Signal(object)  # list[int]: points of each line the pen has drawn so far

    def __init__(self, document: InkDocument, workers: ModelWorkers, canvas,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document, self.workers, self.canvas = document, workers, canvas
        self.job: int | None = None
        self.speed = "realtime"
        self.text = ""
        self.written_text: str | None = None  # what the last finished job wrote
        self.written_points = 0  # points committed by typed text this session
        self._lines: list[_Line] = []
        self._placement: Placement | None = None
        self._page: Ink | None = None  # the committed ink when the job was asked for
        self._stream_done = False
        self._t0 = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.on_frame)
        workers.synthesis_started.connect(self.on_started)
        workers.synthesis_points.connect(self.on_points)
        workers.synthesis_finished.connect(self.on_done)

    @property
    def running(self) -> bool:
        return self.job is not None

    def write(self, text: str, bias: float, style: str | None = None,
              prime: Prime | None = None, speed: str = "realtime",
              seed: int | None = None, candidates: int = 1) -> int:
        """Start writing `text` (cancelling a job still running, keeping what it wrote);
        `candidates` > 1: self-checking synthesis (`handwriting.selfcheck`)."""
        if self.running:
            self._commit()
        self.speed, self.text = speed, text
        self._lines, self._placement, self._stream_done = [], None, False
        self._page = self.document.ink
        self.job = self.workers.synthesize(text, bias, style, prime, seed, self._page,
                                           candidates)
        self.started.emit()
        return self.job

    def stop(self) -> None:
        """Stop sampling; what is already on the canvas stays (one undo step)."""
        if self.running:
            self.workers.stop_synthesis()
            self._commit()

    # ------------------------------------------------------------------ worker -> view
    @Slot(object)
    def on_started(self, started: SynthesisStarted) -> None:
        if started.job != self.job:
            return
        if started.dropped:
            chars = " ".join(repr(c) for c in started.dropped)
            self.message.emit(f"Cannot write {chars}: not in the model's alphabet; left out")
        self._placement = self._place(started.lines, started.page_height)
        self._lines = [_Line(t, k, self._placement) for k, t in enumerate(started.lines)]
        self._t0 = time.perf_counter()
        self._timer.start()

    @Slot(object)
    def on_points(self, batch: SynthesisBatch) -> None:
        if batch.job != self.job or not self._lines:
            return
        for line, new, done in zip(self._lines, batch.new, batch.finished, strict=True):
            line.extend(new)
            line.finished = bool(done)
        # The next frame shows them, at instant speed too: batches come about once a frame,
        # and a preview update per batch on top of the frames' doubled the GUI thread's work.

    @Slot(object)
    def on_done(self, done: SynthesisDone) -> None:
        if done.job != self.job:
            return
        self._stream_done = True
        if done.error:
            self.message.emit(f"Could not write the text: {done.error}")
        for line in self._lines:
            line.finished = True
            if self.speed == "instant":
                line.shown = len(line)
        if done.cancelled or done.error or self.speed == "instant":
            self._commit()
        else:
            self.on_frame()

    @Slot()
    def on_frame(self) -> None:
        """Reveal what the pen would have drawn by now and show it as the preview."""
        if not self._lines or self._placement is None:
            return
        factor = SPEED_FACTORS.get(self.speed)
        elapsed = (time.perf_counter() - self._t0) * (factor or 0.0)
        before = [line.shown for line in self._lines]
        line_start = 0.0
        for line in self._lines:
            if factor is None:
                line.shown = len(line)
                continue
            line.shown = int(np.searchsorted(line.t, elapsed - line_start, side="right"))
            if not (line.finished and line.shown == len(line)):
                break  # lines are written one after another
            line_start += (float(line.t[-1]) if len(line) else 0.0) + LINE_PAUSE_S
        if [line.shown for line in self._lines] != before:  # else the preview is unchanged
            self.revealed.emit([line.shown for line in self._lines])
            self.document.set_preview(self._revealed())
            box = np.array([line.bounds() for line in self._lines])
            self.canvas.ensure_box_visible((*box[:, :2].min(0), *box[:, 2:].max(0)),
                                           GROWTH_HEADROOM)
        if self._stream_done and all(ln.shown == len(ln) for ln in self._lines):
            self._commit()

    # ------------------------------------------------------------------ placing
    def _place(self, texts: tuple[str, ...], page_height: float | None) -> Placement:
        """Below the existing ink (whose writing height the worker measured, when it is the
        ink the job was asked for on); on an empty page, at the top left of the view, sized
        so the longest line fits the view's width."""
        view = self.canvas.visible_scene_rect()
        zoom = max(self.canvas.zoom, 1e-9)
        longest = max((len(t) for t in texts), default=1)
        fit = 0.92 * view.width() / (LINE_WIDTH_PER_CHAR * longest + 1.0)
        height = min(SCREEN_HEIGHT_PX / zoom, fit)
        margin = 24.0 / zoom
        page = self.document.ink
        known = page_height if page is self._page else None
        return place_below(page, height, view.left() + margin, view.top() + margin, known)

    def _revealed(self) -> Ink:
        return Ink(tuple(s for line in self._lines for s in line.strokes()))

    def _commit(self) -> None:
        """Move the revealed ink into the document as one undo step and end the job."""
        self._timer.stop()
        lines = [(ln.text, ln.strokes()) for ln in self._lines if ln.shown]
        self.job = None
        self._lines = []
        self.document.set_preview(None)
        if not lines:
            self.finished.emit(False)
            return
        doc = self.document
        new = self._stacked([strokes for _, strokes in lines],
                            doc.end_time + STROKE_GAP_S if not doc.ink.is_empty else 0.0)
        doc.add_strokes(new, label="Write Text")
        if self.canvas.auto_fit:
            self.canvas.fit_to_ink()
        else:
            self.canvas.ensure_visible(doc.ink)
        self.written_text = "\n".join(text for text, _ in lines)
        self.written_points += sum(len(s) for s in new)
        self.finished.emit(True)

    def _stacked(self, lines: list[list[Stroke]], t0: float) -> tuple[Stroke, ...]:
        """The lines one after another in time (from `t0`, as a hand writes them) and below
        each other on the page: a line that drifted into the one above (a sampled baseline
        can wander) moves down until `LINE_CLEARANCE` writing heights separate them."""
        clearance = LINE_CLEARANCE * self._placement.height
        # one size for the whole text, as the library writes it (`geometry.equal_heights`)
        lines = [list(ink.strokes) if not ink.is_empty else strokes for ink, strokes in
                 zip(equal_heights([Ink(tuple(s)) for s in lines]), lines, strict=True)]
        out: list[Stroke] = []
        bottom = None
        for strokes in lines:
            y = np.concatenate([s.xy[:, 1] for s in strokes])
            top, low = np.percentile(y, [5, 95])  # robust: a stray descender does not count
            dy = 0.0 if bottom is None else max(0.0, bottom + clearance - top)
            dt = t0 - float(strokes[0].t[0])
            out += [Stroke(s.xy + np.float32((0.0, dy)), s.t + dt) for s in strokes]
            bottom, t0 = low + dy, float(out[-1].t[-1]) + LINE_PAUSE_S
        return tuple(out)
