"""`InkCanvas`: view -> model (mouse, tablet, wheel) and model -> view (repaint from ink)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice, QTabletEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from handwriting.ink import Ink
from tests.gui.helpers import dark_pixels, drag, rgb, zigzag

pytestmark = pytest.mark.gui


def test_mouse_drag_draws_a_stroke_with_increasing_timestamps(canvas, document):
    points = zigzag(40, 100)
    drag(canvas, points)
    assert len(document) == 1 and not document.is_drawing
    stroke = document.strokes[0]
    # At zoom 1 with no pan, scene coordinates are widget pixels.
    np.testing.assert_allclose(stroke.xy, points)
    assert stroke.pressure is None
    assert np.all(np.diff(stroke.t) > 0)

    drag(canvas, zigzag(40, 200))
    assert len(document) == 2
    assert document.strokes[1].t[0] > stroke.t[-1]


def test_canvas_repaints_from_the_model(canvas, document):
    assert dark_pixels(canvas) == 0
    document.replace(Ink.from_strokes([[(0, 0), (100, 0), (100, 50)], [(0, 60), (100, 60)]]))
    assert dark_pixels(canvas) > 100
    document.undo()  # nothing to undo after replace
    document.clear()
    assert dark_pixels(canvas) == 0
    document.undo()
    assert dark_pixels(canvas) > 100


def test_fit_brings_whiteboard_sized_ink_into_view(canvas, document):
    # A whiteboard-sized line (IAM-OnDB units) must fit the widget, not run off it.
    document.replace(Ink.from_strokes([[(1000, 800), (7000, 1400)]]))
    canvas.fit_to_ink()
    assert canvas.zoom < 0.1
    top_left = canvas.view_transform().map(QPointF(1000, 800))
    bottom_right = canvas.view_transform().map(QPointF(7000, 1400))
    assert 0 <= top_left.x() < bottom_right.x() <= canvas.width()
    assert 0 <= top_left.y() < bottom_right.y() <= canvas.height()

    # Still fitted after a resize, until the user moves the view.
    canvas.resize(900, 300)
    assert canvas.view_transform().map(QPointF(7000, 1400)).x() > 800
    canvas.pan_by(10, 0)
    zoom = canvas.zoom
    canvas.resize(480, 320)
    assert canvas.zoom == zoom


def send_wheel(widget, pos: QPointF, dy: int, modifiers=Qt.KeyboardModifier.NoModifier):
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_ctrl_wheel_zooms_about_the_cursor_and_drawing_follows(canvas, document):
    anchor = QPointF(100, 100)
    send_wheel(canvas, anchor, 240, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom == pytest.approx(1.44)
    assert canvas.to_scene(anchor).x() == pytest.approx(100)
    drag(canvas, [(100, 100), (172, 100)])
    np.testing.assert_allclose(document.strokes[0].xy, [[100, 100], [150, 100]], atol=1e-3)


def test_wheel_and_middle_drag_pan(canvas):
    send_wheel(canvas, QPointF(50, 50), -120)
    assert canvas.to_scene(QPointF(0, 0)).y() == pytest.approx(48)
    drag(canvas, [(200, 200), (150, 180)], button=Qt.MouseButton.MiddleButton)
    assert canvas.to_scene(QPointF(0, 0)).x() == pytest.approx(50)
    assert canvas.zoom == 1.0


def test_right_click_erases_the_stroke_under_the_cursor(canvas, document):
    drag(canvas, [(20, 50), (200, 50)])
    drag(canvas, [(20, 150), (200, 150)])
    drag(canvas, [(100, 154), (100, 154)], button=Qt.MouseButton.RightButton)
    assert len(document) == 1 and document.strokes[0].xy[0, 1] == 50
    document.undo()
    assert len(document) == 2


def send_tablet(widget, kind, pos: QPointF, pressure: float, device) -> None:
    buttons = (Qt.MouseButton.NoButton if kind == QTabletEvent.Type.TabletRelease
               else Qt.MouseButton.LeftButton)
    event = QTabletEvent(kind, device, pos, widget.mapToGlobal(pos), pressure, 0.0, 0.0, 0.0,
                         0.0, 0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                         buttons)
    QApplication.sendEvent(widget, event)


def test_tablet_pen_records_pressure(canvas, document):
    pen = QPointingDevice("test pen", 4242, QPointingDevice.DeviceType.Stylus,
                          QPointingDevice.PointerType.Pen,
                          QPointingDevice.Capability.Position
                          | QPointingDevice.Capability.Pressure, 1, 1)
    T = QTabletEvent.Type
    send_tablet(canvas, T.TabletPress, QPointF(30, 40), 0.2, pen)
    for i, p in enumerate((0.4, 0.7, 0.9), start=1):
        send_tablet(canvas, T.TabletMove, QPointF(30 + 20 * i, 40), p, pen)
    send_tablet(canvas, T.TabletRelease, QPointF(90, 40), 0.0, pen)
    stroke = document.strokes[0]
    np.testing.assert_allclose(stroke.pressure, [0.2, 0.4, 0.7, 0.9], atol=1e-6)
    assert dark_pixels(canvas) > 50


def fresh_rendering(qtbot, canvas) -> np.ndarray:
    """What a new canvas at the same view draws from `canvas`'s document (no caches)."""
    from gui.canvas import InkCanvas

    other = InkCanvas(canvas.document)
    other.resize(canvas.size())
    qtbot.addWidget(other)
    other.set_view(canvas.zoom, canvas.view_transform().map(QPointF(0, 0)))
    return rgb(other)


