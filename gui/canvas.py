"""`InkCanvas`: draws an `InkDocument`'s vector ink and turns mouse and tablet input into
strokes. It keeps no copy of the ink and no raster buffer: every repaint reads the model
(committed strokes, the pending stroke, the preview of typed text being written, and the
transcript for colour-coding ink by character). Colours come from the widget's palette, so
light and dark themes both work."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPointingDevice,
    QResizeEvent,
    QTabletEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from gui.painting import InkPainter, bounds_of
from handwriting.document import InkDocument
from handwriting.edits import DocumentEvent
from handwriting.ink import Ink

ERASE_RADIUS_PX = 8.0
MIN_ZOOM, MAX_ZOOM = 1e-3, 1e3
FIT_MARGIN_PX = 32.0
WHEEL_ZOOM_PER_NOTCH = 1.2
WHEEL_PAN_PER_NOTCH_PX = 48.0


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
        self.painter = InkPainter(document)

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

    @property
    def auto_fit(self) -> bool:
        """The view follows the ink (after a fit, until the user zooms or pans)."""
        return self._auto_fit

    def fit_to_ink(self, headroom: float = 0.0) -> None:
        """Scale and centre the ink (with the preview) to fill the widget, leaving `headroom`
        (a fraction of the ink's size) free to the right and below for ink still coming;
        keeps it fitted on resize until the user zooms or pans."""
        box = bounds_of(self.document.ink, self.document.preview)
        if box is None:
            self._auto_fit = False
            self.set_view(1.0, QPointF(0.0, 0.0))
            return
        x0, y0, x1, y1 = box
        x1, y1 = x1 + headroom * (x1 - x0), y1 + headroom * (y1 - y0)
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
    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the widget shows, in ink units."""
        return QRectF(self.to_scene(QPointF(0, 0)),
                      self.to_scene(QPointF(self.width(), self.height())))

    def ensure_visible(self, ink: Ink, headroom: float = 0.0) -> None:
        """Refit the view (committed ink plus preview) when `ink` leaves the visible area;
        never while a stroke is being drawn (the paper must not move under the pen)."""
        if not ink.is_empty:
            self.ensure_box_visible(ink.bounds(), headroom)

    def ensure_box_visible(self, box: tuple[float, float, float, float],
                           headroom: float = 0.0) -> None:
        """`ensure_visible` for ink with the bounds (x0, y0, x1, y1); an empty box (x1 < x0)
        needs no room."""
        x0, y0, x1, y1 = map(float, box)
        if x1 < x0 or y1 < y0 or self.document.is_drawing:
            return
        if not self.visible_scene_rect().contains(QRectF(x0, y0, x1 - x0, y1 - y0)):
            self.fit_to_ink(headroom)

    @property
    def color_by_char(self) -> bool:
        return self.painter.color_by_char

    def set_color_by_char(self, on: bool) -> None:
        """Draw each recognized character's ink in its own colour."""
        self.painter.color_by_char = bool(on)
        self.update()

    def set_highlight(self, line: int | None, char: int | None) -> None:
        """Mark the ink points that character `char` of transcript line `line` was read from
        (None clears the mark)."""
        self.painter.set_highlight(line, char)
        self.update()

    def highlighted_points(self) -> int:
        return sum(len(idx) for _, idx in self.painter.highlight.values())

    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "cleared":
            self._auto_fit = False
        if event.kind == "changed" or (event.kind == "preview_changed"
                                       and self.document.preview is None):
            self.painter.prune()
        if event.kind == "transcript_changed":
            self.painter.rebuild_char_map()
            self.painter.highlight = {}
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.Base))
        doc = self.document
        if doc.ink.is_empty and not doc.is_drawing and doc.preview is None:
            self._paint_hint(painter)
            return
        if not self.painter.paint(painter, self.size(), self.devicePixelRatioF(),
                                  self.view_transform(), palette):
            self.update()  # the ink is being redrawn for a new view: the next part next frame

    def _paint_hint(self, painter: QPainter) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
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


