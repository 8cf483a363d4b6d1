"""Synthesis panels, fed one `LineFrame` at a time while a line is sampled: the attention
window over the text (Graves 2013, fig. 13), the next-point mixture at the pen tip (eq.
23-25) and the end-of-stroke probability. Appends only copy a few numbers; painting is
throttled to ~30 Hz and done only when visible."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from gui.insight.blocks import (
    MUTED,
    SELECTED,
    TEXT,
    Throttle,
    add_export_action,
    rgb_image,
    small_font,
)
from gui.insight.model import LineFrame, SynthesisTrack, TimeCursor
from gui.insight.plots import HeatmapView, LinePlotView
from handwriting.figures.arrays import covariance_ellipses
from handwriting.figures.palette import sequential_rgb
from handwriting.traces import mixture_density_grid

STEPS_PER_CHAR = 25  # typical sampled points per character: the time axis's first guess
ARGMAX_RGB = (240, 59, 32)


class _Streamed:
    """Mixin: a `SynthesisTrack` filled by `append_frame`, repainted through a throttle."""

    def _init_stream(self, cursor: TimeCursor | None) -> None:
        self.track = SynthesisTrack()
        self.finished = False
        self._throttle = Throttle(self, self._on_throttle)
        self._dirty = False

    def begin(self, text: str, text_offset: int = 0) -> None:
        """Start a new line of `text` (the characters phi ranges over, without priming)."""
        self.track = SynthesisTrack(text, text_offset)
        self.finished = False
        self._changed()

    def append_frame(self, frame: LineFrame) -> None:
        self.track.append(frame)
        self._frame_appended(frame)
        self._changed()

    def end(self) -> None:
        self.finished = True
        self._changed()

    def _frame_appended(self, frame: LineFrame) -> None:
        """Per-append bookkeeping of subclasses (keep it O(1))."""

    def _changed(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._throttle.poke()

    def _on_throttle(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.rebuild()
            self._redraw()

    def _redraw(self) -> None:
        (getattr(self, "invalidate", None) or self.update)()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._on_throttle()

    def flush(self) -> None:
        """Rebuild now (tests, screenshots) instead of at the next throttle tick."""
        self._dirty = False
        self.rebuild()
        self._redraw()

    def time_extent(self) -> int:
        n = len(self.track)
        return n if self.finished else max(n, STEPS_PER_CHAR * max(len(self.track.text), 1))


class AttentionPanel(_Streamed, HeatmapView):
    """The soft window phi over the line's characters (rows) as the pen moves (columns), 0
    white to max purple, the most attended character of each step traced in red. `current_char_changed`
    gives the index (into the line's text) of the character being written: the furthest
    argmax so far, so it never steps back."""

    current_char_changed = Signal(int)

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None):
        HeatmapView.__init__(self, cursor, parent, leave_clears=True)
        self._init_stream(cursor)
        self.axis_label = "step (one pen point each)"
        self.margins = (40, 24, 12, 30)
        self.current = -1
        self.argmax = np.zeros(0, np.int64)
        self.colorbar = (sequential_rgb, ["max", "", "0"], "phi")
        add_export_action(self)
        self.rebuild()

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    def empty_text(self) -> str:
        return "type text to write: the attention window appears here"

    def begin(self, text: str, text_offset: int = 0) -> None:
        self.current = -1
        super().begin(text, text_offset)

    def _frame_appended(self, frame: LineFrame) -> None:
        own = np.asarray(frame.phi)[frame.text_offset:]
        arg = int(np.argmax(own)) if len(own) else -1
        if self.current < arg < len(self.track.text):
            self.current = arg
            self.current_char_changed.emit(arg)

    def rebuild(self) -> None:
        tr = self.track
        text = tr.text
        self.row_labels = [(k, "\u00b7" if c == " " else c) for k, c in enumerate(text)]
        self.row_labels.append((len(text), "end"))
        self.row_label_color = {self.current: SELECTED} if self.current >= 0 else {}
        self.title = "Attention window phi (each step scaled to its max; red: most attended)"
        if self.current >= 0:
            self.title += f"  \u2014  writing '{text[self.current]}' ({self.current})"
        if not len(tr):
            self.argmax = np.zeros(0, np.int64)
            self.set_image(None, self.time_extent() if text else 0)
            return
        phi = tr.phi[:, tr.text_offset:tr.text_offset + len(text) + 1]  # (n, U + 1)
        self.argmax = phi.argmax(1)
        self.highlight = (self.current, "") if self.current >= 0 else None
        # each step scaled to its own maximum: the window's shape stays visible as it widens
        peak = np.maximum(phi.max(1, keepdims=True), 1e-9)
        self.set_image(sequential_rgb((phi / peak).T), self.time_extent())

    def paint_content(self, p: QPainter, rect: QRectF) -> None:
        super().paint_content(p, rect)
        n = len(self.argmax)
        if self.image is None or n < 1:
            return
        rh = rect.height() / max(self.n_rows, 1)
        xs = rect.left() + (np.arange(n) + 0.5) * rect.width() / max(self.n_cols, 1)
        ys = rect.top() + (self.argmax + 0.5) * rh
        # a staircase of horizontal and vertical runs: crisp without antialiasing, and cheap
        p.setPen(QPen(QColor(*ARGMAX_RGB), 2.0))
        p.drawPolyline([QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)])

    def cursor_frame(self) -> int:
        f = self.cursor.frame
        return f if f >= 0 else len(self.track) - 1

    def paint_cursor_label(self, p: QPainter, rect: QRectF, frame: int) -> None:
        tr = self.track
        if not 0 <= frame < len(self.argmax):
            return
        k = int(self.argmax[frame])
        ch = "end" if k >= len(tr.text) else repr(tr.text[k])
        s = f"step {frame}: reading {ch}, phi = {tr.phi[frame, tr.text_offset + k]:.2f}"
        fm = p.fontMetrics()
        p.setPen(TEXT)
        p.drawText(QPointF(self.width() - fm.horizontalAdvance(s) - 8, 2 + fm.ascent()), s)


class EosTrace(_Streamed, LinePlotView):
    """End-of-stroke probability of every sampled point; red ticks where the pen lifted."""

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None):
        LinePlotView.__init__(self, cursor, parent, leave_clears=True)
        self._init_stream(cursor)
        self.axis_label = "step"
        self.title = "End-of-stroke probability (red ticks: pen lifted)"
        self.setMinimumHeight(100)
        add_export_action(self)

    def sizeHint(self) -> QSize:
        return QSize(480, 150)

    def empty_text(self) -> str:
        return "p(pen up) of each sampled point"

    def rebuild(self) -> None:
        tr = self.track
        self.n_cols = self.time_extent() if (len(tr) or tr.text) else 0
        self.series = [(tr.eos.copy(), QColor(106, 81, 163), 1.0)]  # hairlines are cheap
        self.marks = [(int(t), QColor(*ARGMAX_RGB)) for t in np.flatnonzero(tr.offsets[:, 2] > 0.5)]

    def cursor_frame(self) -> int:
        f = self.cursor.frame
        return f if f >= 0 else len(self.track) - 1

    def paint_cursor_label(self, p: QPainter, rect: QRectF, frame: int) -> None:
        if frame >= len(self.track):
            return
        s = f"step {frame}: p(eos) = {self.track.eos[frame]:.2f}"
        fm = p.fontMetrics()
        p.setPen(TEXT)
        p.drawText(QPointF(self.width() - fm.horizontalAdvance(s) - 8, 2 + fm.ascent()), s)


class MixtureView(_Streamed, QWidget):
    """Where the next point may go: the density of the predicted mixture (white to purple)
    around the pen tip, each Gaussian's one-sigma ellipse (darker = heavier), the recent
    ink in grey and the point actually sampled (red ring). Shows the cursor step, else the
    newest. The wheel zooms."""

    def __init__(self, cursor: TimeCursor | None = None, parent: QWidget | None = None):
        QWidget.__init__(self, parent)
        self.cursor = cursor if cursor is not None else TimeCursor(self)
        self.cursor.frame_changed.connect(self._on_cursor)
        self._init_stream(cursor)
        self.zoom = 1.0  # the wheel's factor on the automatic extent
        self.grid = 64
        self.recent = 120  # points of context
        self._cache_key = None
        self._density = None
        self.setMinimumSize(200, 200)
        add_export_action(self)

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    def _on_cursor(self, _frame: int) -> None:
        self._changed()

    def rebuild(self) -> None:  # painting reads the track directly
        pass

    def step(self) -> int:
        f = self.cursor.frame
        n = len(self.track)
        return f if 0 <= f < n else n - 1

    @property
    def extent(self) -> float:
        """Half the view's side in writing heights: a few times the typical reach of the
        predicted mixtures so far (stable while streaming), times the wheel's zoom."""
        typical = self.track.typical_reach()
        return (float(np.clip(3.0 * typical, 0.05, 5.0)) if typical else 0.5) * self.zoom

    def wheelEvent(self, event) -> None:
        factor = 1.25 if event.angleDelta().y() < 0 else 0.8
        self.zoom = float(np.clip(self.zoom * factor, 0.05, 20.0))
        self.update()

    def _density_image(self, step: int, tip: np.ndarray, extent: float):
        key = (id(self.track), step, extent)
        if key != self._cache_key:
            dens = mixture_density_grid(self.track.mixture(step), tip, extent, self.grid)
            # gamma 0.35: the tails stay visible next to a sharp peak
            rgb = sequential_rgb((dens / max(float(dens.max()), 1e-12)) ** 0.35)
            self._density, self._cache_key = rgb_image(rgb), key
        return self._density

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        p.setFont(small_font(self))
        fm = p.fontMetrics()
        top = 2 * fm.height() + 6
        side = max(min(self.width() - 8, self.height() - top - 4), 20)
        box = QRectF((self.width() - side) / 2, top, side, side)
        step = self.step()
        p.setPen(TEXT)
        if step < 0:
            p.drawText(QPointF(6, fm.ascent() + 2), "Next-point distribution")
            p.setPen(MUTED)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, "appears while writing")
            return
        tr = self.track
        mix = tr.mixture(step)
        tip = tr.tip(step)
        p.drawText(QPointF(6, fm.ascent() + 2),
                   f"Next point at step {step}: {len(mix.log_pi)} Gaussians")
        p.setPen(MUTED)
        p.drawText(QPointF(6, fm.ascent() + fm.height() + 2),
                   f"p(eos) {mix.eos:.2f} · red ring: sampled point")
        extent = self.extent
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(box, self._density_image(step, tip, extent))
        s = side / (2 * extent)

        def to_px(x, y):
            return QPointF(box.left() + (x - tip[0] + extent) * s,
                           box.top() + (y - tip[1] + extent) * s)

        p.setClipRect(box)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pts = tr.points[max(0, step - self.recent):step]  # (k, 3) the ink before the tip
        pen = QPen(QColor(40, 44, 52, 190), 2.0)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        path = QPainterPath()
        lift = True
        for x, y, up in pts.tolist():
            if lift:
                path.moveTo(to_px(x, y))
            else:
                path.lineTo(to_px(x, y))
            lift = up > 0.5
        p.drawPath(path)
        pi = np.exp(mix.log_pi)
        t = np.linspace(0, 2 * np.pi, 25)
        for (a, b, ang), mu, w in zip(covariance_ellipses(mix.sigma, mix.rho), mix.mu, pi,
                                      strict=True):
            if w < 0.01:
                continue
            ex = a * np.cos(t) * np.cos(ang) - b * np.sin(t) * np.sin(ang) + mu[0] + tip[0]
            ey = a * np.cos(t) * np.sin(ang) + b * np.sin(t) * np.cos(ang) + mu[1] + tip[1]
            p.setPen(QPen(QColor(31, 119, 180, int(70 + 185 * min(1.0, 2 * w))), 1.6))
            p.drawPolyline([to_px(x, y) for x, y in zip(ex.tolist(), ey.tolist(), strict=True)])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(40, 44, 52))
        p.drawEllipse(to_px(*tip), 3.5, 3.5)
        nxt = tr.points[step]
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(*ARGMAX_RGB), 2.0))
        p.drawEllipse(to_px(nxt[0], nxt[1]), 5, 5)
        p.setClipping(False)
        p.setPen(MUTED)
        p.drawRect(box)
        scale = f"\u00b1{extent:.2g} writing heights"
        p.drawText(QPointF(box.right() - fm.horizontalAdvance(scale) - 4, box.bottom() - 4), scale)
