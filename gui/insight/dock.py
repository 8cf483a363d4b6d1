"""`InsightDock`: the recognition panels, the synthesis panels and the LSTM lab in one dock
with tabs, plus `InkHoverBridge`, which lets hovering over the host's canvas move the
shared time cursor. A host feeds it results; it never runs a model itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.insight.blocks import export_widget
from gui.insight.ink_views import NeuronInkView, SaliencyView
from gui.insight.lab import LstmLabPanel
from gui.insight.model import LineFrame, RecognitionState, SaliencyProvider, TimeCursor
from gui.insight.recognition import CellStatePanel, GatePanel, PosteriorPanel
from gui.insight.synthesis import AttentionPanel, EosTrace, MixtureView
from gui.messages import RecognitionInsight, SaliencyRequest, SaliencyResult

HOVER_RADIUS_PX = 16.0


class InkHoverBridge(QObject):
    """Event filter on a canvas with `to_scene(QPointF)` and `zoom` (gui.canvas.InkCanvas):
    moving the mouse with no button pressed near a point of the inspected line sets the
    cursor to the frame that read it. The canvas keeps every event."""

    def __init__(self, canvas: QWidget, state: RecognitionState):
        super().__init__(canvas)
        self.canvas, self.state = canvas, state
        canvas.setMouseTracking(True)
        canvas.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if (event.type() == QEvent.Type.MouseMove and event.buttons() == Qt.MouseButton.NoButton
                and self.state.insight is not None):
            ins = self.state.insight
            scene = self.canvas.to_scene(event.position())
            if len(ins.xy):
                d = np.hypot(ins.xy[:, 0] - scene.x(), ins.xy[:, 1] - scene.y())
                k = int(np.argmin(d))
                if d[k] * self.canvas.zoom <= HOVER_RADIUS_PX:
                    self.state.cursor.set_frame(int(ins.point_frames[k]))
        return False


def _scrolled(page: QWidget) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(page)
    return scroll


class InsightDock(QDockWidget):
    """'Inside the networks': tabs Recognition (posteriors, cells, gates, saliency, one
    unit on the ink), Synthesis (attention, next-point mixture, end of stroke) and LSTM lab.

    A host calls `set_recognition` with each new `RecognitionInsight`, supplies a saliency
    provider (`set_saliency_provider`) and answers it with `set_saliency`; it streams
    synthesis with `begin_synthesis`, `append_synthesis_frame(s)` and `end_synthesis`, and
    listens to `synthesis_char_changed(line, index)` to highlight the character being
    written."""

    synthesis_char_changed = Signal(int, int)  # line, character index in that line

    def __init__(self, parent: QWidget | None = None, title: str = "Inside the networks"):
        super().__init__(title, parent)
        self.setObjectName("insightDock")
        self.state = RecognitionState(self)
        self.synthesis_cursor = TimeCursor(self)
        self.lines: list[str] = []
        self._line_frames: list[list[LineFrame]] = []
        self._text_offset = 0
        self._follow_pen = False  # see begin_synthesis
        self._revealed: list[int] = []
        self._pushed = 0

        # recognition
        self.posteriors = PosteriorPanel(self.state)
        self.cells = CellStatePanel(self.state)
        self.gates = GatePanel(self.state)
        self.saliency_view = SaliencyView(self.state)
        self.neuron_view = NeuronInkView(self.state)
        inner = QTabWidget()
        inner.setDocumentMode(True)
        inner.addTab(self.cells, "Cell states")
        inner.addTab(self.gates, "Gates")
        self.recognition_tabs = inner
        # a line of ink is wide: the ink views share the top row, the time plots stack
        # below with their time axes aligned
        ink_row = QSplitter(Qt.Orientation.Horizontal)
        ink_row.addWidget(self.saliency_view)
        ink_row.addWidget(self.neuron_view)
        rec_page = QSplitter(Qt.Orientation.Vertical)
        rec_page.addWidget(ink_row)
        rec_page.addWidget(self.posteriors)
        rec_page.addWidget(inner)
        for k, stretch in enumerate((3, 3, 7)):
            rec_page.setStretchFactor(k, stretch)
        self.posteriors.setMinimumHeight(150)

        # synthesis
        self.attention = AttentionPanel(self.synthesis_cursor)
        self.mixture = MixtureView(self.synthesis_cursor)
        self.eos = EosTrace(self.synthesis_cursor)
        self.line_box = QComboBox()
        self.line_box.setMinimumContentsLength(20)
        syn_page = QWidget()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Line:"))
        bar.addWidget(self.line_box, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.mixture)
        bottom.addWidget(self.eos)
        bottom.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.attention)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        col = QVBoxLayout(syn_page)
        col.setContentsMargins(2, 2, 2, 2)
        col.addLayout(bar)
        col.addWidget(split, 1)

        self.lab = LstmLabPanel()
        self.tabs = QTabWidget()
        # Each page scrolls when the dock is shorter than it (the Recognition page wants
        # ~700 px): a bottom dock must not force the window taller than the screen.
        self.tabs.addTab(_scrolled(rec_page), "Recognition")
        self.tabs.addTab(_scrolled(syn_page), "Synthesis")
        self.tabs.addTab(_scrolled(self.lab), "LSTM lab")
        self.export_action = QAction("Export panel…", self)
        self.export_action.setStatusTip("Save the visible panel as PNG or SVG")
        self.export_action.triggered.connect(self.on_export_panel)
        button = QToolButton()
        button.setDefaultAction(self.export_action)
        self.tabs.setCornerWidget(button)
        self.setWidget(self.tabs)

        self.attention.current_char_changed.connect(self.on_current_char)
        self.line_box.currentIndexChanged.connect(self.on_line_chosen)

    # ------------------------------------------------------------------ recognition
    def set_recognition(self, insight: RecognitionInsight | None) -> None:
        """Show a newly recognized line (None clears). Cheap: panels rebuild when visible."""
        self.state.set_insight(insight)

    def set_saliency_provider(self, provider: SaliencyProvider | None) -> None:
        """`provider(SaliencyRequest)` starts computing `Recognizer.saliency(req.insight.ink,
        req.insight.inspection, req.frame, req.label)` (in a worker) and later calls
        `set_saliency(SaliencyResult(req, magnitude, label))` in the GUI thread."""
        self.state.saliency_provider = provider

    def set_saliency(self, result: SaliencyResult) -> None:
        self.state.set_saliency(result)

    def saliency_failed(self, request: SaliencyRequest) -> None:
        self.state.saliency_failed(request)

    def attach_canvas(self, canvas: QWidget) -> InkHoverBridge:
        """Let hovering over `canvas` (an InkCanvas) move the recognition cursor."""
        return InkHoverBridge(canvas, self.state)

    # ------------------------------------------------------------------ synthesis
    def begin_synthesis(self, lines, text_offset: int = 0, follow_pen: bool = False) -> None:
        """A new synthesis job writing `lines` (as the service split them). With
        `follow_pen` the panels show a line's steps only as far as `reveal` says the pen
        has drawn it (sampling runs ahead of the pen in real-time writing)."""
        self.lines = list(lines)
        self._line_frames = [[] for _ in self.lines]
        self._follow_pen = follow_pen
        self._revealed = [0] * len(self.lines)
        self._pushed = 0  # frames of the shown line already in the panels
        self._text_offset = text_offset
        self.line_box.blockSignals(True)
        self.line_box.clear()
        self.line_box.addItems([f"{k + 1}: {t}" for k, t in enumerate(self.lines)])
        self.line_box.blockSignals(False)
        self.synthesis_cursor.set_frame(-1)
        self._begin_panels()

    def append_synthesis_frame(self, frame) -> None:
        """One `SynthesisFrame` (all lines of the batch) from the service's stream."""
        line = self.line_box.currentIndex()
        for b in range(len(self._line_frames)):
            lf = LineFrame.from_frame(frame, b)
            if lf is None:
                continue
            self._line_frames[b].append(lf)
        if not self._follow_pen:
            self._push(line, len(self._line_frames[line]) if 0 <= line < len(self.lines) else 0)

    def append_synthesis_frames(self, frames) -> None:
        for frame in frames:
            self.append_synthesis_frame(frame)

    def reveal(self, shown) -> None:
        """How many points of each line the pen has drawn so far (`follow_pen` jobs)."""
        if not self._follow_pen:
            return
        self._revealed = [max(a, int(b)) for a, b in zip(self._revealed, shown, strict=False)]
        line = self.line_box.currentIndex()
        if 0 <= line < len(self._revealed):
            self._push(line, self._revealed[line])

    def _push(self, line: int, upto: int) -> None:
        """Give the panels the shown line's frames up to `upto`."""
        if not 0 <= line < len(self._line_frames):
            return
        frames = self._line_frames[line]
        upto = min(upto, len(frames))
        for lf in frames[self._pushed:upto]:
            for panel in (self.attention, self.mixture, self.eos):
                panel.append_frame(lf)
        self._pushed = max(self._pushed, upto)

    def end_synthesis(self) -> None:
        """The job finished or was cancelled: draw the final state now."""
        for panel in (self.attention, self.mixture, self.eos):
            panel.end()
            panel.flush()

    def _begin_panels(self) -> None:
        line = self.line_box.currentIndex()
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        for panel in (self.attention, self.mixture, self.eos):
            panel.begin(text, self._text_offset)

    @Slot(int)
    def on_line_chosen(self, line: int) -> None:
        """Show another line of the job: replay its frames so far."""
        if not 0 <= line < len(self._line_frames):
            return
        finished = self.attention.finished
        self._begin_panels()
        self._pushed = 0
        self._push(line, self._revealed[line] if self._follow_pen and not finished
                   else len(self._line_frames[line]))
        if finished:
            self.end_synthesis()

    @Slot(int)
    def on_current_char(self, index: int) -> None:
        self.synthesis_char_changed.emit(max(self.line_box.currentIndex(), 0), index)

    # ------------------------------------------------------------------ export
    def current_panel(self) -> QWidget:
        """The page of the current tab (the Recognition page with its splitters, etc.)."""
        return self.tabs.currentWidget().widget()

    def full_height(self) -> int:
        """The dock's height at which no page needs to scroll."""
        pages = max(self.tabs.widget(k).widget().minimumSizeHint().height()
                    for k in range(self.tabs.count()))
        viewport = self.tabs.currentWidget().viewport()
        if self.isVisible() and viewport.height() > 0:  # title bar, tab bar and frames
            return pages + self.height() - viewport.height()
        return pages + self.tabs.tabBar().sizeHint().height() + 40

    def export_panel(self, path: str | Path, widget: QWidget | None = None) -> None:
        """Save `widget` (default: the current tab's page) as .png or .svg."""
        export_widget(widget or self.current_panel(), path)

    @Slot()
    def on_export_panel(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export panel", "panel.png",
                                              "PNG image (*.png);;SVG image (*.svg)")
        if name:
            self.export_panel(name)

    def shutdown(self) -> None:
        """Stop the lab's training thread (call from the host's closeEvent)."""
        self.lab.shutdown()
