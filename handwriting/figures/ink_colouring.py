"""Ink coloured per point, as PNG-ready images and as SVG paths: by input-gradient saliency
or by one LSTM unit's value."""

from __future__ import annotations

import numpy as np
import svgwrite
from PIL import Image, ImageDraw

from handwriting.figures.arrays import ink_segments
from handwriting.figures.palette import (
    HALO,
    HEAT,
    INK_GREY,
    TEXT,
    diverging01,
    sequential_rgb,
)
from handwriting.figures.plotting import COLORBAR_WIDTH, FONT_SIZE, _colorbar, _font, _text
from handwriting.ink import Ink
from handwriting.traces import diverging_rgb


def _ink_fit(xy: np.ndarray, width: int, height: int | None, margin: int = 14):
    x0, y0 = xy.min(0)
    x1, y1 = xy.max(0)
    w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    scale = (width - 2 * margin) / w
    if height is None:
        height = int(np.clip(h * scale + 2 * margin, 60, 600))
    scale = min(scale, (height - 2 * margin) / h)
    off = np.array([(width - w * scale) / 2 - x0 * scale, (height - h * scale) / 2 - y0 * scale])
    return scale, off, height


def _ink_image(ink: Ink, seg_rgb: np.ndarray, seg_width: np.ndarray, order: np.ndarray,
               width: int, height: int | None, underlay: bool, highlight=None,
               supersample: int = 3) -> Image.Image:
    """Segments drawn in `order` with their colours and widths (pixels), antialiased by
    drawing at `supersample` times the size."""
    xy, segs = ink_segments(ink)
    scale, off, height = _ink_fit(xy, width, height)
    k = supersample
    img = Image.new("RGB", (width * k, height * k), "white")
    draw = ImageDraw.Draw(img)
    px = (xy * scale + off) * k
    if highlight is not None and len(highlight):  # points of one character: a soft halo
        for a, b in segs:
            if a in highlight and b in highlight:
                draw.line([tuple(px[a]), tuple(px[b])], fill=HALO, width=round(14 * k))
    if underlay:  # a grey outline keeps near-white (zero) segments visible
        for a, b in segs:
            draw.line([tuple(px[a]), tuple(px[b])], fill=INK_GREY, width=round(4.2 * k))
    for s in order:
        a, b = segs[s]
        w = max(1, round(seg_width[s] * k))
        rgb = tuple(int(c) for c in seg_rgb[s])
        if a == b:
            r = w / 2
            draw.ellipse([px[a][0] - r, px[a][1] - r, px[a][0] + r, px[a][1] + r], fill=rgb)
        else:
            draw.line([tuple(px[a]), tuple(px[b])], fill=rgb, width=w)
            r = w / 2 - 0.5  # round joins
            draw.ellipse([px[b][0] - r, px[b][1] - r, px[b][0] + r, px[b][1] + r], fill=rgb)
    return img.resize((width, height), Image.Resampling.LANCZOS)


def _with_header(ink_img: Image.Image, title: str, colorbar=None, text: str = "",
                 mark: int | None = None) -> Image.Image:
    """Title, the recognized `text` (character `mark` in red) and a colour bar around ink."""
    top = 22 + (20 if text else 0)
    right = COLORBAR_WIDTH if colorbar else 0
    img = Image.new("RGB", (ink_img.width + right, ink_img.height + top), "white")
    img.paste(ink_img, (0, top))
    draw = ImageDraw.Draw(img)
    _text(draw, (14, 5), title)
    if text:
        font, x = _font(13), 14.0
        for k, c in enumerate(text):
            draw.text((x, 24), c, fill=(214, 39, 40) if k == mark else TEXT, font=font)
            x += font.getlength(c)
    if colorbar is not None:
        rgb_of, labels, bar_title = colorbar
        _colorbar(img, draw, ink_img.width + 16, top + 16,
                  top + max(min(ink_img.height - 16, 140), 40), rgb_of, labels, bar_title)
    return img


def saliency_colors(magnitude, segs: np.ndarray):
    """Per-segment colour (S, 3), width in pixels (S,) and drawing order (faint first) for
    per-point saliency magnitudes (N,), normalized by their maximum."""
    m = np.asarray(magnitude, np.float64)
    m = m / m.max() if m.size and m.max() > 0 else np.zeros_like(m)
    v = np.maximum(m[segs[:, 0]], m[segs[:, 1]]) if len(segs) else np.zeros(0)
    rgb = sequential_rgb(v, HEAT)
    rgb = np.where((v < 0.05)[:, None], np.array(INK_GREY, np.uint8), rgb)
    return rgb, 1.6 + 5.0 * np.sqrt(v), np.argsort(v, kind="stable")


