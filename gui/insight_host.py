"""`InsightHost`: the main window's side of the insight dock ('Inside the networks',
`gui.insight`). It picks the line the recognition panels inspect (the line last changed, or
the one the pointer rests on), has `gui.workers` compute it and the saliency maps, feeds the
synthesis panels the worker's raw frames, and marks the character being written in the
typed-text box. The window creates this once a model is loaded (its imports take ~0.2 s);
what it shows arrives as plain data from the model processes, which compute it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QMainWindow

from gui.insight.dock import InsightDock
from gui.messages import (
    InsightResult,
    SaliencyAnswer,
    SynthesisBatch,
    SynthesisDone,
    SynthesisStarted,
    line_key,
)
from handwriting.ink import Ink, Stroke

HOVER_SWITCH_MS = 200  # the pointer rests this long on another line before it is inspected
LINE_MARGIN = 0.35  # the pointer picks a line within this many of its heights of its box
MATCH_AHEAD = 8  # typed characters a planned one may skip (dropped ones, extra spaces)
CANVAS_KEEP_PX = 300  # the canvas's height the dock leaves, where the window has room
TEXT_KEEP_PX = 100  # and the recognized text's (its dock shares the bottom area)
DOCK_MIN_SHARE = 0.5  # of the canvas's and the dock's height, where it has not


def typed_positions(typed: str, lines: Sequence[str]) -> list[list[int]]:
    """For each character of the lines the synthesizer writes (`Synthesizer.plan`: words
    re-flowed at spaces, characters mapped onto its alphabet or dropped), its index in the
    `typed` text: matched in order; one that does not match (a mapped character) takes the
    next character that is not a space."""
    out, i = [], 0
    for line in lines:
        pos = []
        for ch in line:
            j = typed.find(ch, i, i + MATCH_AHEAD)
            if j < 0:
                j = i
                while j < len(typed) - 1 and typed[j].isspace():
                    j += 1
            pos.append(j)
            i = j + 1
        out.append(pos)
    return out


def _end_time(strokes: tuple[Stroke, ...]) -> float:
    return max(float(s.t[-1]) for s in strokes)


class InsightHost(QObject):
    """Creates the dock in `window` (a `MainWindow`: its canvas, workers, live recognition,
    typed ink and write panel), hidden, below the recognized text."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.workers = window.workers
        self.recognition = window.recognition
        self.write_panel = window.write_panel
        self.typed = window.typed
        self.canvas = window.canvas

        self.dock = InsightDock(window)
        self.dock.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea
                                  | Qt.DockWidgetArea.TopDockWidgetArea)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock,
                             Qt.Orientation.Vertical)
        self.dock.hide()
        self._take_menu_place(window)
        self.dock.attach_canvas(self.canvas)
        self.dock.set_saliency_provider(self.workers.saliency)
        self._grown: tuple[int, int, int] | None = None  # see _make_room
        self._closed_height = window.height()  # the window's height while the dock is closed
        window.installEventFilter(self)

        self.target: tuple[Stroke, ...] | None = None  # the line to inspect
        self.shown_key: object = None  # the line the dock shows
        self._asked_key: object = None  # the line asked for last
        self._lines: list[tuple[Stroke, ...]] = []  # the page's lines
        self._boxes: list[tuple[tuple[Stroke, ...], np.ndarray]] | None = None  # see boxes()
        self._hovered: tuple[Stroke, ...] | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(HOVER_SWITCH_MS)
        self._hover_timer.timeout.connect(self.on_hover_rested)
        self.canvas.installEventFilter(self)

        self._job_positions: list[list[int]] | None = None  # typed_positions of the job
        self._job_text = ""
        self._feeding = False  # this synthesis job streams into the dock
        self._following = False  # ... and its panels follow the pen (see on_revealed)
        self.workers.wants_frames = lambda: self.wanted

        self.dock.visibilityChanged.connect(self.on_visibility_changed)
        self.dock.synthesis_char_changed.connect(self.on_synthesis_char)
        self.recognition.lines_changed.connect(self.on_lines_changed)
        self.workers.insight_ready.connect(self.on_insight)
        self.workers.saliency_ready.connect(self.on_saliency)
        self.workers.synthesis_started.connect(self.on_synthesis_started)
        self.workers.synthesis_points.connect(self.on_synthesis_points)
        self.workers.synthesis_finished.connect(self.on_synthesis_finished)
        self.typed.finished.connect(self.on_typed_finished)
        self.typed.revealed.connect(self.on_revealed)
        self.on_lines_changed()

    def _take_menu_place(self, window) -> None:
        """The dock's toggle action replaces the window's stand-in `insight_action`."""
        stand_in, toggle = window.insight_action, self.dock.toggleViewAction()
        toggle.setText(stand_in.text())
        toggle.setStatusTip(stand_in.statusTip())
        window.view_menu.insertAction(stand_in, toggle)
        window.view_menu.removeAction(stand_in)
        window.removeAction(stand_in)
        stand_in.deleteLater()
        window.insight_action = toggle

    @property
    def wanted(self) -> bool:
        """The dock is open (even while the window itself is not shown yet)."""
        return not self.dock.isHidden()

    @property
    def pending(self) -> bool:
        return self.workers.insight_pending

    def show(self) -> None:
        self.dock.show()
        self.dock.raise_()

    def shutdown(self) -> None:
        self.dock.shutdown()

    # ------------------------------------------------------------------ which line
    @Slot()
    def on_lines_changed(self) -> None:
        """After an ink change: inspect the line that changed last (a new stroke, an erased
        one); with no change to a line (undo to a known state), keep the line if it is
        still there, else take the newest one. A cleared page clears the dock."""
        lines = self.recognition.lines
        self._lines, self._boxes = lines, None
        if not lines:
            self.target = None
            self.shown_key = self._asked_key = None
            self.workers.cancel_insight()
            self.dock.set_recognition(None)
            return
        keys = {line_key(s) for s in lines}
        if self.recognition.changed:
            self.target = max(self.recognition.changed, key=_end_time)
        elif self.target is None or line_key(self.target) not in keys:
            self.target = max(lines, key=_end_time)
        self._request()

    def _request(self) -> None:
        if self.target is None or not self.wanted:
            return
        key = line_key(self.target)
        if key in (self.shown_key, self._asked_key):
            return
        self._asked_key = key
        self.workers.inspect_line(key, Ink(self.target))

    def boxes(self) -> list[tuple[tuple[Stroke, ...], np.ndarray]]:
        """Each line with its (x0, y0, x1, y1), measured when the pointer first asks after a
        change of the lines, not at every change (a commit of typed text is busy enough)."""
        if self._boxes is None:
            self._boxes = [(s, np.array(Ink(s).bounds())) for s in self._lines]
        return self._boxes

    def line_at(self, x: float, y: float) -> tuple[Stroke, ...] | None:
        """The line whose box (grown by `LINE_MARGIN` of its height) holds the scene point,
        the one whose middle is nearest when boxes overlap."""
        best, best_d = None, np.inf
        for strokes, (x0, y0, x1, y1) in self.boxes():
            m = LINE_MARGIN * max(y1 - y0, 1e-6)
            if x0 - m <= x <= x1 + m and y0 - m <= y <= y1 + m:
                d = abs(y - 0.5 * (y0 + y1))
                if d < best_d:
                    best, best_d = strokes, d
        return best

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window:
            if event.type() == QEvent.Type.Resize and self.dock.isHidden():
                self._closed_height = self.window.height()  # what closing gives back
            return False
        if (event.type() == QEvent.Type.MouseMove and self.wanted
                and event.buttons() == Qt.MouseButton.NoButton):
            p = self.canvas.to_scene(event.position())
            line = self.line_at(p.x(), p.y())
            key = None if line is None else line_key(line)
            if key is None or (self.target is not None and key == line_key(self.target)):
                self._hover_timer.stop()
            elif line is not self._hovered or not self._hover_timer.isActive():
                self._hovered = line
                self._hover_timer.start()
        return False  # the canvas gets every event

    @Slot()
    def on_hover_rested(self) -> None:
        if self._hovered is not None and any(s is self._hovered for s in self._lines):
            self.target = self._hovered
            self._request()

    @Slot(bool)
    def on_visibility_changed(self, visible: bool) -> None:
        if visible:
            if not self.dock.isFloating():
                self._make_room()
            self._request()
        elif not (self.window.isHidden() or self.window.isMinimized()):
            # once the layout has let go of the dock's minimum height
            QTimer.singleShot(0, self._give_room_back)

    def _make_room(self) -> None:
        """When the dock opens: grow the window so the panels get their height and the
        canvas keeps `CANVAS_KEEP_PX`, but never past the bottom of its screen's available
        area (moving the window up first when there is room above it), so the status bar
        stays on screen. The window's size and place before are given back when the dock
        closes (Qt itself may have grown it to the dock's minimum first)."""
        win = self.window
        short = (max(0, self.dock.full_height() - self.dock.height())
                 + max(0, CANVAS_KEEP_PX - self.canvas.height()))
        screen = win.screen()
        self._grown = None
        if screen is not None and not (win.isMaximized() or win.isFullScreen()):
            area, frame = screen.availableGeometry(), win.frameGeometry()
            below = area.bottom() - frame.bottom()  # < 0: the dock's minimum pushed it off
            above = frame.top() - area.top()
            grow = max(0, min(short, above + below))
            up = min(max(0, above), max(0, grow - below))
            if up:
                win.move(win.x(), win.y() - up)
            if grow:
                win.resize(win.width(), win.height() + grow)
            if grow or up or win.height() != self._closed_height:
                self._grown = (self._closed_height, up, win.height())
        QTimer.singleShot(0, self._size_dock)  # once the layout has the new size

    def _give_room_back(self) -> None:
        """Undo `_make_room` when the dock closes, unless the user resized the window since."""
        grown, self._grown = self._grown, None
        win = self.window
        if grown is None or not self.dock.isHidden() or win.isMaximized() or win.isFullScreen():
            return
        closed_height, up, height = grown
        if win.height() == height:
            win.layout().activate()  # drop the hidden dock's minimum height first
            win.resize(win.width(), closed_height)
            if up:
                win.move(win.x(), win.y() + up)

    def _size_dock(self) -> None:
        """Share the height of the canvas and the bottom docks: the recognized text keeps
        `TEXT_KEEP_PX`, the panels get their height if the canvas keeps `CANVAS_KEEP_PX`,
        else at least `DOCK_MIN_SHARE` of what is left (and they scroll)."""
        text_dock = self.window.recognized_dock
        now = text_dock.height() if text_dock.isVisible() else 0
        text = max(now, TEXT_KEEP_PX) if now else 0
        space = self.canvas.height() + self.dock.height() + now - text
        height = min(self.dock.full_height(),
                     max(space - CANVAS_KEEP_PX, round(DOCK_MIN_SHARE * space)))
        docks, sizes = [self.dock], [height]
        if text:
            docks, sizes = [text_dock, self.dock], [text, height]
        self.window.resizeDocks(docks, sizes, Qt.Orientation.Vertical)

    @Slot(object)
    def on_insight(self, result: InsightResult) -> None:
        if result.key == self._asked_key:
            self._asked_key = None
        if result.insight is None or self.target is None or result.key != line_key(self.target):
            return  # failed, or the line changed since it was asked for
        self.shown_key = result.key
        self.dock.set_recognition(result.insight)

    @Slot(object)
    def on_saliency(self, answer: SaliencyAnswer) -> None:
        if answer.result is not None:
            self.dock.set_saliency(answer.result)
        else:
            self.dock.saliency_failed(answer.request)

    # ------------------------------------------------------------------ synthesis
    @Slot(object)
    def on_synthesis_started(self, started: SynthesisStarted) -> None:
        # Only while the dock is open: the panels' bookkeeping would cost the GUI thread
        # time on every batch for nothing.
        self._feeding = self.wanted and started.frames
        self.write_panel.highlight_char(None)
        if not self._feeding:
            return
        self._job_text = self.typed.text
        self._job_positions = typed_positions(self._job_text, started.lines)
        # Sampling runs ahead of a pen drawn at its own pace: the panels follow the pen.
        self._following = self.typed.speed != "instant"
        self.dock.begin_synthesis(started.lines, follow_pen=self._following)

    @Slot(object)
    def on_synthesis_points(self, batch: SynthesisBatch) -> None:
        if self._feeding:
            self.dock.append_synthesis_frames(batch.frames)

    @Slot(object)
    def on_synthesis_finished(self, done: SynthesisDone) -> None:
        if self._feeding and not self._following:
            self._feeding = False
            self.dock.end_synthesis()

    @Slot(object)
    def on_revealed(self, shown) -> None:
        if self._feeding and self._following:
            self.dock.reveal(shown)

    @Slot(bool)
    def on_typed_finished(self, _wrote: bool) -> None:
        # Sampling runs ahead of the pen on the canvas: the mark goes once the ink is down,
        # and panels that follow the pen end with it.
        self.write_panel.highlight_char(None)
        if self._feeding and self._following:
            self._feeding = False
            self.dock.end_synthesis()

    @Slot(int, int)
    def on_synthesis_char(self, line: int, index: int) -> None:
        """Mark the character being written in the text box (if the text is unchanged)."""
        pos = self._job_positions
        if (self._feeding and pos is not None and 0 <= line < len(pos)
                and 0 <= index < len(pos[line]) and self.write_panel.text() == self._job_text):
            self.write_panel.highlight_char(pos[line][index])