def test_render_caches_always_match_a_fresh_rendering(qtbot, canvas, document):
    """Appended strokes are drawn onto the cached picture, anything else redraws it: either
    way the canvas shows exactly what a new canvas would draw from the document."""

    def fresh() -> np.ndarray:
        return fresh_rendering(qtbot, canvas)

    drag(canvas, zigzag(40, 100))
    drag(canvas, zigzag(40, 200))  # appended
    np.testing.assert_array_equal(rgb(canvas), fresh())
    document.erase_stroke(0)  # not an append
    np.testing.assert_array_equal(rgb(canvas), fresh())
    document.undo()
    canvas.zoom_by(1.5)
    np.testing.assert_array_equal(rgb(canvas), fresh())
    document.set_preview(Ink.from_strokes([[(10, 10), (60, 40)]]))
    np.testing.assert_array_equal(rgb(canvas), fresh())
    document.set_preview(None)
    np.testing.assert_array_equal(rgb(canvas), fresh())


def test_a_big_page_is_redrawn_over_frames_after_a_zoom(qtbot, canvas, document):
    """After a zoom, committed ink of more than `REDRAW_POINTS` points is redrawn a part a
    frame (the canvas asks for the frames itself), strokes appended meanwhile included, and
    ends up exactly as a fresh canvas draws it."""
    from gui.painting import REDRAW_POINTS

    rows = [[(10 + 4 * i, 20 + 9 * r + (i % 3)) for i in range(100)] for r in range(30)]
    document.replace(Ink.from_strokes(rows))  # 3,000 points a grab would draw at once
    assert document.ink.num_points > REDRAW_POINTS
    rgb(canvas)
    canvas.zoom_by(0.7)
    canvas.repaint()
    assert canvas.painter.redrawing  # the first frame drew a part
    document.add_stroke(Ink.from_strokes([[(30, 300), (200, 310)]]).strokes[0])
    qtbot.waitUntil(lambda: not canvas.painter.redrawing)  # no grab: the canvas went on
    np.testing.assert_array_equal(rgb(canvas), fresh_rendering(qtbot, canvas))


def test_strokes_are_painted_as_curves_through_their_points():
    """Round letters look round on the canvas: one cubic per segment, through every point."""
    import numpy as np
    from PySide6.QtGui import QPainterPath

    from gui.painting import polyline
    from handwriting.ink import Stroke

    a = np.linspace(0, 2 * np.pi, 11)
    xy = np.stack([100 * np.cos(a), 100 * np.sin(a)], 1).astype(np.float32)
    path = polyline(Stroke(xy, np.arange(11) * 0.01))
    kinds = [path.elementAt(i).type for i in range(path.elementCount())]
    assert kinds.count(QPainterPath.ElementType.CurveToElement) == 10
    ends = [(path.elementAt(i).x, path.elementAt(i).y) for i in range(3, path.elementCount(), 3)]
    np.testing.assert_allclose(ends, xy[1:], atol=1e-3)
    mid = path.pointAtPercent(0.55)  # away from the ends, between two points
    assert abs(np.hypot(mid.x(), mid.y()) - 100) < 1.0  # a chord would be ~5 units inside