def saliency_figure(ink: Ink, magnitude, title: str = "saliency", text: str = "",
                    highlight=None, width: int = 900, height: int | None = None,
                    mark: int | None = None) -> Image.Image:
    """Ink coloured and thickened by input-gradient magnitude (N,) per ink point: which
    points the chosen output depends on. `highlight` (point indices, e.g. the character's
    `Recognition.char_points`) gets a light blue halo; `mark` reddens text[mark]."""
    _, segs = ink_segments(ink)
    rgb, widths, order = saliency_colors(magnitude, segs)
    hl = None if highlight is None else set(np.asarray(highlight).tolist())
    img = _ink_image(ink, rgb, widths, order, width, height, False, hl)
    return _with_header(img, title, (lambda v: sequential_rgb(v, HEAT), ["max", "", "0"],
                                     "|grad|"), text, mark)


def neuron_colors(values, segs: np.ndarray):
    """Per-segment colour (S, 3) for per-point values (N,) in [-1, 1], blue to red."""
    v = np.asarray(values, np.float64)
    seg_v = (v[segs[:, 0]] + v[segs[:, 1]]) / 2 if len(segs) else np.zeros(0)
    return diverging_rgb(seg_v)


def neuron_figure(ink: Ink, values, title: str = "one unit", text: str = "",
                  label: str = "value", width: int = 900, height: int | None = None
                  ) -> Image.Image:
    """Ink coloured by one unit's value (N,) per ink point, -1 blue, 0 white, +1 red
    (Karpathy et al. 2015's neuron pictures), over a grey outline."""
    _, segs = ink_segments(ink)
    rgb = neuron_colors(values, segs)
    img = _ink_image(ink, rgb, np.full(len(segs), 2.6), np.arange(len(segs)), width, height,
                     True)
    return _with_header(img, title, (diverging01, ["+1", "0", "-1"], label), text)


def point_values(frame_values, point_frames) -> np.ndarray:
    """Per-frame values (T',) spread onto ink points via `Inspection.point_frames` (N,)."""
    return np.asarray(frame_values)[np.asarray(point_frames)]


def _ink_svg(ink: Ink, seg_rgb, seg_width, order, title: str, underlay: bool,
             width: int = 900) -> svgwrite.Drawing:
    """Ink as SVG paths in pixel units: consecutive segments of one colour share a path."""
    xy, segs = ink_segments(ink)
    scale, off, height = _ink_fit(xy, width, None)
    px = xy * scale + off
    dwg = svgwrite.Drawing(size=(f"{width}px", f"{height + 24}px"),
                           viewBox=f"0 -24 {width} {height + 24}", debug=False)
    dwg.add(dwg.rect((0, -24), (width, height + 24), fill="white"))
    dwg.add(dwg.text(title, insert=(14, -8), font_size=FONT_SIZE + 1, font_family="sans-serif",
                     fill="rgb(40,44,52)"))
    if underlay:
        g = dwg.g(fill="none", stroke="rgb(205,208,214)", stroke_width=4.2,
                  stroke_linecap="round", stroke_linejoin="round")
        for s in ink.strokes:
            pts = s.xy.astype(np.float64) * scale + off
            g.add(dwg.path(d=_svg_path(pts)))
        dwg.add(g)
    run: list[int] = []

    def flush():
        if run:
            s0 = run[0]
            pts = np.concatenate([px[segs[run, 0]], px[segs[run[-1:], 1]]])
            rgb = "rgb({},{},{})".format(*(int(c) for c in seg_rgb[s0]))
            dwg.add(dwg.path(d=_svg_path(pts), fill="none", stroke=rgb,
                             stroke_width=f"{seg_width[s0]:.2f}", stroke_linecap="round",
                             stroke_linejoin="round"))
            run.clear()

    prev = None
    for s in order:
        contiguous = (prev is not None and segs[s, 0] == segs[prev, 1]
                      and np.array_equal(seg_rgb[s], seg_rgb[prev])
                      and seg_width[s] == seg_width[prev])
        if not contiguous:
            flush()
        run.append(int(s))
        prev = s
    flush()
    return dwg


def _svg_path(pts: np.ndarray) -> str:
    if len(pts) == 1:
        pts = np.concatenate([pts, pts])
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _quantize(rgb: np.ndarray, levels: int = 24) -> np.ndarray:
    """Fewer distinct colours so neighbouring segments merge into one SVG path."""
    step = 256 / levels
    return (np.floor(rgb / step) * step + step / 2).clip(0, 255).astype(np.uint8)


def saliency_svg(ink: Ink, magnitude, title: str = "saliency") -> svgwrite.Drawing:
    """`saliency_figure` as vector paths (drawn in stroke order, not faint-first)."""
    _, segs = ink_segments(ink)
    rgb, widths, _ = saliency_colors(magnitude, segs)
    widths = np.round(widths * 2) / 2
    return _ink_svg(ink, _quantize(rgb), widths, np.arange(len(segs)), title, False)


def neuron_svg(ink: Ink, values, title: str = "one unit") -> svgwrite.Drawing:
    """`neuron_figure` as vector paths."""
    _, segs = ink_segments(ink)
    rgb = neuron_colors(values, segs)
    return _ink_svg(ink, _quantize(rgb), np.full(len(segs), 2.6), np.arange(len(segs)), title,
                    True)
