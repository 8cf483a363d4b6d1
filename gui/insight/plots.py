"""Time plots of the insight panels: a heatmap and a line plot over the frames of a line
(with axis, emitted characters, colour bar and the time cursor), over NumPy arrays turned
into QImages."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from gui.insight.blocks import (
    CURSOR,
    GRID,
    MUTED,
    TEXT,
    CachedPicture,
    blank_pixmap,
    paint_colorbar,
    qcolor,
    rgb_image,
    small_font,
)
from gui.insight.model import TimeCursor
from handwriting.figures.arrays import nice_step

# --------------------------------------------------------------------------- time plots


class TimePlot(CachedPicture, QWidget):
    """Something drawn over time steps in `plot_rect()`, with a time axis below, optional
    characters above (at the frames they belong to), a title and the shared cursor.
    Hovering moves the cursor; `leave_clears` resets it to -1 when the mouse leaves."""

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None,
                 leave_clears: bool = False):
        super().__init__(parent)
        self.cursor = cursor if cursor is not None else TimeCursor(self)
        self.cursor.frame_changed.connect(self.update)
        self.leave_clears = leave_clears
        self.title = ""
        self.axis_label = "frame"
        self.n_cols = 0  # time steps along the axis
        self.chars: list = []  # (frame, char[, rgb])
        self.colorbar = None  # (rgb_of, labels, title)
        self.margins = (64, 24, 12, 30)  # left, top, right, bottom
        self.setMouseTracking(True)
        self.setMinimumSize(240, 110)

    def sizeHint(self) -> QSize:
        return QSize(640, 220)

    def plot_rect(self) -> QRectF:
        left, top, right, bottom = self.margins
        top += 26 if self.chars else 0
        right += 62 if self.colorbar else 0
        return QRectF(left, top, max(self.width() - left - right, 10),
                      max(self.height() - top - bottom, 10))

    def x_of(self, t: float, rect: QRectF | None = None) -> float:
        rect = rect or self.plot_rect()
        return rect.left() + (t + 0.5) * rect.width() / max(self.n_cols, 1)

    def frame_at(self, x: float) -> int:
        rect = self.plot_rect()
        t = int((x - rect.left()) / rect.width() * max(self.n_cols, 1))
        return min(max(t, 0), max(self.n_cols - 1, 0))

    def mouseMoveEvent(self, event) -> None:
        if self.n_cols and self.plot_rect().adjusted(0, -30, 0, 0).contains(event.position()):
            self.cursor.set_frame(self.frame_at(event.position().x()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        if self.leave_clears:
            self.cursor.set_frame(-1)
        super().leaveEvent(event)

    def _render_static(self) -> QPixmap:
        """Everything but the cursor, drawn once per data change or resize."""
        pixmap = blank_pixmap(self)
        p = QPainter(pixmap)
        p.setFont(small_font(self))
        rect = self.plot_rect()
        if self.title:
            p.setPen(TEXT)
            p.drawText(QRectF(rect.left(), 2, self.width() - rect.left(), 16),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        if not self.n_cols:
            p.setPen(MUTED)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.empty_text())
        else:
            self.paint_content(p, rect)
            self._paint_axis(p, rect)
            if self.chars:
                self._paint_chars(p, rect)
            if self.colorbar is not None:
                self._paint_colorbar(p, rect)
        p.end()
        return pixmap

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        self.paint_cached(p)
        frame = self.cursor_frame()
        if not self.n_cols or not 0 <= frame < self.n_cols:
            return
        p.setFont(small_font(self))
        rect = self.plot_rect()
        x = self.x_of(frame, rect)
        p.setPen(QPen(CURSOR, 1.5))
        p.drawLine(QPointF(x, rect.top() - 3), QPointF(x, rect.bottom()))
        p.setBrush(CURSOR)
        p.drawPolygon(QPolygonF([QPointF(x - 4, rect.top() - 7), QPointF(x + 4, rect.top() - 7),
                                 QPointF(x, rect.top() - 1)]))
        self.paint_cursor_label(p, rect, frame)

    def cursor_frame(self) -> int:
        return self.cursor.frame

    def empty_text(self) -> str:
        return "nothing yet"

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        raise NotImplementedError

    def paint_cursor_label(self, p: QPainter, rect: QRectF, frame: int) -> None:
        """A readout of the values at the cursor (subclasses)."""

    def _paint_axis(self, p: QPainter, rect: QRectF) -> None:
        p.setPen(GRID)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
        p.setPen(MUTED)
        step = nice_step(self.n_cols, max(int(rect.width() // 60), 2))
        fm = p.fontMetrics()
        for t in range(0, self.n_cols, step):
            x = self.x_of(t, rect)
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 3))
            s = str(t)
            p.drawText(QPointF(x - fm.horizontalAdvance(s) / 2, rect.bottom() + 4 + fm.ascent()), s)
        label = self.axis_label
        y = rect.bottom() + 6 + fm.ascent() + fm.height()
        if label and y <= self.height():
            p.drawText(QPointF(rect.right() - fm.horizontalAdvance(label), y), label)

    def _paint_chars(self, p: QPainter, rect: QRectF) -> None:
        """Each character centred on its frame; one that would overlap its left neighbour
        moves up a row."""
        fm = p.fontMetrics()
        right = [-1e9, -1e9]
        for frame, c, *rgb in self.chars:
            s = "\u00b7" if c == " " else c
            w = fm.horizontalAdvance(s)
            x = self.x_of(frame, rect)
            row = 0 if x - w / 2 > right[0] else (1 if x - w / 2 > right[1] else 0)
            right[row] = x + w / 2 + 1
            p.setPen(qcolor(rgb[0]) if rgb else TEXT)
            p.drawText(QPointF(x - w / 2, rect.top() - 6 - row * (fm.ascent() + 1)), s)

    def _paint_colorbar(self, p: QPainter, rect: QRectF) -> None:
        paint_colorbar(p, rect.right() + 14, rect.top() + 16, rect.height() - 18, self.colorbar)


class HeatmapView(TimePlot):
    """Rows (units, characters) x time as one QImage scaled into the plot; clicking a row
    emits `row_clicked(row)`; `highlight` outlines one row with a label in the margin."""

    row_clicked = Signal(int)

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None,
                 leave_clears: bool = False):
        super().__init__(cursor, parent, leave_clears)
        self.image: QImage | None = None
        self.n_rows = 0
        self.image_cols = 0  # columns the image covers (<= n_cols while streaming)
        self.row_labels: list[tuple[int, str]] = []
        self.highlight: tuple[int, str] | None = None
        self.row_label_color: dict[int, QColor] = {}

    def set_image(self, rgb: np.ndarray | None, n_cols: int | None = None) -> None:
        """(R, C, 3) uint8; the time axis spans `n_cols` (default C) steps."""
        if rgb is None or rgb.size == 0:
            self.image, self.n_rows, self.image_cols = None, 0, 0
            self.n_cols = n_cols or 0
        else:
            self.image = rgb_image(rgb)
            self.n_rows, self.image_cols = rgb.shape[0], rgb.shape[1]
            self.n_cols = max(n_cols or 0, self.image_cols)
        self.invalidate()

    def row_at(self, y: float) -> int | None:
        rect = self.plot_rect()
        if not self.n_rows or not rect.top() <= y < rect.bottom():
            return None
        return min(int((y - rect.top()) / rect.height() * self.n_rows), self.n_rows - 1)

    def mousePressEvent(self, event) -> None:
        row = self.row_at(event.position().y())
        if row is not None and event.button() == Qt.MouseButton.LeftButton:
            self.row_clicked.emit(row)
        super().mousePressEvent(event)

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        if self.image is None:
            return
        w = rect.width() * self.image_cols / max(self.n_cols, 1)
        p.drawImage(QRectF(rect.left(), rect.top(), w, rect.height()), self.image)
        rh = rect.height() / max(self.n_rows, 1)
        fm = p.fontMetrics()
        if self.row_labels:
            # row labels: a smaller font where rows are tight (down to 6.5 pt), then thinned
            font = QFont(p.font())
            fit = font.pointSizeF() * (rh + 2) / max(p.fontMetrics().height(), 1)
            font.setPointSizeF(max(min(font.pointSizeF(), fit), 6.5))
            p.setFont(font)
            lfm = p.fontMetrics()
            every = max(1, int(np.ceil(lfm.height() / max(rh + 2, 1e-6))))
            for r, s in self.row_labels:
                if r % every and not self.row_label_color.get(r):
                    continue
                y = rect.top() + (r + 0.5) * rh
                p.setPen(self.row_label_color.get(r, MUTED))
                p.drawText(QPointF(rect.left() - 6 - lfm.horizontalAdvance(s),
                                   y + lfm.ascent() / 2 - 1), s)
            p.setFont(small_font(self))
        if self.highlight is not None:
            r, s = self.highlight
            y = rect.top() + r * rh
            p.setPen(QPen(CURSOR, 1.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(rect.left() - 1, y - 1, rect.width() + 2, max(rh, 1) + 2))
            if s:  # a pointer and the row's name in the margin
                p.setBrush(CURSOR)
                cy = y + rh / 2
                p.drawPolygon(QPolygonF([QPointF(rect.left() - 10, cy - 4),
                                         QPointF(rect.left() - 10, cy + 4),
                                         QPointF(rect.left() - 3, cy)]))
                p.setPen(TEXT)
                p.drawText(QPointF(rect.left() - 12 - fm.horizontalAdvance(s),
                                   cy + fm.ascent() / 2 - 1), s)


class LinePlotView(TimePlot):
    """Lines over time with y in `y_range`; `series` are (values, QColor, width); `peaks` are
    (t, y, text, QColor) labels and `marks` (t, QColor) ticks under the axis."""

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None,
                 leave_clears: bool = False):
        super().__init__(cursor, parent, leave_clears)
        self.series: list[tuple[np.ndarray, QColor, float]] = []
        self.peaks: list = []
        self.marks: list = []
        self.y_range = (0.0, 1.0)
        self.y_ticks = (0.0, 0.5, 1.0)
        self.skip_floor = False  # leave out stretches lying on the lower bound (CTC spikes)

    def y_of(self, v, rect: QRectF):
        lo, hi = self.y_range
        return rect.bottom() - (np.clip(v, lo, hi) - lo) / (hi - lo) * rect.height()

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        fm = p.fontMetrics()
        for v in self.y_ticks:
            y = float(self.y_of(v, rect))
            p.setPen(GRID)
            p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            p.setPen(MUTED)
            s = f"{v:g}"
            p.drawText(QPointF(rect.left() - 5 - fm.horizontalAdvance(s), y + fm.ascent() / 2 - 1), s)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        lo = self.y_range[0]
        for values, color, width in self.series:
            v = np.asarray(values, np.float64)
            n = len(v)
            if n == 0:
                continue
            xs = (rect.left() + (np.arange(n) + 0.5) * rect.width() / max(self.n_cols, 1)).tolist()
            ys = self.y_of(v, rect).tolist()
            pen = QPen(color, width)
            pen.setJoinStyle(Qt.PenJoinStyle.BevelJoin)
            p.setPen(pen)
            if not self.skip_floor or n < 2:
                p.drawPolyline(QPolygonF([QPointF(x, y) for x, y in zip(xs, ys, strict=True)]))
                continue
            # thick antialiased lines cost ~30 us a segment: draw only the segments off the floor
            up = np.maximum(v[:-1], v[1:]) > lo + 2e-3 * (self.y_range[1] - lo)
            starts = np.flatnonzero(up & ~np.r_[False, up[:-1]])
            ends = np.flatnonzero(up & ~np.r_[up[1:], False]) + 1
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                p.drawPolyline(QPolygonF([QPointF(xs[k], ys[k]) for k in range(a, b + 1)]))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for t, v, s, color in self.peaks:
            x, y = self.x_of(t, rect), float(self.y_of(v, rect))
            p.setPen(color)
            p.drawText(QPointF(x - fm.horizontalAdvance(s) / 2, max(y - 3, rect.top() + fm.ascent())), s)
        for t, color in self.marks:
            x = self.x_of(t, rect)
            p.setPen(QPen(color, 2))
            p.drawLine(QPointF(x, rect.bottom() - 6), QPointF(x, rect.bottom()))
