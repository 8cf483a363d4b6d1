"""Ink views of the recognition state: the line's ink coloured by saliency (which points a
character's probability depends on) or by one unit's cell state, on top of `ink_plot.InkView`,
which fits ink into a widget, colours it per segment and reports the hovered point."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from gui.insight.blocks import (
    MUTED,
    SELECTED,
    TEXT,
    add_export_action,
    qcolor,
    small_font,
)
from gui.insight.ink_plot import InkView
from gui.insight.model import RecognitionState
from gui.insight.recognition import DIRECTION_NAMES, _StateView
from handwriting.figures.arrays import class_label, single_unit
from handwriting.figures.ink_colouring import neuron_colors, point_values, saliency_colors
from handwriting.figures.palette import HALO, HEAT, diverging01, sequential_rgb

SALIENCY_DEBOUNCE_MS = 150  # a hover sweep asks once it rests, not for every frame


def _heat(v):
    return sequential_rgb(v, HEAT)


class _InsightInkView(_StateView, InkView):
    """Ink of the state's line; hovering moves the cursor to the hovered point's frame, and
    the points of the cursor frame get a dark shadow."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        InkView.__init__(self, parent)
        self._watch(state, "insight_changed")
        state.cursor.frame_changed.connect(self.update)
        self.point_hovered.connect(self.on_point_hovered)
        add_export_action(self)

    @Slot(int)
    def on_point_hovered(self, index: int) -> None:
        ins = self.state.insight
        if ins is not None and index < len(ins.point_frames):
            self.state.cursor.set_frame(int(ins.point_frames[index]))

    def rebuild(self) -> None:
        ins = self.state.insight
        if ins is None:
            self.set_ink(np.zeros((0, 2)), np.zeros((0, 2), np.int64))
            return
        if self.xy is not ins.xy:
            self.set_ink(ins.xy, ins.segs)
        self.recolor()

    def recolor(self) -> None:
        raise NotImplementedError

    def paint_over(self, p: QPainter) -> None:
        ins = self.state.insight
        if ins is None:
            return
        lines = self.segment_lines(ins.points_of_frame(self.state.cursor.frame))
        if lines:
            pen = QPen(QColor(20, 20, 20, 120), 9.0)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLines(lines)

    def _cursor_text(self) -> str:
        ins, frame = self.state.insight, self.state.cursor.frame
        if ins is None or not 0 <= frame < ins.n_frames:
            return ""
        k = ins.char_at(frame)
        return f"frame {frame}" + (f" (in '{ins.emitted[k][1]}')" if k is not None else "")

    def _paint_text_line(self, p: QPainter, y: float, marked: int | None,
                         under: int | None) -> None:
        """The recognized text; character `marked` red, `under` underlined."""
        ins = self.state.insight
        font = small_font(self, 1.15)
        p.setFont(font)
        fm = p.fontMetrics()
        x = 10.0
        self._char_boxes = []
        for k, (_, c) in enumerate(ins.emitted):
            w = fm.horizontalAdvance(c)
            p.setPen(SELECTED if k == marked else TEXT)
            p.drawText(QPointF(x, y + fm.ascent()), c)
            if k == under:
                p.drawLine(QPointF(x, y + fm.ascent() + 2), QPointF(x + w, y + fm.ascent() + 2))
            self._char_boxes.append((x, x + max(w, 4)))
            x += w
        p.setFont(small_font(self, 1.0))


