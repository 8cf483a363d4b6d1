"""Input and pixel helpers shared by the GUI tests."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from handwriting.ink import Ink


def drag(widget, points, button=Qt.MouseButton.LeftButton, delay_ms: int = 2) -> None:
    """Press at the first point, move through the rest, release at the last (widget pixels)."""
    pts = [QPoint(round(x), round(y)) for x, y in points]
    QTest.mousePress(widget, button, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(widget, p, delay_ms)
    QTest.mouseRelease(widget, button, Qt.KeyboardModifier.NoModifier, pts[-1], delay_ms)


def zigzag(x0: float, y0: float, n: int = 8, step: float = 12.0) -> list[tuple[float, float]]:
    return [(x0 + step * i, y0 + (10 if i % 2 else -10)) for i in range(n)]


def line_strokes(ink: Ink, left: float, top: float, height: float) -> list[np.ndarray]:
    """The strokes of `ink` scaled to `height` pixels and moved to (`left`, `top`), as
    widget pixel polylines without repeated points."""
    x0, y0, _, y1 = ink.bounds()
    k = height / max(y1 - y0, 1e-6)
    out = []
    for s in ink.strokes:
        xy = np.round((s.xy - (x0, y0)) * k + (left, top))
        keep = np.r_[True, np.any(np.diff(xy, axis=0) != 0, axis=1)]
        out.append(xy[keep])
    return out


def draw_ink(widget, ink: Ink, left: float = 30, top: float = 60, height: float = 60) -> None:
    """Write `ink` onto `widget` with mouse drags, stroke by stroke."""
    for xy in line_strokes(ink, left, top, height):
        drag(widget, xy.tolist(), delay_ms=1)


def dark_pixels(widget) -> int:
    """How many pixels of the widget's rendering are ink-dark."""
    return int((rgb(widget).max(axis=2) < 100).sum())  # the hint text is mid-grey


def rgb(widget) -> np.ndarray:
    """The widget's rendering as an (H, W, 3) uint8 array."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    bgra = rows.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width()]
    return bgra[..., 2::-1].copy()  # BGRA in memory -> RGB
