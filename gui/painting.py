"""How the canvas draws ink: palette colours (light and dark themes), cosmetic round pens,
pressure widths, one hue per recognized character, and `InkPainter`, which keeps render
caches (never ink: every cache is rebuilt from the document when what it shows changes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen, QPixmap, QTransform

from handwriting.curves import bezier_controls, bezier_controls_of
from handwriting.document import InkDocument, TranscriptLine
from handwriting.ink import Ink, Stroke

PEN_WIDTH_PX = 2.6  # on screen, whatever the zoom: ink files use very different units
# After a zoom or pan, committed ink is redrawn at most this many points a frame (~4 ms).
REDRAW_POINTS = 2000


def char_color(index: int, dark: bool) -> QColor:
    """A distinct hue per character (golden-ratio steps round the colour wheel)."""
    return QColor.fromHsvF((0.08 + 0.618034 * index) % 1.0, 0.8, 1.0 if dark else 0.78)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def pressure_width(pressure: float) -> float:
    """Pen width in pixels for a pressure in [0, 1]: thin when light, bold when pressed."""
    return PEN_WIDTH_PX * (0.5 + 0.9 * min(max(pressure, 0.0), 1.0))


def pen(width: float, color: QColor) -> QPen:
    # Cosmetic: the width is in screen pixels, so zooming out of a whiteboard-sized IAM-OnDB
    # line (thousands of units wide) still shows legible strokes.
    p = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
             Qt.PenJoinStyle.RoundJoin)
    p.setCosmetic(True)
    return p


def polyline(stroke: Stroke, controls: tuple[np.ndarray, np.ndarray] | None = None
             ) -> QPainterPath:
    """The stroke as one path of centripetal Catmull-Rom curves through its points (the
    same curves as the SVG and PNG exports), so round letters look round when zoomed;
    `controls`: its `bezier_controls`, when computed already for many strokes at once."""
    xy = stroke.xy
    path = QPainterPath(QPointF(*map(float, xy[0])))
    if len(xy) == 2:
        path.lineTo(*map(float, xy[1]))
        return path
    c1, c2 = bezier_controls(xy) if controls is None else controls
    for a, b, e in zip(c1.tolist(), c2.tolist(), xy[1:].tolist(), strict=True):
        path.cubicTo(a[0], a[1], b[0], b[1], e[0], e[1])
    return path


def per_stroke(line: TranscriptLine, indices: np.ndarray) -> dict[int, np.ndarray]:
    """Split indices into a transcript line's concatenated points by stroke:
    {stroke position in the line: point indices within that stroke}."""
    ends = np.cumsum([len(s) for s in line.strokes])
    indices = np.asarray(indices, np.int64)
    indices = indices[indices < (ends[-1] if len(ends) else 0)]
    which = np.searchsorted(ends, indices, side="right")
    starts = np.r_[0, ends[:-1]]
    return {int(k): indices[which == k] - starts[k] for k in np.unique(which)}


def _base(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.Base)


@dataclass(eq=False)
class _Layer:
    """A picture of the committed ink at one view: it shows `shows` (the ink, and the
    transcript when coloured by character), of whose strokes the first `drawn` are in it."""

    shows: tuple
    view: tuple
    transform: QTransform
    pixmap: QPixmap
    drawn: int = 0

    def extends(self, shows: tuple) -> bool:
        """`shows` is what this layer shows, perhaps with strokes appended."""
        return self.shows[1] is shows[1] and _appended(self.shows[0], shows[0]) is not None


def _appended(before: Ink, after: Ink) -> tuple[Stroke, ...] | None:
    """The strokes `after` adds at the end of `before`, if that is all that changed."""
    if after is before:
        return ()
    n = len(before.strokes)
    if len(after.strokes) < n or any(
            a is not b for a, b in zip(before.strokes, after.strokes[:n], strict=True)):
        return None
    return after.strokes[n:]


class InkPainter:
    """Draws a document at a view. Committed ink is drawn once into a pixmap per view (a
    stroke being drawn then costs a blit plus itself); typed ink being written goes into a
    second pixmap stroke by stroke, once a stroke is complete (the same object in two
    previews in a row); painter paths are kept per stroke."""

    def __init__(self, document: InkDocument):
        self.document = document
        self.color_by_char = False
        self._paths: dict[int, tuple[Stroke, QPainterPath]] = {}
        # Per stroke (by id, holding the stroke): each point's character index (-1: none);
        # None until colours by character are drawn after a transcript change.
        self._char_of: dict[int, tuple[Stroke, np.ndarray]] | None = None
        self.highlight: dict[int, tuple[Stroke, np.ndarray]] = {}
        self._committed: _Layer | None = None  # complete
        self._redraw: _Layer | None = None  # for a new view, being drawn over frames
        self._preview: tuple | None = None  # (view, {id: stroke} drawn, pixmap)
        self._last_preview: dict[int, Stroke] = {}

    # ------------------------------------------------------------------ model changes
    def prune(self) -> None:
        """Forget the paths of strokes gone from both the ink and the preview (after the ink
        changed or the preview ended: not on every preview frame, that would cost)."""
        preview = self.document.preview
        live = {id(s) for s in self.document.strokes}
        live.update(id(s) for s in (preview.strokes if preview is not None else ()))
        self._paths = {k: v for k, v in self._paths.items() if k in live}
        if preview is None:
            self._preview, self._last_preview = None, {}

    def rebuild_char_map(self) -> None:
        """Forget the points' characters (the transcript changed); `_char_map` finds them
        again when colours by character are drawn (a transcript with a few hundred
        characters costs milliseconds, for nothing while the option is off)."""
        self._char_of = None

    def _char_map(self) -> dict[int, tuple[Stroke, np.ndarray]]:
        if self._char_of is None:
            self._char_of = {}
            offset = 0  # characters of the lines above, so every line gets its own hues
            for t in self.document.transcript:
                lengths = [len(s) for s in t.strokes]
                chars = np.full(sum(lengths), -1, np.int64)  # over the line's points
                for c, pts in enumerate(t.points):
                    pts = np.asarray(pts, np.int64)
                    chars[pts[pts < len(chars)]] = offset + c
                parts = np.split(chars, np.cumsum(lengths)[:-1])
                self._char_of.update((id(s), (s, part))
                                     for s, part in zip(t.strokes, parts, strict=True))
                offset += len(t.points)
        return self._char_of

    def set_highlight(self, line: int | None, char: int | None) -> None:
        """Mark the ink points that character `char` of transcript line `line` was read from
        (None clears the mark)."""
        self.highlight = {}
        transcript = self.document.transcript
        if line is not None and char is not None and 0 <= line < len(transcript):
            t = transcript[line]
            if 0 <= char < len(t.points):
                for k, idx in per_stroke(t, t.points[char]).items():
                    self.highlight[id(t.strokes[k])] = (t.strokes[k], idx)

    # ------------------------------------------------------------------ painting
    @property
    def redrawing(self) -> bool:
        """The committed ink is being redrawn for a new view, a part a frame."""
        return self._redraw is not None

    def paint(self, painter: QPainter, size: QSize, ratio: float, transform: QTransform,
              palette: QPalette) -> bool:
        """Everything but the background: committed ink, preview, pending stroke, highlight.
        False while the committed ink is still being redrawn for a new view (paint again)."""
        view = (transform.m11(), transform.dx(), transform.dy(), size.width(), size.height(),
                ratio, palette.color(QPalette.ColorRole.Base).rgba(),
                palette.color(QPalette.ColorRole.Text).rgba())
        ink = palette.color(QPalette.ColorRole.Text)
        done = self._paint_committed(painter, view, size, ratio, transform, palette)
        preview = self.document.preview
        if preview is not None:
            painter.drawPixmap(0, 0, self._preview_pixmap(view, size, ratio, transform, ink))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setTransform(transform)
        if preview is not None:
            drawn = self._preview[1]
            fresh = [s for s in preview.strokes if id(s) not in drawn]
            self._paint_strokes(painter, fresh, ink, cache=False)  # most will change again
        pending = self.document.pending_stroke()
        if pending is not None:
            self._paint_stroke(painter, pending, polyline(pending), ink)
        if self.highlight:
            self._paint_highlight(painter, palette.color(QPalette.ColorRole.Highlight))
        return done

    def _layer(self, size: QSize, ratio: float, fill: QColor) -> QPixmap:
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(fill)
        return pixmap

    def _paint_committed(self, painter: QPainter, view: tuple, size: QSize, ratio: float,
                         transform: QTransform, palette: QPalette) -> bool:
        """The committed ink's layer, brought up to date: strokes appended since (a pen-up,
        typed text) are drawn onto it, anything else but a new view redraws it. After a zoom
        or pan of more than `REDRAW_POINTS` points the layer is redrawn over several frames,
        that many points a frame, and the last one (with the strokes added since) is shown
        moved to the new view meanwhile: a refit of a big page never stalls a frame. Returns
        False while that redraw is under way."""
        shows = (self.document.ink, self.color_by_char and self.document.transcript)
        ready = self._committed
        if ready is not None and ready.view == view and ready.extends(shows):
            self._draw_onto(ready, shows, palette)
            painter.drawPixmap(0, 0, ready.pixmap)
            return True
        if ready is None or not ready.extends(shows) or shows[0].num_points <= REDRAW_POINTS:
            layer = _Layer(shows, view, transform, self._layer(size, ratio, _base(palette)))
            self._draw_onto(layer, shows, palette)
            self._committed, self._redraw = layer, None
            painter.drawPixmap(0, 0, layer.pixmap)
            return True
        redraw = self._redraw
        if redraw is None or redraw.view != view or not redraw.extends(shows):
            redraw = _Layer(shows, view, transform, self._layer(size, ratio, _base(palette)))
            self._redraw = redraw
        # One budget a frame: the strokes added since onto the last layer first, then the
        # new layer's next part.
        budget = REDRAW_POINTS - self._draw_onto(ready, shows, palette, REDRAW_POINTS)
        self._draw_onto(redraw, shows, palette, budget)
        if redraw.drawn == len(shows[0].strokes):
            self._committed, self._redraw = redraw, None
            painter.drawPixmap(0, 0, redraw.pixmap)
            return True
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setTransform(ready.transform.inverted()[0] * transform)
        painter.drawPixmap(0, 0, ready.pixmap)
        painter.restore()
        return False

    def _draw_onto(self, layer: _Layer, shows: tuple, palette: QPalette,
                   budget: int | None = None) -> int:
        """Draw the strokes of `shows` that `layer` lacks, in order (with a `budget`, as
        many as fit in that many points, at least one if it is positive) and make it show
        `shows`; returns the points drawn."""
        strokes = shows[0].strokes[layer.drawn:]
        n, points = len(strokes), sum(len(s) for s in strokes)
        if budget is not None and points > budget:
            n = points = 0
            while n < len(strokes) and (points + len(strokes[n]) <= budget
                                        or (n == 0 and budget > 0)):
                points += len(strokes[n])
                n += 1
            strokes = strokes[:n]
        if strokes:
            painter = QPainter(layer.pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setTransform(layer.transform)
            self._draw_committed(painter, strokes, palette)
            painter.end()
        layer.shows, layer.drawn = shows, layer.drawn + n
        return points

    def _draw_committed(self, painter: QPainter, strokes, palette: QPalette) -> None:
        """Committed strokes, in their characters' colours where that is asked for."""
        ink = palette.color(QPalette.ColorRole.Text)
        if not self.color_by_char:
            self._paint_strokes(painter, strokes, ink)
            return
        dark = is_dark(palette)
        char_of = self._char_map()
        coloured = {id(s): c[1] for s in strokes  # strokes with characters read in them
                    if (c := char_of.get(id(s))) is not None and c[0] is s and (c[1] >= 0).any()}
        self._prepare_paths([s for s in strokes if id(s) not in coloured])  # drawn as paths
        for stroke in strokes:
            chars = coloured.get(id(stroke))
            if chars is not None:
                self._paint_coloured(painter, stroke, chars, ink, dark)
            else:
                self._paint_stroke(painter, stroke, self._path(stroke), ink)

    def _preview_pixmap(self, view: tuple, size: QSize, ratio: float, transform: QTransform,
                        ink: QColor) -> QPixmap:
        """Complete preview strokes, drawn once each onto a transparent layer."""
        if self._preview is None or self._preview[0] != view:
            self._preview = (view, {}, self._layer(size, ratio, QColor(0, 0, 0, 0)))
        _, drawn, pixmap = self._preview
        current = {id(s): s for s in self.document.preview.strokes}
        stable = [s for k, s in current.items()
                  if k not in drawn and self._last_preview.get(k) is s]
        if stable:
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setTransform(transform)
            self._paint_strokes(painter, stable, ink)
            painter.end()
            drawn.update((id(s), s) for s in stable)
        self._last_preview = current
        return pixmap

    def _prepare_paths(self, strokes) -> None:
        """Build the paths of the uncached strokes among `strokes` with their curves computed
        in one pass: committed typed text brings a paragraph of new strokes at once, whose
        paths one by one took ~30 ms of a frame."""
        todo = []
        for stroke in strokes:
            cached = self._paths.get(id(stroke))
            if len(stroke) > 2 and (cached is None or cached[0] is not stroke):
                todo.append(stroke)
        if len(todo) > 1:
            curves = bezier_controls_of([s.xy for s in todo])
            for stroke, controls in zip(todo, curves, strict=True):
                self._paths[id(stroke)] = (stroke, polyline(stroke, controls))

    def _path(self, stroke: Stroke) -> QPainterPath:
        cached = self._paths.get(id(stroke))
        if cached is not None and cached[0] is stroke:
            return cached[1]
        path = polyline(stroke)
        self._paths[id(stroke)] = (stroke, path)
        return path

    def _paint_strokes(self, painter: QPainter, strokes, color: QColor,
                       cache: bool = True) -> None:
        """Strokes without pressure go out one path each under one pen, dots as one point
        list; strokes with pressure one by one. (Not as one merged path: Qt strokes a path
        of hundreds of subpaths about 6x slower than the same subpaths one by one, 35-48 ms
        against 7 ms for 4,500 points, and a refit of the view redraws all the ink.)"""
        if cache:
            self._prepare_paths(strokes)
        plain = pen(pressure_width(0.5), color)
        painter.setPen(plain)
        dots = []
        for stroke in strokes:
            if stroke.pressure is not None:
                self._paint_stroke(painter, stroke, self._path(stroke) if cache
                                   else polyline(stroke), color)
                painter.setPen(plain)
            elif len(stroke) > 1:
                painter.drawPath(self._path(stroke) if cache else polyline(stroke))
            else:
                dots.append(QPointF(*map(float, stroke.xy[0])))
        if dots:
            painter.drawPoints(dots)

    def _paint_coloured(self, painter: QPainter, stroke: Stroke, chars: np.ndarray,
                        ink: QColor, dark: bool) -> None:
        """One polyline per run of points read as the same character."""
        xy = stroke.xy.tolist()
        cuts = np.flatnonzero(np.diff(chars)) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(chars)], strict=True):
            c = int(chars[a])
            painter.setPen(pen(pressure_width(0.5), ink if c < 0 else char_color(c, dark)))
            run = xy[max(a - 1, 0):b]  # start at the previous point: runs join up
            if len(run) == 1:
                painter.drawPoint(QPointF(*run[0]))
            else:
                path = QPainterPath(QPointF(*run[0]))
                for x, y in run[1:]:
                    path.lineTo(x, y)
                painter.drawPath(path)

    def _paint_highlight(self, painter: QPainter, color: QColor) -> None:
        color = QColor(color)
        color.setAlphaF(0.55)
        painter.setPen(pen(3.2 * PEN_WIDTH_PX, color))
        for stroke, idx in self.highlight.values():
            xy, marked = stroke.xy.tolist(), set(idx.tolist())
            for i in sorted(marked):
                painter.drawPoint(QPointF(*xy[i]))
                if i + 1 in marked:
                    painter.drawLine(QPointF(*xy[i]), QPointF(*xy[i + 1]))

    def _paint_stroke(self, painter: QPainter, stroke: Stroke, path: QPainterPath,
                      ink: QColor) -> None:
        if stroke.pressure is None or len(stroke) == 1:
            p = 0.5 if stroke.pressure is None else float(stroke.pressure[0])
            painter.setPen(pen(pressure_width(p), ink))
            if len(stroke) == 1:
                painter.drawPoint(QPointF(*map(float, stroke.xy[0])))
            else:
                painter.drawPath(path)
            return
        # Pressure varies along the stroke: one segment per pen width, round caps hide joins.
        xy, pr = stroke.xy.tolist(), stroke.pressure.tolist()
        for i in range(len(xy) - 1):
            painter.setPen(pen(pressure_width((pr[i] + pr[i + 1]) / 2), ink))
            painter.drawLine(QPointF(*xy[i]), QPointF(*xy[i + 1]))


def bounds_of(ink: Ink, preview: Ink | None) -> tuple[float, float, float, float] | None:
    """Bounds of the ink and the preview together; None when both are empty."""
    boxes = [i.bounds() for i in (ink, preview) if i is not None and not i.is_empty]
    if not boxes:
        return None
    b = np.array(boxes)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())
