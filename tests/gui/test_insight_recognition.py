"""Recognition insight panels: each renders offscreen, the time cursor moves every panel
(hover on a heatmap, on the ink, on the canvas), unit selection drives the neuron view,
saliency goes through the host's provider, and each stroke's update reaches the visible
panels (and only them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.bench_tools import PaintClock
from gui.canvas import InkCanvas
from gui.insight.dock import InsightDock
from gui.insight.ink_views import SALIENCY_DEBOUNCE_MS, NeuronInkView, SaliencyView
from gui.insight.model import RecognitionState, sync_saliency_provider
from gui.insight.recognition import CellStatePanel, GatePanel, PosteriorPanel
from gui.messages import RecognitionInsight, SaliencyResult
from handwriting.alphabet import IAM_CHARS
from handwriting.document import InkDocument
from handwriting.features import FeatureConfig, Standardizer, point_features, preprocess
from handwriting.ink import Ink
from handwriting.models.configs import RecognizerConfig
from handwriting.models.recognizer import RecognizerNet
from handwriting.results import models_dir
from handwriting.service import Recognizer
from tests.fixtures import hershey_ink

pytestmark = pytest.mark.gui

PANELS = (CellStatePanel, GatePanel, PosteriorPanel, SaliencyView, NeuronInkView)


def pixels(widget) -> np.ndarray:
    """The widget's rendering as (H, W, 3) uint8."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rgb = rows.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), 2::-1]
    return rgb.copy()  # the QImage's buffer goes when `image` does


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    """The shipped recognizer when present (readable output), else a tiny random one."""
    if (models_dir() / "recognizer.pt").is_file():
        return Recognizer.from_checkpoint(use_lm=False)
    torch.manual_seed(0)
    cfg = RecognizerConfig(hidden=16, layers=2, conv_channels=16)
    std = Standardizer.fit([point_features(preprocess(hershey_ink("hello world")))])
    return Recognizer({"model_config": cfg.to_dict(), "feature_config": FeatureConfig().to_dict(),
                       "standardizer": std.to_dict(), "alphabet": IAM_CHARS,
                       "state_dict": RecognizerNet(cfg).state_dict()})


@pytest.fixture(scope="module")
def insight(recognizer) -> RecognitionInsight:
    return RecognitionInsight.compute(recognizer, hershey_ink("move the lid", scale=2.0))


@pytest.fixture
def state(insight) -> RecognitionState:
    st = RecognitionState()
    st.set_insight(insight)
    return st


def hover(widget, pos) -> None:
    """A mouse move with no button pressed, sent straight to `widget` (top-level test
    windows overlap, so a moved system cursor could land on another one)."""
    pos = QPointF(pos)
    event = QMouseEvent(QEvent.Type.MouseMove, pos, widget.mapToGlobal(pos),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def show(qtbot, widget, size=(700, 420)):
    widget.resize(*size)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):  # a context manager: called bare, it waits for nothing
        widget.show()
    return widget


@pytest.mark.parametrize("panel_type", PANELS, ids=lambda t: t.__name__)
def test_every_panel_renders_offscreen(qtbot, state, panel_type):
    panel = show(qtbot, panel_type(state))
    state.cursor.set_frame(state.insight.n_frames // 2)
    rgb = pixels(panel)
    assert rgb.shape[:2] == (420, 700)
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 20, f"{panel_type.__name__} looks blank"


@pytest.mark.parametrize("panel_type", PANELS, ids=lambda t: t.__name__)
def test_every_panel_shows_a_hint_without_a_line(qtbot, panel_type):
    panel = show(qtbot, panel_type(RecognitionState()))
    assert pixels(panel).std() > 0  # a message or empty axes, and no exception


def test_the_time_cursor_moves_every_panel(qtbot, state):
    cells = show(qtbot, CellStatePanel(state))
    posteriors = show(qtbot, PosteriorPanel(state))
    neuron = show(qtbot, NeuronInkView(state))
    before = [pixels(w) for w in (cells, posteriors, neuron)]
    heat = cells.heatmap
    rect = heat.plot_rect()
    target = state.insight.n_frames // 3
    hover(heat, QPoint(round(heat.x_of(target)), round(rect.center().y())))
    assert state.cursor.frame == target
    after = [pixels(w) for w in (cells, posteriors, neuron)]
    for a, b in zip(before, after, strict=True):
        assert not np.array_equal(a, b)  # every panel marks the new frame
    # hovering over the ink picks the frame that read the nearest point
    ins = state.insight
    k = ins.xy.shape[0] * 3 // 4
    s, dx, dy = neuron.transform()
    pos = QPoint(round(ins.xy[k, 0] * s + dx), round(ins.xy[k, 1] * s + dy))
    hover(neuron, pos)
    near = neuron.nearest_point(QPointF(pos))
    assert np.hypot(*(ins.xy[near] - ins.xy[k])) * s < 2  # k or a point under the same pixel
    assert state.cursor.frame == ins.point_frames[near]
    assert "frame" in cells.readout.text()


def test_hovering_over_the_canvas_moves_the_cursor(qtbot, insight):
    doc = InkDocument(insight.ink)
    canvas = show(qtbot, InkCanvas(doc), (600, 300))
    canvas.fit_to_ink()
    dock = InsightDock()
    qtbot.addWidget(dock)
    dock.set_recognition(insight)
    dock.attach_canvas(canvas)
    k = len(insight.xy) // 2
    pos = canvas.view_transform().map(QPointF(*insight.xy[k])).toPoint()
    hover(canvas, pos)
    scene = canvas.to_scene(QPointF(pos))
    near = np.argmin(np.hypot(insight.xy[:, 0] - scene.x(), insight.xy[:, 1] - scene.y()))
    assert dock.state.cursor.frame == insight.point_frames[near]
    assert doc.ink == insight.ink  # the canvas did not draw


def test_unit_selection_drives_the_neuron_view(qtbot, state):
    cells = show(qtbot, CellStatePanel(state))
    neuron = show(qtbot, NeuronInkView(state))
    state.select(sort=False)
    first = pixels(neuron)
    cells.unit_box.setValue(5)
    assert state.unit == 5
    assert not np.array_equal(first, pixels(neuron))
    heat = cells.heatmap
    rect = heat.plot_rect()
    row_y = rect.top() + (9 + 0.5) * rect.height() / heat.n_rows
    QTest.mouseClick(heat, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(rect.center().x()), round(row_y)))
    assert state.unit == 9 and cells.unit_box.value() == 9  # sorting off: row 9 is unit 9
    state.select(sort=True)
    heat.row_clicked.emit(0)
    assert state.unit == int(cells.order[0])
    state.select(layer=state.insight.n_layers - 1, direction="bwd", quantity="h")
    assert cells.layer_box.currentIndex() == state.insight.n_layers - 1
    assert cells.direction_box.currentData() == "bwd"
    with pytest.raises(ValueError):
        state.select(unit=10_000)


