"""What `python -m gui.bench` drives the app with and measures it by: handwriting lines as a
mouse draws them, waiting the way an idle app waits, and clocks of the GUI thread."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, QTimer
from PySide6.QtWidgets import QApplication

from handwriting.ink import Ink, Stroke

BUSY_TEXT = ("Handwriting is a trace of motion. " * 6).strip()
MOVE_MS = 8


def hershey_line(text: str) -> Ink:
    """`text` in a single-stroke Hershey script font (pip install hershey-fonts), else a
    deterministic cursive-like scribble of about the same length."""
    try:
        from HersheyFonts import HersheyFonts
    except ImportError:
        from handwriting.bench import scribble_line

        return scribble_line(points=600, stroke_points=30)
    font = HersheyFonts()
    font.load_default_font("scripts")
    strokes = [np.array(s, np.float64) for s in font.strokes_for_text(text)]
    return Ink(tuple(Stroke.from_xy(s) for s in strokes if len(s)))


def pixel_strokes(ink: Ink, left: float, top: float, height: float) -> list[list[QPoint]]:
    """Strokes scaled to `height` pixels at (left, top), densified to ~3 px steps."""
    x0, y0, _, y1 = ink.bounds()
    k = height / max(y1 - y0, 1e-6)
    out = []
    for s in ink.strokes:
        xy = (s.xy - (x0, y0)) * k + (left, top)
        dense = [xy[0]]
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            n = max(1, int(np.hypot(*(b - a)) // 3))
            dense += [a + (b - a) * (i / n) for i in range(1, n + 1)]
        pts = [QPoint(round(x), round(y)) for x, y in dense]
        out.append([p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]])
    return out


class PaintClock(QObject):
    """Timestamps of paint events of the widgets it watches, on the wall clock (`times`) and
    on the GUI thread's CPU clock (`cpu`: what the thread itself spent between two paints,
    without the time it waited for a core or the GIL, which a busy machine stretches)."""

    def __init__(self, *widgets):
        super().__init__()
        self.times: dict[QObject, list[float]] = {w: [] for w in widgets}
        self.cpu: dict[QObject, list[float]] = {w: [] for w in widgets}
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and obj in self.times:
            self.times[obj].append(time.perf_counter())
            self.cpu[obj].append(time.thread_time())
        return False


def idle_for(ms: float) -> None:
    """Run the event loop for `ms` like an idle app does: blocked waiting for events, the
    GIL free for the workers (a processEvents() spin would starve them)."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, round(ms)), loop.quit)
    loop.exec()


def wait(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not condition() and time.perf_counter() < deadline:
        idle_for(1)
    return condition()


def canvas_ink(strokes: list[list[QPoint]]) -> Ink:
    """The ink the canvas records for `strokes`: a point per mouse move, MOVE_MS apart."""
    out, t = [], 0.0
    for pts in strokes:
        xy = np.array([(p.x(), p.y()) for p in pts], np.float32)
        out.append(Stroke.from_xy(xy, MOVE_MS / 1000, t))
        t += MOVE_MS / 1000 * (len(pts) + 20)  # a pen-up between strokes
    return Ink(tuple(out))


def spread(ms: list[float]) -> dict:
    """{p50, p95, max} of milliseconds, to 0.1 ms."""
    a = np.array(ms) if ms else np.array([float("nan")])
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p95": round(float(np.percentile(a, 95)), 1), "max": round(float(a.max()), 1)}


def gui_thread_ms(update) -> tuple[float, float]:
    """Wall and CPU milliseconds of the GUI thread for `update()` and the events it posted
    (layouts, deferred paints); what was pending before is handled first, untimed."""
    app = QApplication.instance()
    app.processEvents()
    t0, c0 = time.perf_counter(), time.thread_time()
    update()
    app.processEvents()
    return 1000 * (time.perf_counter() - t0), 1000 * (time.thread_time() - c0)


