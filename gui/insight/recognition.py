"""Recognition panels over one `RecognitionState`: cell states and gates as units x time
heatmaps and CTC posteriors over time (the ink views are in `ink_views`). All share the
state's time cursor; none computes anything with a model."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Slot
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.insight.blocks import TEXT, add_export_action, qcolor, small_font
from gui.insight.model import DIRECTIONS, RecognitionState
from gui.insight.plots import HeatmapView, LinePlotView
from handwriting.figures.arrays import (
    QUANTITIES,
    activity_order,
    class_label,
    nice_step,
    single_unit,
    unit_values,
)
from handwriting.figures.palette import (
    BLANK,
    class_color,
    diverging01,
    diverging_fast,
    sequential_rgb,
)
from handwriting.figures.recognition import GATES, posterior_lines

DIRECTION_NAMES = {"fwd": "forward", "bwd": "backward"}


class _StateView:
    """Mixin for widgets showing a `RecognitionState`: rebuilds on model events while
    visible, and once on show after changes made while hidden."""

    def _watch(self, state: RecognitionState, *signals) -> None:
        self.state = state
        self._stale = True
        for name in signals:
            getattr(state, name).connect(self._on_state_changed)

    def _on_state_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self._refresh()

    def showEvent(self, event) -> None:
        if self._stale:
            self._refresh()
        super().showEvent(event)

    def _refresh(self) -> None:
        self._stale = False
        self.rebuild()


def _unit_rows(order: np.ndarray, unit: int) -> tuple[list, tuple[int, str] | None]:
    """Row labels (plain order only) and the highlighted row of `unit`."""
    H = len(order)
    if np.array_equal(order, np.arange(H)):
        labels = [(r, str(r)) for r in range(0, H, nice_step(H, 6))]
    else:
        labels = []
    rows = np.empty(H, np.int64)
    rows[order] = np.arange(H)
    return labels, ((int(rows[unit]), f"unit {unit}") if 0 <= unit < H else None)


class CellStatePanel(_StateView, QWidget):
    """Units x time of one LSTM: blue negative, red positive. Pick the layer, direction and
    what to show (c scaled, tanh(c) or h); click a row or use the spin box to select a unit
    (the neuron view follows); 'Sort by activity' puts the most active units on top."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        QWidget.__init__(self, parent)
        self.layer_box = QComboBox()
        self.direction_box = QComboBox()
        for d in DIRECTIONS:
            self.direction_box.addItem(DIRECTION_NAMES[d], d)
        self.quantity_box = QComboBox()
        for k, name in QUANTITIES.items():
            self.quantity_box.addItem(name, k)
        self.unit_box = QSpinBox()
        self.unit_box.setPrefix("unit ")
        self.sort_box = QCheckBox("Sort by activity")
        self.heatmap = HeatmapView(state.cursor)
        self.heatmap.axis_label = "frame (4 input points each)"
        self.readout = QLabel()
        self.readout.setFont(small_font(self))
        self.order = np.zeros(0, np.int64)

        self.readout.setWordWrap(True)
        controls = QHBoxLayout()
        controls.setSpacing(4)
        for w in (self.layer_box, self.direction_box, self.quantity_box, self.unit_box,
                  self.sort_box):
            controls.addWidget(w)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.heatmap, 1)
        layout.addWidget(self.readout)

        self._watch(state, "insight_changed", "selection_changed")
        state.cursor.frame_changed.connect(self.on_frame_changed)
        self.layer_box.currentIndexChanged.connect(self.on_layer_chosen)
        self.direction_box.currentIndexChanged.connect(self.on_direction_chosen)
        self.quantity_box.currentIndexChanged.connect(self.on_quantity_chosen)
        self.unit_box.valueChanged.connect(self.on_unit_chosen)
        self.sort_box.toggled.connect(self.on_sort_toggled)
        self.heatmap.row_clicked.connect(self.on_row_clicked)
        add_export_action(self)
        self.rebuild()

    # ------------------------------------------------------------------ view -> model
    @Slot(int)
    def on_layer_chosen(self, index: int) -> None:
        if index >= 0:
            self.state.select(layer=index)

    @Slot(int)
    def on_direction_chosen(self, index: int) -> None:
        if index >= 0:
            self.state.select(direction=self.direction_box.itemData(index))

    @Slot(int)
    def on_quantity_chosen(self, index: int) -> None:
        if index >= 0:
            self.state.select(quantity=self.quantity_box.itemData(index))

    @Slot(int)
    def on_unit_chosen(self, unit: int) -> None:
        if self.state.insight is not None:
            self.state.select(unit=unit)

    @Slot(bool)
    def on_sort_toggled(self, on: bool) -> None:
        self.state.select(sort=on)

    @Slot(int)
    def on_row_clicked(self, row: int) -> None:
        if 0 <= row < len(self.order):
            self.state.select(unit=int(self.order[row]))

    @Slot(int)
    def on_frame_changed(self, frame: int) -> None:
        if self.isVisible():
            self._update_readout()

    # ------------------------------------------------------------------ model -> view
    def rebuild(self) -> None:
        st, ins = self.state, self.state.insight
        widgets = (self.layer_box, self.direction_box, self.quantity_box, self.unit_box,
                   self.sort_box)
        for w in widgets:
            w.blockSignals(True)
        if ins is not None and self.layer_box.count() != ins.n_layers:
            self.layer_box.clear()
            self.layer_box.addItems([f"layer {k}" for k in range(ins.n_layers)])
        self.layer_box.setCurrentIndex(st.layer)
        self.direction_box.setCurrentIndex(DIRECTIONS.index(st.direction))
        self.quantity_box.setCurrentIndex(list(QUANTITIES).index(st.quantity))
        self.unit_box.setRange(0, max((ins.n_units if ins else 1) - 1, 0))
        self.unit_box.setValue(st.unit)
        self.sort_box.setChecked(st.sort)
        for w in widgets:
            w.blockSignals(False)
        if ins is None:
            self.heatmap.title = ""
            self.heatmap.chars = []
            self.heatmap.set_image(None)
            self.readout.setText("")
            return
        values, label = unit_values(ins.cell(st.layer, st.direction), st.quantity)  # (T', H)
        self.order = activity_order(values) if st.sort else np.arange(values.shape[1])
        self.heatmap.row_labels, self.heatmap.highlight = _unit_rows(self.order, st.unit)
        self.heatmap.title = (f"{QUANTITIES[st.quantity]} of every unit of layer {st.layer}, "
                              f"{DIRECTION_NAMES[st.direction]} LSTM"
                              + (" (most active on top)" if st.sort else ""))
        self.heatmap.chars = ins.emitted
        self.heatmap.colorbar = (diverging01, ["+1", "0", "-1"], label)
        self.heatmap.set_image(diverging_fast(values[:, self.order].T))
        self._update_readout()

    def _update_readout(self) -> None:
        st, ins = self.state, self.state.insight
        frame = st.cursor.frame
        if ins is None or not 0 <= frame < ins.n_frames:
            self.readout.setText("Hover over the heatmap or the ink to read a frame; "
                                 "click a row to pick a unit.")
            return
        cell = ins.cell(st.layer, st.direction)
        u = st.unit
        k = ins.char_at(frame)
        ch = f" ('{ins.emitted[k][1]}')" if k is not None else ""
        self.readout.setText(
            f"frame {frame}{ch}, unit {u}: c = {cell.c[frame, u]:+.2f}, h = {cell.h[frame, u]:+.2f}"
            f"  ·  gates i = {cell.i[frame, u]:.2f}, f = {cell.f[frame, u]:.2f}, "
            f"o = {cell.o[frame, u]:.2f}  ·  c ← f·c + i·g, h = o·tanh(c)")


