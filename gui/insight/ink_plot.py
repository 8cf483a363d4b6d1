"""An ink view for the insight panels: ink points coloured per segment, fitted below a header
strip, reporting the hovered point (what the saliency and single-unit panels draw on)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from gui.insight.blocks import (
    MUTED,
    CachedPicture,
    blank_pixmap,
    paint_colorbar,
    qcolor,
    small_font,
)


class InkView(CachedPicture, QWidget):
    """Ink points (N, 2) and segments (S, 2) coloured per segment, fitted into the widget
    below a header strip. Hovering reports the nearest point through `point_hovered`."""

    point_hovered = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.xy = np.zeros((0, 2))
        self.segs = np.zeros((0, 2), np.int64)
        self._qlines: list = []
        self.header_height = 40
        self._groups: list[tuple[QPen, list[QLineF]]] = []
        self._dots: list[tuple[QPen, list[QPointF]]] = []
        self.underlay = False
        self.colorbar = None
        self.setMouseTracking(True)
        self.setMinimumSize(240, 120)

    def sizeHint(self) -> QSize:
        return QSize(640, 200)

    def set_ink(self, xy: np.ndarray, segs: np.ndarray) -> None:
        self.xy, self.segs = np.asarray(xy, np.float64), np.asarray(segs, np.int64)
        self._groups, self._dots = [], []
        # Qt objects once per line of ink; recolouring only regroups them
        pts = self.xy.tolist()
        self._qlines = [QLineF(*pts[a], *pts[b]) if a != b else QPointF(*pts[a])
                        for a, b in self.segs.tolist()]
        self.invalidate()

    def set_colors(self, rgb: np.ndarray, widths, order: np.ndarray | None = None) -> None:
        """Per-segment colours (S, 3) and pixel widths (S,) or one width; segments of equal
        colour (to 1/64) and width (to 1/4 px) share a pen, pens drawn in `order` of their
        first segment."""
        S = len(self.segs)
        order = np.arange(S) if order is None else np.asarray(order)
        widths = np.broadcast_to(np.asarray(widths, np.float64), (S,))
        q = np.asarray(rgb, np.int64) // 4
        code = (((q[:, 0] * 64 + q[:, 1]) * 64 + q[:, 2]) * 256
                + np.clip(np.round(widths * 4), 0, 255).astype(np.int64))[order]
        _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        groups, dots = [], []
        lines = self._qlines
        for g in np.argsort(first, kind="stable").tolist():
            members = order[inverse == g].tolist()
            s0 = members[0]
            pen = QPen(qcolor(rgb[s0]), float(widths[s0]))
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            segs = [lines[k] for k in members]
            groups.append((pen, [x for x in segs if isinstance(x, QLineF)]))
            pts = [x for x in segs if not isinstance(x, QLineF)]
            if pts:
                dots.append((pen, pts))
        self._groups, self._dots = groups, dots
        self.invalidate()

    def ink_rect(self) -> QRectF:
        right = 70 if self.colorbar else 8
        return QRectF(8, self.header_height, max(self.width() - 8 - right, 10),
                      max(self.height() - self.header_height - 6, 10))

    def transform(self):
        """(scale, dx, dy): widget = scene * scale + (dx, dy)."""
        rect = self.ink_rect()
        if not len(self.xy):
            return 1.0, 0.0, 0.0
        (x0, y0), (x1, y1) = self.xy.min(0), self.xy.max(0)
        w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        s = min((rect.width() - 12) / w, (rect.height() - 12) / h)
        return (s, rect.center().x() - (x0 + x1) / 2 * s, rect.center().y() - (y0 + y1) / 2 * s)

    def nearest_point(self, pos: QPointF, radius_px: float = 24.0) -> int | None:
        if not len(self.xy):
            return None
        s, dx, dy = self.transform()
        scene = np.array([(pos.x() - dx) / s, (pos.y() - dy) / s])
        d = np.hypot(*(self.xy - scene).T)
        k = int(np.argmin(d))
        return k if d[k] * s <= radius_px else None

    def mouseMoveEvent(self, event) -> None:
        k = self.nearest_point(event.position())
        if k is not None:
            self.point_hovered.emit(k)
        super().mouseMoveEvent(event)

    def _render_static(self) -> QPixmap:
        """The coloured ink and the colour bar, drawn once per change or resize."""
        pixmap = blank_pixmap(self)
        p = QPainter(pixmap)
        p.setFont(small_font(self, 1.0))
        if not len(self.xy):
            p.setPen(MUTED)
            p.drawText(self.ink_rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text())
            p.end()
            return pixmap
        s, dx, dy = self.transform()
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.translate(dx, dy)
        p.scale(s, s)
        self.paint_under(p)
        if self.underlay:
            pen = QPen(QColor(205, 208, 214), 4.5)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            for _, lines in self._groups:
                p.drawLines(lines)
        for pen, lines in self._groups:
            p.setPen(pen)
            p.drawLines(lines)
        for pen, pts in self._dots:
            p.setPen(pen)
            p.drawPoints(pts)
        p.restore()
        if self.colorbar is not None:
            self._paint_colorbar(p)
        p.end()
        return pixmap

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        self.paint_cached(p)
        p.setFont(small_font(self, 1.0))
        self.paint_header(p)
        if len(self.xy):
            s, dx, dy = self.transform()
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.translate(dx, dy)
            p.scale(s, s)
            self.paint_over(p)

    def _paint_colorbar(self, p: QPainter) -> None:
        rect = self.ink_rect()
        p.setFont(small_font(self))
        paint_colorbar(p, rect.right() + 16, rect.top() + 16, rect.height() - 20, self.colorbar)

    def segment_lines(self, points: np.ndarray) -> list[QLineF]:
        """Segments whose both ends are in `points` (point indices), in scene units."""
        if not len(points):
            return []
        inside = np.zeros(len(self.xy), bool)
        inside[points] = True
        sel = self.segs[inside[self.segs[:, 0]] & inside[self.segs[:, 1]]]
        return [QLineF(*self.xy[a], *self.xy[b]) for a, b in sel.tolist()]

    def empty_text(self) -> str:
        return "no ink"

    def paint_header(self, p: QPainter) -> None:
        """Title and readouts above the ink (subclasses)."""

    def paint_under(self, p: QPainter) -> None:
        """Drawn below the ink, in scene coordinates (subclasses)."""

    def paint_over(self, p: QPainter) -> None:
        """Drawn above the ink, in scene coordinates (subclasses)."""