def test_saliency_goes_through_the_hosts_provider(qtbot, state, recognizer):
    asked = []
    state.saliency_provider = asked.append
    view = show(qtbot, SaliencyView(state))
    grey = pixels(view)
    state.cursor.set_frame(2)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    req = asked[0]
    assert (req.frame, req.label, req.char_index) == (2, None, None)
    assert state.pending is req
    # the answer of another line is ignored; the right one recolours the ink
    other = RecognitionInsight.compute(recognizer, hershey_ink("x"))
    stale = SaliencyResult(type(req)(other, 2, None, None), np.ones(other.ink.num_points), 5)
    state.set_saliency(stale)
    assert state.saliency is None
    mag = np.linspace(0, 1, state.insight.ink.num_points)
    state.set_saliency(SaliencyResult(req, mag, 7))
    assert state.pending is None and state.saliency.label == 7
    assert not np.array_equal(grey, pixels(view))
    # asking again for the same target is answered from the cache
    state.cursor.set_frame(3)
    state.cursor.set_frame(2)  # before the debounce fires: one look-up, for frame 2
    qtbot.wait(3 * SALIENCY_DEBOUNCE_MS)
    assert len(asked) == 1
    if state.insight.emitted:  # clicking a character pins it
        state.set_char(0)
        assert state.cursor.frame == state.insight.emitted[0][0]
        assert state.saliency_target()[1] == IAM_CHARS.index(state.insight.emitted[0][1]) + 1
    # a synchronous provider (scripts, screenshots) answers at once
    state.saliency_provider = sync_saliency_provider(recognizer, state)
    state.set_char(None)
    state.cursor.set_frame(1)
    assert state.request_saliency()
    assert state.saliency.request.frame == 1 and state.pending is None


def test_each_stroke_updates_the_visible_panels_and_only_them(qtbot, recognizer):
    """A line growing stroke by stroke, as the host feeds it: after each `set_recognition`
    the dock shows that line, its visible panels hold data of the line's length and paint
    in the synchronous repaint; the hidden gate panel does nothing until it is shown. (The
    update's cost is measured by `python -m gui.bench`, not here.)"""
    dock = InsightDock()
    dock.resize(1400, 720)
    qtbot.addWidget(dock)
    with qtbot.waitExposed(dock):  # painting needs an exposed window
        dock.show()
    ink_views = (dock.saliency_view, dock.neuron_view)
    visible = (dock.posteriors, dock.cells.heatmap, *ink_views)
    hidden = tuple(dock.gates.heatmaps.values())
    clock = PaintClock(*visible, *hidden)
    strokes = hershey_ink("move the lid", scale=2.0).strokes
    frames = []
    for k in range(1, len(strokes) + 1):
        ins = RecognitionInsight.compute(recognizer, Ink(strokes[:k]))
        painted = {w: len(clock.times[w]) for w in clock.times}
        dock.set_recognition(ins)
        dock.repaint()
        assert dock.state.insight is ins
        assert dock.posteriors.n_cols == ins.n_frames
        heat = dock.cells.heatmap
        assert (heat.image_cols, heat.n_rows) == (ins.n_frames, ins.n_units)
        assert heat.chars == ins.emitted
        for view in ink_views:
            assert view.xy is ins.xy and len(view.xy) == ins.ink.num_points
        assert all(len(clock.times[w]) > painted[w] for w in visible)
        assert all(len(clock.times[w]) == painted[w] for w in hidden)
        assert dock.gates.unit_plot.n_cols == 0  # never built while hidden
        frames.append(ins.n_frames)
    assert len(frames) > 3 and frames[-1] > frames[0]
    # the gate panel catches up with the newest line when its tab is shown
    dock.recognition_tabs.setCurrentWidget(dock.gates)
    assert dock.gates.unit_plot.n_cols == ins.n_frames
    assert all(view.image_cols == ins.n_frames for view in hidden)


def test_export_panel_png_and_svg(qtbot, state, tmp_path):
    dock = InsightDock()
    dock.resize(1000, 600)
    qtbot.addWidget(dock)
    dock.show()
    dock.set_recognition(state.insight)
    dock.export_panel(tmp_path / "page.png")
    assert QImage(str(tmp_path / "page.png")).width() > 100
    dock.export_panel(tmp_path / "cells.svg", dock.cells)
    text = (tmp_path / "cells.svg").read_text()
    assert "<svg" in text and "<image" in text  # the heatmap as an embedded image
    with pytest.raises(ValueError):
        dock.export_panel(tmp_path / "page.gif")