class GatePanel(_StateView, QWidget):
    """Input, forget and output gates (0 white, 1 purple) of the selected layer and
    direction, rows in the cell panel's order, and below them the selected unit's gates and
    cell state as lines: watch f drop to 0 where the unit forgets."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        QWidget.__init__(self, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        self.heatmaps = {}
        for g, desc in GATES:
            view = HeatmapView(state.cursor)
            view.title = desc
            view.axis_label = ""
            view.margins = (64, 24, 12, 18)
            view.setMinimumHeight(80)
            view.row_clicked.connect(self.on_row_clicked)
            view.colorbar = (sequential_rgb, ["1", "0.5", "0"], g)
            self.heatmaps[g] = view
            layout.addWidget(view, 2)
        self.unit_plot = LinePlotView(state.cursor)
        self.unit_plot.y_range, self.unit_plot.y_ticks = (-1.0, 1.0), (-1.0, 0.0, 1.0)
        self.unit_plot.margins = (64, 18, 74, 30)
        self.unit_plot.axis_label = "frame"
        self.unit_plot.setMinimumHeight(100)
        layout.addWidget(self.unit_plot, 3)
        self.order = np.zeros(0, np.int64)
        self._watch(state, "insight_changed", "selection_changed")
        add_export_action(self)
        self.rebuild()

    @Slot(int)
    def on_row_clicked(self, row: int) -> None:
        if 0 <= row < len(self.order):
            self.state.select(unit=int(self.order[row]))

    def rebuild(self) -> None:
        st, ins = self.state, self.state.insight
        if ins is None:
            for view in self.heatmaps.values():
                view.set_image(None)
            self.unit_plot.n_cols, self.unit_plot.series = 0, []
            self.unit_plot.invalidate()
            return
        cell = ins.cell(st.layer, st.direction)
        values = unit_values(cell, st.quantity)[0]
        self.order = activity_order(values) if st.sort else np.arange(values.shape[1])
        labels, highlight = _unit_rows(self.order, st.unit)
        where = f" (layer {st.layer}, {DIRECTION_NAMES[st.direction]})"
        for (g, desc), view in zip(GATES, self.heatmaps.values(), strict=True):
            view.title = desc + where
            view.row_labels, view.highlight = labels, highlight
            view.set_image(sequential_rgb(getattr(cell, g)[:, self.order].T))
        u = st.unit
        c_unit, c_label = single_unit(cell, u)
        plot = self.unit_plot
        plot.title = (f"unit {u}: gates i (blue), f (green), o (orange) in [0, 1]; "
                      f"cell state {c_label} in black")
        plot.n_cols = ins.n_frames
        plot.chars = ins.emitted
        # hairlines: thick antialiased polylines cost ~4 ms each
        plot.series = [(c_unit, QColor(60, 64, 72), 1.0)] + [
            (getattr(cell, g)[:, u], qcolor(rgb), 1.0)
            for g, rgb in (("i", (31, 119, 180)), ("f", (44, 160, 44)), ("o", (255, 127, 14)))]
        plot.invalidate()


class PosteriorPanel(_StateView, LinePlotView):
    """CTC posteriors over time: blank grey, each character in its colour, the decoded
    characters above the plot at the frames CTC emitted them."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        LinePlotView.__init__(self, state.cursor, parent)
        self.axis_label = "frame"
        self.margins = (64, 24, 74, 30)  # time axis aligned with the heatmaps' below
        self.skip_floor = True
        self._watch(state, "insight_changed")
        add_export_action(self)
        self.rebuild()

    def empty_text(self) -> str:
        return "write or open a line to see what the recognizer hears"

    def rebuild(self) -> None:
        ins = self.state.insight
        if ins is None:
            self.n_cols, self.series, self.peaks, self.chars = 0, [], [], []
            self.invalidate()
            return
        classes, peaks, marks = posterior_lines(ins.probs, ins.chars, ins.emitted)
        self.title = "CTC posteriors p(character | frame); blank in grey"
        self.n_cols = ins.n_frames
        self.series = [(ins.probs[:, 0], qcolor(BLANK), 1.0)] + [
            (ins.probs[:, c], qcolor(class_color(int(c))), 1.8) for c in classes]
        self.peaks = [(t, v, s, qcolor(rgb)) for t, v, s, rgb in peaks]
        self.chars = marks
        self.invalidate()

    def paint_cursor_label(self, p: QPainter, rect: QRectF, frame: int) -> None:
        ins = self.state.insight
        probs = ins.probs[frame]
        top = np.argsort(-probs)[:3]
        s = f"frame {frame}: " + ", ".join(
            f"{class_label(int(c), ins.chars)} {probs[c]:.2f}" for c in top)
        fm = p.fontMetrics()
        p.setPen(TEXT)
        p.drawText(QPointF(self.width() - fm.horizontalAdvance(s) - 8, 2 + fm.ascent()), s)