class SaliencyView(_InsightInkView):
    """The ink coloured and thickened by saliency: how strongly each point moves log p of
    the chosen character (the one clicked in the text above, else the most active one at
    the cursor frame). Saliency comes from the state's provider, debounced."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        self._char_boxes: list[tuple[float, float]] = []
        self._drawn = None  # (insight, saliency, pinned character) the picture shows
        super().__init__(state, parent)
        self.header_height = 44
        self.colorbar = (_heat, ["max", "", "0"], "|grad|")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SALIENCY_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.on_request)
        state.cursor.frame_changed.connect(self.on_target_moved)
        state.char_changed.connect(self.on_target_moved)
        state.char_changed.connect(self._on_state_changed)
        state.saliency_changed.connect(self._on_state_changed)
        self.rebuild()

    @Slot()
    def on_target_moved(self, *_) -> None:
        if self.isVisible():
            self._debounce.start()

    @Slot()
    def on_request(self) -> None:
        if self.isVisible():
            self.state.request_saliency()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._debounce.start()

    def recolor(self) -> None:
        ins, sal = self.state.insight, self.state.saliency
        if sal is not None and sal.request.insight is not ins:
            sal = None
        key = (ins, sal, self.state.char_index)  # the pinned character has a halo
        if self._drawn == key:
            self.update()  # only the header changed ("computing…")
            return
        self._drawn = key
        if sal is None:
            grey = np.tile(np.array([[150, 155, 162]], np.uint8), (len(self.segs), 1))
            self.set_colors(grey, 2.0)
            return
        rgb, widths, order = saliency_colors(sal.magnitude, self.segs)
        self.set_colors(rgb, widths, order)

    def paint_under(self, p: QPainter) -> None:
        st = self.state
        if st.insight is None or st.char_index is None:
            return
        pts = st.insight.recognition.char_points[st.char_index]
        pen = QPen(qcolor(HALO), 16.0)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawLines(self.segment_lines(pts))

    def paint_header(self, p: QPainter) -> None:
        st, ins = self.state, self.state.insight
        p.setPen(TEXT)
        if ins is None:
            p.drawText(QPointF(10, 16), "Saliency: which ink points a character depends on")
            return
        sal = st.saliency
        if st.pending is not None:
            what = "computing saliency…"
        elif sal is not None and sal.request.insight is ins:
            ch = class_label(sal.label, ins.chars)
            how = "clicked" if sal.request.char_index is not None else "most active"
            what = (f"Saliency of '{ch}' at frame {sal.request.frame} ({how}): thick red "
                    "points change its probability most")
        else:
            what = "Saliency: hover over a frame or click a character below"
        p.drawText(QPointF(10, 16), what)
        under = ins.char_at(st.cursor.frame) if st.char_index is None else None
        self._paint_text_line(p, 22, st.char_index, under)

    def mousePressEvent(self, event) -> None:
        ins = self.state.insight
        pos = event.position()
        if ins is not None and event.button() == Qt.MouseButton.LeftButton:
            if pos.y() < self.header_height:
                hit = [k for k, (a, b) in enumerate(self._char_boxes) if a <= pos.x() < b]
                if hit:
                    k = hit[0]
                    self.state.set_char(None if k == self.state.char_index else k)
            else:
                point = self.nearest_point(pos)
                if point is not None:  # pin the character this point was read as
                    self.state.set_char(ins.char_at(int(ins.point_frames[point])))
        super().mousePressEvent(event)


class NeuronInkView(_InsightInkView):
    """The ink coloured by the selected unit's value at each point (the frame that read it):
    blue negative, white zero, red positive, over a grey outline."""

    def __init__(self, state: RecognitionState, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.header_height = 24
        self.underlay = True
        self.colorbar = (diverging01, ["+1", "0", "-1"], "")
        self.label = ""
        state.selection_changed.connect(self._on_state_changed)
        self.rebuild()

    def recolor(self) -> None:
        st, ins = self.state, self.state.insight
        values, self.label = single_unit(ins.cell(st.layer, st.direction), st.unit, st.quantity)
        self.values = point_values(values, ins.point_frames)  # (N,)
        self.colorbar = (diverging01, ["+1", "0", "-1"], self.label)
        self.set_colors(neuron_colors(self.values, self.segs), 2.6)

    def paint_header(self, p: QPainter) -> None:
        st, ins = self.state, self.state.insight
        p.setPen(TEXT)
        if ins is None:
            p.drawText(QPointF(10, 16), "One unit on the ink")
            return
        s = (f"Unit {st.unit} of layer {st.layer} ({DIRECTION_NAMES[st.direction]}) on the ink"
             f": {self.label}, blue < 0 < red")
        p.drawText(QPointF(10, 16), s)
        extra = self._cursor_text()
        if extra:
            frame = st.cursor.frame
            cell = ins.cell(st.layer, st.direction)
            extra += f": c = {cell.c[frame, st.unit]:+.2f}"
            fm = p.fontMetrics()
            p.setPen(MUTED)
            p.drawText(QPointF(self.width() - fm.horizontalAdvance(extra) - 10, 16), extra)

