"""Rasterize ink to an antialiased image with Pillow (drawn at a multiple of the size, then
downscaled with Lanczos) and write it as PNG. Headless: no Qt here."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, PngImagePlugin

from handwriting.curves import smooth_points
from handwriting.formats.fileio import atomic_write
from handwriting.ink import Ink

DEFAULT_HEIGHT = 128
MAX_PIXELS = 64_000_000  # counted at the supersampled size: ~64 MB of 8-bit coverage


@dataclass(frozen=True)
class _Layout:
    size: tuple[int, int]  # (W, H) output pixels
    scale: float  # pixels per ink unit
    offset: tuple[float, float]  # pixel position of ink (0, 0)
    stroke_width: float  # pixels


def render_ink(
    ink: Ink,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
    stroke_width: float | None = None,
    color: str = "black",
    background: str | None = "white",
    margin: float | None = None,
    supersample: int = 4,
    smooth: bool = True,
) -> Image.Image:
    """An RGB image of `ink` (RGBA with a transparent background when `background` is None).

    Size: give `width` and/or `height` in pixels (the ink is fitted and centred, aspect kept;
    a missing side follows the ink's aspect), or `scale` in pixels per ink unit; with none,
    the height is 128. `stroke_width` and `margin` (space beyond the stroke edges) are in
    pixels and default to 2 % and 5 % of the image height (of the ink's height under `scale`).
    Empty ink gives a blank image. `smooth` (the default) draws curves through the points
    (`curves.smooth_points`), as the SVG export and the canvas do; False, straight segments.
    """
    if not 1 <= supersample <= 8:
        raise ValueError(f"supersample must be 1 to 8, got {supersample}")
    lay = _layout(ink, width, height, scale, stroke_width, margin)
    fg = ImageColor.getrgb(color)[:3]  # raises ValueError naming a bad colour
    k = supersample
    W, H = lay.size
    if W * H * k * k > MAX_PIXELS:
        raise ValueError(f"a {W}x{H} image at supersample {k} is too large to render")
    coverage = Image.new("L", (W * k, H * k), 0)
    draw = ImageDraw.Draw(coverage)
    r = lay.stroke_width * k / 2
    for s in ink.strokes:
        # Curves through the points (centripetal Catmull-Rom), so round letters look round
        xy = smooth_points(s.xy) if smooth else s.xy.astype(np.float64)
        pts = (xy * lay.scale + lay.offset) * k  # (M, 2) supersampled px
        if len(pts) > 1:
            draw.line([tuple(p) for p in pts], fill=255, width=max(1, round(2 * r)),
                      joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps; a one-point stroke is a dot
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    mask = coverage.resize((W, H), Image.Resampling.LANCZOS) if k > 1 else coverage
    if background is None:
        image = Image.new("RGBA", (W, H), (*fg, 0))
        image.putalpha(mask)
        return image
    return Image.composite(Image.new("RGB", (W, H), fg), Image.new("RGB", (W, H), background),
                           mask)


def write_png(ink: Ink, path: str | Path, dpi: float | None = None, **options) -> None:
    """Render `ink` (options as `render_ink`) and write it as PNG atomically; `meta["text"]`
    goes into the PNG's Title text chunk, `dpi` (when given) into its pHYs chunk."""
    image = render_ink(ink, **options)
    info = PngImagePlugin.PngInfo()
    if isinstance(ink.meta.get("text"), str):
        info.add_text("Title", ink.meta["text"])
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info, **({"dpi": (dpi, dpi)} if dpi else {}))
    atomic_write(path, buf.getvalue())


def _layout(ink: Ink, width, height, scale, stroke_width, margin) -> _Layout:
    if scale is not None and (width is not None or height is not None):
        raise ValueError("give either scale or width/height, not both")
    for name, v in (("width", width), ("height", height), ("scale", scale)):
        if v is not None and not v > 0:
            raise ValueError(f"{name} must be positive, got {v}")
    x0, y0, x1, y1 = (0.0, 0.0, 0.0, 0.0) if ink.is_empty else ink.bounds()
    iw, ih = x1 - x0, y1 - y0
    if scale is None and width is None and height is None:
        height = DEFAULT_HEIGHT
    if scale is not None:
        ref_px = (ih or iw or 1.0) * scale
    else:
        ref_px = height if height is not None else width
    if stroke_width is None and not ink.is_empty and ih > 0:
        # pen width from the writing size, not the picture size (a paragraph stays thin)
        from handwriting.formats.svg import _reference_size

        px_per_unit = ref_px / ih if scale is None and height is not None else (
            scale if scale is not None else ref_px / max(iw, 1e-9))
        sw = max(1.0, 0.03 * _reference_size([ink]) * px_per_unit)
    else:
        sw = max(1.0, 0.02 * ref_px) if stroke_width is None else float(stroke_width)
    margin = 0.05 * ref_px if margin is None else float(margin)
    if sw <= 0 or margin < 0:
        raise ValueError(f"need stroke_width > 0 and margin >= 0, got {sw} and {margin}")
    pad = margin + sw / 2
    if scale is None:
        avail = {"w": None if width is None else width - 2 * pad,
                 "h": None if height is None else height - 2 * pad}
        if any(a is not None and a <= 0 for a in avail.values()):
            raise ValueError(f"a {width}x{height} image has no room inside the margins")
        fits = [a / d for a, d in ((avail["w"], iw), (avail["h"], ih)) if a is not None and d > 0]
        if fits:
            scale = min(fits)
        else:  # a dot, or a straight line along the one side given: fit its longer side
            side = avail["h"] if avail["h"] is not None else avail["w"]
            scale = side / max(iw, ih) if max(iw, ih) > 0 else 1.0
    W = int(width) if width is not None else max(1, math.ceil(iw * scale + 2 * pad))
    H = int(height) if height is not None else max(1, math.ceil(ih * scale + 2 * pad))
    offset = ((W - iw * scale) / 2 - x0 * scale, (H - ih * scale) / 2 - y0 * scale)
    return _Layout((W, H), float(scale), offset, sw)
