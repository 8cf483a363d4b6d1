"""Input and pixel helpers shared by the GUI tests."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest


def drag(widget, points, button=Qt.MouseButton.LeftButton, delay_ms: int = 2) -> None:
    """Press at the first point, move through the rest, release at the last (widget pixels)."""
    pts = [QPoint(round(x), round(y)) for x, y in points]
    QTest.mousePress(widget, button, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(widget, p, delay_ms)
    QTest.mouseRelease(widget, button, Qt.KeyboardModifier.NoModifier, pts[-1], delay_ms)


def zigzag(x0: float, y0: float, n: int = 8, step: float = 12.0) -> list[tuple[float, float]]:
    return [(x0 + step * i, y0 + (10 if i % 2 else -10)) for i in range(n)]


def dark_pixels(widget) -> int:
    """How many pixels of the widget's rendering are ink-dark."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rgb = rows.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3]
    return int((rgb.max(axis=2) < 128).sum())
