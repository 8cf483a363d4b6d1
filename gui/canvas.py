"""`InkCanvas`: draws an `InkDocument`'s vector ink and turns mouse and tablet input into
strokes. It keeps no copy of the ink and no raster buffer: every repaint reads the model."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPointingDevice,
    QResizeEvent,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from handwriting.document import DocumentEvent, InkDocument
from handwriting.ink import Stroke

BACKGROUND = QColor("#ffffff")
INK = QColor("#1f2933")
HINT = QColor("#8a94a0")
PEN_WIDTH_PX = 2.6  # on screen, whatever the zoom: ink files use very different units
ERASE_RADIUS_PX = 8.0
MIN_ZOOM, MAX_ZOOM = 1e-3, 1e3
FIT_MARGIN_PX = 32.0
WHEEL_ZOOM_PER_NOTCH = 1.2
WHEEL_PAN_PER_NOTCH_PX = 48.0


def pressure_width(pressure: float) -> float:
    """Pen width in pixels for a pressure in [0, 1]: thin when light, bold when pressed."""
    return PEN_WIDTH_PX * (0.5 + 0.9 * min(max(pressure, 0.0), 1.0))


class InkCanvas(QWidget):
    """A view of `document`: left button or pen draws, right button or the pen's eraser end
    erases a stroke, Ctrl+wheel zooms about the cursor, wheel and middle drag pan."""

    view_changed = Signal()  # zoom or pan changed

    def __init__(self, document: InkDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self._zoom = 1.0
        self._pan = QPointF(0.0, 0.0)  # widget position of scene (0, 0)
        self._auto_fit = False  # refit on resize until the user zooms or pans
        self._panning_from: QPointF | None = None
        self._erasing = False
        self._clock = QElapsedTimer()
        self._clock.start()
        # Painter paths per committed stroke, keyed by id() and holding the stroke so that
        # the id cannot be reused while the entry lives; pruned whenever the ink changes.
        self._paths: dict[int, tuple[Stroke, QPainterPath]] = {}

        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(200, 120)
        unsubscribe = document.subscribe(self._on_document_event)
        # The document may outlive this widget: stop calling into a deleted C++ object.
        self.destroyed.connect(lambda *_: unsubscribe())

    def sizeHint(self) -> QSize:
        return QSize(900, 420)

    # ------------------------------------------------------------------ view transform
    @property
    def zoom(self) -> float:
        return self._zoom

    def view_transform(self) -> QTransform:
        """Scene (ink units) -> widget pixels."""
        return QTransform(self._zoom, 0.0, 0.0, self._zoom, self._pan.x(), self._pan.y())

    def to_scene(self, pos: QPointF) -> QPointF:
        return (pos - self._pan) / self._zoom

    def set_view(self, zoom: float, pan: QPointF) -> None:
        self._zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._pan = QPointF(pan)
        self.update()
        self.view_changed.emit()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor`, keeping the scene point under `anchor` (default: centre) fixed."""
        self._auto_fit = False
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else anchor
        scene = self.to_scene(anchor)
        zoom = min(max(self._zoom * factor, MIN_ZOOM), MAX_ZOOM)
        self.set_view(zoom, anchor - scene * zoom)

    def pan_by(self, dx: float, dy: float) -> None:
        self._auto_fit = False
        self.set_view(self._zoom, self._pan + QPointF(dx, dy))

    @Slot()
    def on_zoom_in(self) -> None:
        self.zoom_by(WHEEL_ZOOM_PER_NOTCH)

    @Slot()
    def on_zoom_out(self) -> None:
        self.zoom_by(1 / WHEEL_ZOOM_PER_NOTCH)

    @Slot()
    def on_fit(self) -> None:
        self.fit_to_ink()

    @Slot()
    def on_actual_size(self) -> None:
        """Back to one ink unit per pixel with the origin at the top left."""
        self._auto_fit = False
        self.set_view(1.0, QPointF(0.0, 0.0))

    def fit_to_ink(self) -> None:
        """Scale and centre the ink to fill the widget; keeps it fitted on resize until the
        user zooms or pans."""
        ink = self.document.ink
        if ink.is_empty:
            self._auto_fit = False
            self.set_view(1.0, QPointF(0.0, 0.0))
            return
        x0, y0, x1, y1 = ink.bounds()
        w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        avail_w = max(self.width() - 2 * FIT_MARGIN_PX, 1.0)
        avail_h = max(self.height() - 2 * FIT_MARGIN_PX, 1.0)
        zoom = min(avail_w / w, avail_h / h)
        centre = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
        self.set_view(zoom, QPointF(self.width() / 2, self.height() / 2) - centre * zoom)
        self._auto_fit = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_ink()

    # ------------------------------------------------------------------ model -> view
    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "cleared":
            self._auto_fit = False
        if event.kind == "changed":
            live = {id(s) for s in self.document.strokes}
            self._paths = {k: v for k, v in self._paths.items() if k in live}
        self.update()

    def _path(self, stroke: Stroke) -> QPainterPath:
        cached = self._paths.get(id(stroke))
        if cached is not None and cached[0] is stroke:
            return cached[1]
        path = _polyline(stroke)
        self._paths[id(stroke)] = (stroke, path)
        return path

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        pending = self.document.pending_stroke()
        if self.document.ink.is_empty and pending is None:
            self._paint_hint(painter)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setTransform(self.view_transform())
        for stroke in self.document.strokes:
            self._paint_stroke(painter, stroke, self._path(stroke))
        if pending is not None:
            self._paint_stroke(painter, pending, _polyline(pending))

    def _paint_stroke(self, painter: QPainter, stroke: Stroke, path: QPainterPath) -> None:
        if stroke.pressure is None or len(stroke) == 1:
            p = 0.5 if stroke.pressure is None else float(stroke.pressure[0])
            painter.setPen(_pen(pressure_width(p)))
            if len(stroke) == 1:
                painter.drawPoint(QPointF(*map(float, stroke.xy[0])))
            else:
                painter.drawPath(path)
            return
        # Pressure varies along the stroke: one segment per pen width, round caps hide joins.
        xy, pr = stroke.xy.tolist(), stroke.pressure.tolist()
        for i in range(len(xy) - 1):
            painter.setPen(_pen(pressure_width((pr[i] + pr[i + 1]) / 2)))
            painter.drawLine(QPointF(*xy[i]), QPointF(*xy[i + 1]))

    def _paint_hint(self, painter: QPainter) -> None:
        painter.setPen(HINT)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        rect = QRectF(self.rect())
        painter.drawText(rect.adjusted(0, 0, 0, -28), Qt.AlignmentFlag.AlignCenter,
                         "Write here with a mouse or pen")
        painter.setFont(self.font())
        painter.drawText(rect.adjusted(0, 36, 0, 0), Qt.AlignmentFlag.AlignCenter,
                         "Right-click erases a stroke  ·  Ctrl+wheel zooms  ·  "
                         "wheel or middle-drag pans")

    # ------------------------------------------------------------------ view -> model
    def _now(self) -> float:
        return self._clock.nsecsElapsed() / 1e9

    def _erase_at(self, pos: QPointF) -> None:
        scene = self.to_scene(pos)
        index = self.document.stroke_at(scene.x(), scene.y(), ERASE_RADIUS_PX / self._zoom)
        if index is not None:
            self.document.erase_stroke(index)

    def _press(self, pos: QPointF, pressure: float | None) -> None:
        scene = self.to_scene(pos)
        self.document.begin_stroke(scene.x(), scene.y(), self._now(), pressure)

    def _move(self, pos: QPointF, pressure: float | None) -> None:
        scene = self.to_scene(pos)
        self.document.add_point(scene.x(), scene.y(), self._now(), pressure)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.LeftButton:
            self._press(event.position(), None)
        elif button == Qt.MouseButton.RightButton:
            self._erasing = True
            self._erase_at(event.position())
        elif button == Qt.MouseButton.MiddleButton:
            self._panning_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        else:
            super().mousePressEvent(event)
            return
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._panning_from is not None:
            delta = pos - self._panning_from
            self._panning_from = pos
            self.pan_by(delta.x(), delta.y())
        elif self._erasing:
            self._erase_at(pos)
        elif self.document.is_drawing:
            self._move(pos, None)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.LeftButton and self.document.is_drawing:
            self._move(event.position(), None)
            self.document.end_stroke()
        elif button == Qt.MouseButton.RightButton:
            self._erasing = False
        elif button == Qt.MouseButton.MiddleButton:
            self._panning_from = None
            self.setCursor(Qt.CursorShape.CrossCursor)
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        # Accepting stops Qt from also synthesizing mouse events for the pen.
        pos, kind = event.position(), event.type()
        eraser = event.pointerType() == QPointingDevice.PointerType.Eraser
        pressure = float(event.pressure())
        if kind == QTabletEvent.Type.TabletPress:
            if eraser:
                self._erasing = True
                self._erase_at(pos)
            else:
                self._press(pos, pressure)
        elif kind == QTabletEvent.Type.TabletMove:
            if self._erasing:
                self._erase_at(pos)
            elif self.document.is_drawing:
                self._move(pos, pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            if self._erasing:
                self._erasing = False
            elif self.document.is_drawing:
                # No point here: a lifted pen reports zero pressure, which would taper the end.
                self.document.end_stroke()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            notches = delta.y() / 120 if delta.y() else delta.x() / 120
            self.zoom_by(WHEEL_ZOOM_PER_NOTCH ** notches, event.position())
        else:
            pixels = event.pixelDelta()
            if not pixels.isNull():
                dx, dy = float(pixels.x()), float(pixels.y())
            else:
                dx = delta.x() / 120 * WHEEL_PAN_PER_NOTCH_PX
                dy = delta.y() / 120 * WHEEL_PAN_PER_NOTCH_PX
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                dx, dy = dy, dx
            self.pan_by(dx, dy)
        event.accept()


def _pen(width: float) -> QPen:
    # Cosmetic: the width is in screen pixels, so zooming out of a whiteboard-sized IAM-OnDB
    # line (thousands of units wide) still shows legible strokes.
    pen = QPen(INK, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    pen.setCosmetic(True)
    return pen


def _polyline(stroke: Stroke) -> QPainterPath:
    xy = stroke.xy.tolist()
    path = QPainterPath(QPointF(*xy[0]))
    for x, y in xy[1:]:
        path.lineTo(x, y)
    return path


