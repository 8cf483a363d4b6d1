"""The insight panels' painting blocks: colours and fonts, NumPy RGB as a QImage, a colour
bar, a cached picture under a moving cursor, a repaint throttle, and exporting any panel as
PNG or SVG. Plain QPainter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFileDialog, QWidget

TEXT = QColor(40, 44, 52)
MUTED = QColor(120, 126, 136)
GRID = QColor(200, 204, 210)
CURSOR = QColor(20, 20, 20)
SELECTED = QColor(214, 39, 40)
REPAINT_MS = 33  # streamed panels repaint at most ~30 times a second


def qcolor(rgb) -> QColor:
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))


def rgb_image(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 -> a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def small_font(widget: QWidget, scale: float = 0.9) -> QFont:
    font = QFont(widget.font())
    font.setPointSizeF(max(font.pointSizeF() * scale, 6.5))
    return font


def export_widget(widget: QWidget, path: str | Path) -> None:
    """Save what `widget` shows: .png via `grab`, .svg via QSvgGenerator (heatmaps become
    embedded images, lines and text stay vectors). Raises ValueError or OSError."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".png":
        if not widget.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return
    if ext != ".svg":
        raise ValueError(f"export to .png or .svg, got {path.name!r}")
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(widget.size())
    gen.setViewBox(QRectF(0, 0, widget.width(), widget.height()))
    gen.setTitle(widget.windowTitle() or type(widget).__name__)
    painter = QPainter(gen)
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    if not path.is_file():
        raise OSError(f"could not write {path}")


def add_export_action(widget: QWidget) -> QAction:
    """'Export panel…' in the widget's context menu."""
    action = QAction("Export panel…", widget)

    def export() -> None:
        name, _ = QFileDialog.getSaveFileName(widget, "Export panel", f"{type(widget).__name__}.png",
                                              "PNG image (*.png);;SVG image (*.svg)")
        if name:
            export_widget(widget, name)

    action.triggered.connect(export)
    widget.addAction(action)
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return action


def paint_colorbar(p: QPainter, x: float, y: float, height: float, colorbar) -> None:
    """A vertical bar from `rgb_of(1)` (top) to `rgb_of(0)`, at most 150 px tall, labels
    spread down its right side and the title above; colorbar = (rgb_of, labels, title)."""
    rgb_of, labels, title = colorbar
    h = int(min(height, 150))
    if h < 12:
        return
    p.drawImage(QPointF(x, y), rgb_image(rgb_of(np.linspace(1.0, 0.0, h))[:, None, :].repeat(10, 1)))
    p.setPen(GRID)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(x - 0.5, y - 0.5, 11, h + 1))
    p.setPen(MUTED)
    fm = p.fontMetrics()
    for k, s in enumerate(labels):
        p.drawText(QPointF(x + 14, y + k * (h - 1) / max(len(labels) - 1, 1) + fm.ascent() / 2 - 1), s)
    p.drawText(QPointF(x - 4, y - fm.ascent() / 2 - 4), title)  # clear of the top label


class CachedPicture:
    """Mixin for widgets whose picture changes rarely but whose overlay (a cursor) moves
    often: `_render_static()` is redrawn into a pixmap only after `invalidate()` or a
    resize, and `paint_cached(painter)` puts it on screen."""

    _static: QPixmap | None = None
    _static_key = None

    def invalidate(self) -> None:
        """The data changed: redraw the picture at the next paint."""
        self._static = None
        self.update()

    def paint_cached(self, p: QPainter) -> None:
        key = (self.width(), self.height(), self.devicePixelRatioF())
        if self._static is None or self._static_key != key:
            self._static, self._static_key = self._render_static(), key
        p.drawPixmap(0, 0, self._static)


def blank_pixmap(widget: QWidget) -> QPixmap:
    dpr = widget.devicePixelRatioF()
    pixmap = QPixmap(max(round(widget.width() * dpr), 1), max(round(widget.height() * dpr), 1))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.white)
    return pixmap


class Throttle:
    """Calls `fn` at most every `ms` milliseconds, once after a burst of `poke`s."""

    def __init__(self, parent: QWidget, fn, ms: int = REPAINT_MS):
        self.timer = QTimer(parent)
        self.timer.setSingleShot(True)
        self.timer.setInterval(ms)
        self.timer.timeout.connect(fn)

    def poke(self) -> None:
        if not self.timer.isActive():
            self.timer.start()
