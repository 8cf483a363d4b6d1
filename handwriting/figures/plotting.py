"""Pillow drawing helpers the figures are built from: text, axes, colour bars, a labelled
heatmap (rows x time) and a line plot over time."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from handwriting.figures.arrays import nice_step
from handwriting.figures.palette import CURSOR, GRID, MUTED, TEXT

FONT_SIZE = 11
MARGIN_LEFT, MARGIN_RIGHT, COLORBAR_WIDTH = 64, 14, 78  # pixels beside a plot


@lru_cache(maxsize=4)
def _font(size: int = FONT_SIZE):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, xy, s: str, fill=TEXT, anchor: str = "la",
          size: int = FONT_SIZE) -> None:
    draw.text((round(xy[0]), round(xy[1])), s, fill=fill, font=_font(size), anchor=anchor)


def _vtext(img: Image.Image, xy, s: str, fill=TEXT) -> None:
    """Text rotated 90 degrees (reading upwards) centred on xy."""
    font = _font()
    w = max(1, int(font.getlength(s)) + 4)
    tile = Image.new("RGBA", (w, FONT_SIZE + 6), (255, 255, 255, 0))
    ImageDraw.Draw(tile).text((2, 1), s, fill=fill, font=font)
    tile = tile.rotate(90, expand=True)
    img.paste(tile, (round(xy[0] - tile.width / 2), round(xy[1] - tile.height / 2)), tile)


def _vstack(images: Sequence[Image.Image], gap: int = 4) -> Image.Image:
    w = max(i.width for i in images)
    out = Image.new("RGB", (w, sum(i.height for i in images) + gap * (len(images) - 1)), "white")
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height + gap
    return out


def plot_width(n: int, lo: int = 360, hi: int = 900, max_px: int = 6) -> int:
    """Pixels for n time steps: up to `max_px` each, within [lo, hi]."""
    return int(np.clip(n * max_px, lo, hi))


def _time_axis(draw, x0: float, y: float, width: float, n: int, label: str) -> None:
    step = nice_step(n)
    for t in range(0, n, step):
        x = x0 + (t + 0.5) * width / n
        draw.line([(x, y), (x, y + 3)], fill=MUTED)
        _text(draw, (x, y + 4), str(t), MUTED, "mt")
    _text(draw, (x0 + width / 2, y + 17), label, MUTED, "mt")


def _char_marks(draw, x0: float, y: float, width: float, n: int, chars) -> None:
    """Characters (frame, char[, rgb]) centred on their frames above a time axis (bottom at
    y); one that would overlap its left neighbour moves up a row."""
    font, right = _font(), [-1e9, -1e9]
    for frame, c, *rgb in chars:
        s = "\u00b7" if c == " " else c
        w = font.getlength(s)
        x = x0 + (frame + 0.5) * width / n
        row = 0 if x - w / 2 > right[0] else (1 if x - w / 2 > right[1] else 0)
        right[row] = x + w / 2 + 1
        _text(draw, (x, y - 12 * row), s, rgb[0] if rgb else TEXT, "mb")


def _colorbar(img, draw, x: int, y0: int, y1: int, rgb_of, labels: Sequence[str],
              title: str) -> None:
    """A vertical colour bar from `rgb_of(1.0)` (top) to `rgb_of(0.0)` (bottom)."""
    h = max(y1 - y0, 2)
    ramp = rgb_of(np.linspace(1.0, 0.0, h))[:, None, :].repeat(10, 1)
    img.paste(Image.fromarray(np.ascontiguousarray(ramp)), (x, y0))
    draw.rectangle([x - 1, y0 - 1, x + 10, y0 + h], outline=GRID)
    for k, s in enumerate(labels):
        _text(draw, (x + 14, y0 + k * (h - 1) / max(len(labels) - 1, 1)), s, MUTED, "lm")
    _text(draw, (x + 5, y0 - 4), title, MUTED, "mb")


def _heatmap(rgb: np.ndarray, *, title: str, row_label: str, col_label: str,
             row_ticks: Sequence[tuple[int, str]] = (), chars: Sequence[tuple[int, str]] = (),
             frame: int | None = None, highlight: Sequence[tuple[int, str]] = (),
             colorbar: tuple | None = None, width: int | None = None,
             row_px: int | None = None, path=None) -> Image.Image:
    """A labelled (R, C) heatmap: rows (units, characters) down, time across; `path` (C,)
    gives one row per column to trace in red (e.g. the attended character)."""
    R, C = rgb.shape[:2]
    row_px = row_px or int(np.clip(400 // max(R, 1), 1, 14))
    pw, ph = width or plot_width(C), R * row_px
    left, right = MARGIN_LEFT, (COLORBAR_WIDTH if colorbar else MARGIN_RIGHT)
    top = 22 + (28 if chars else 0)
    img = Image.new("RGB", (left + pw + right, top + ph + 34), "white")
    draw = ImageDraw.Draw(img)
    heat = Image.fromarray(np.ascontiguousarray(rgb))
    heat = heat.resize((pw, ph), Image.Resampling.NEAREST if pw >= C else Image.Resampling.BOX)
    img.paste(heat, (left, top))
    draw.rectangle([left - 1, top - 1, left + pw, top + ph], outline=GRID)
    _text(draw, (left, 5), title)
    _vtext(img, (12, top + ph / 2), row_label, MUTED)
    for r, s in row_ticks:
        y = top + (r + 0.5) * row_px
        draw.line([(left - 4, y), (left - 1, y)], fill=MUTED)
        _text(draw, (left - 6, y), s, MUTED, "rm")
    for r, s in highlight:  # the selected unit: an outlined row and its name in the margin
        y = top + r * row_px
        draw.rectangle([left - 1, y - 1, left + pw, y + row_px], outline=CURSOR)
        draw.polygon([(left - 12, y + row_px / 2 - 4), (left - 12, y + row_px / 2 + 4),
                      (left - 4, y + row_px / 2)], fill=CURSOR)
        _text(draw, (left - 14, y + row_px / 2), s, TEXT, "rm")
    _time_axis(draw, left, top + ph + 1, pw, C, col_label)
    if chars:
        _char_marks(draw, left, top - 2, pw, C, chars)
    if path is not None and C > 1:
        pts = [(left + (t + 0.5) * pw / C, top + (r + 0.5) * row_px) for t, r in enumerate(path)]
        draw.line(pts, fill=(240, 59, 32), width=2)
    if frame is not None and 0 <= frame < C:
        x = left + (frame + 0.5) * pw / C
        draw.line([(x, top - 1), (x, top + ph)], fill=CURSOR, width=1)
    if colorbar is not None:
        rgb_of, labels, bar_title = colorbar
        _colorbar(img, draw, left + pw + 16, top + 14, top + min(ph, 160), rgb_of, labels,
                  bar_title)
    return img


def _line_plot(series, *, title: str, y_label: str, n: int, chars=(), frame=None,
               width: int | None = None, height: int = 200, peaks=(), marks=()) -> Image.Image:
    """Lines over time, y in [0, 1]. series: (values (n,), rgb, line width); peaks: (t, y,
    text, rgb) labels; marks: (t, rgb) ticks under the axis."""
    pw = width or plot_width(n)
    left, top, right = MARGIN_LEFT, 22 + (28 if chars else 0), MARGIN_RIGHT
    img = Image.new("RGB", (left + pw + right, top + height + 34), "white")
    draw = ImageDraw.Draw(img)
    _text(draw, (left, 5), title)
    _vtext(img, (12, top + height / 2), y_label, MUTED)
    for v in (0.0, 0.5, 1.0):
        y = top + (1 - v) * height
        draw.line([(left, y), (left + pw, y)], fill=GRID if v else MUTED)
        _text(draw, (left - 6, y), f"{v:g}", MUTED, "rm")
    xs = left + (np.arange(n) + 0.5) * pw / max(n, 1)
    for values, rgb, lw in series:
        ys = top + (1 - np.clip(values, 0, 1)) * height
        if n > 1:
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=rgb, width=lw)
    for t, v, s, rgb in peaks:
        _text(draw, (xs[t], top + (1 - v) * height - 2), s, rgb, "mb")
    for t, rgb in marks:
        draw.line([(xs[t], top + height + 1), (xs[t], top + height + 6)], fill=rgb, width=2)
    _time_axis(draw, left, top + height + 1, pw, max(n, 1), "")
    if chars:
        _char_marks(draw, left, top - 2, pw, max(n, 1), chars)
    if frame is not None and 0 <= frame < n:
        draw.line([(xs[frame], top), (xs[frame], top + height)], fill=CURSOR)
    return img
