"""Pictures of ink at a physical size, one rule for the app and the CLI: SVG with width and
height in millimetres (a viewBox in ink units, one path per stroke), PNG at a DPI (recorded
in the file) or a pixel height, stroke widths in millimetres. Ink read with physical units
(`meta["units"] == "mm"`, as the InkML reader marks it) keeps its size; other ink is scaled
so that its writing height is `WRITING_HEIGHT_MM`."""

from __future__ import annotations

from handwriting.grouping import writing_height
from handwriting.ink import Ink

WRITING_HEIGHT_MM = 6.0  # a line of handwriting on paper: letters 3-4 mm, ascenders above
DEFAULT_STROKE_MM = 0.4  # a fine felt-tip or plotter pen
DEFAULT_DPI = 300.0
MM_PER_INCH = 25.4
MAX_PNG_SIDE = 8000  # pixels; a larger request is refused, not rendered


def mm_per_unit(ink: Ink) -> float:
    """Millimetres per ink unit for pictures of `ink`."""
    if ink.meta.get("units") == "mm":
        return 1.0
    return WRITING_HEIGHT_MM / (writing_height(ink) or 1.0)


def titled(ink: Ink, text: str | None) -> Ink:
    """`ink` whose title (`meta["text"]`, the SVG title and PNG Title) is `text`; none when
    `text` is empty (the title follows the document, not text that was cleared away)."""
    meta = {k: v for k, v in ink.meta.items() if k != "text"}
    if text:
        meta["text"] = text
    return Ink(ink.strokes, meta)


def _stroke_mm(stroke_width_mm: float | None) -> float:
    mm = DEFAULT_STROKE_MM if stroke_width_mm is None else float(stroke_width_mm)
    if not mm > 0:
        raise ValueError(f"stroke width must be positive (mm), got {stroke_width_mm}")
    return mm


def svg_options(ink: Ink, stroke_width_mm: float | None = None, color: str = "black") -> dict:
    """`write_ink` options for an SVG of `ink`: width and height in mm, the stroke width."""
    k = mm_per_unit(ink)
    return {"stroke_width": _stroke_mm(stroke_width_mm) / k, "scale": k, "unit": "mm",
            "color": color}


def png_options(ink: Ink, stroke_width_mm: float | None = None, color: str = "black",
                dpi: float | None = None, height_px: int | None = None) -> dict:
    """`write_ink` options for a PNG of `ink` at `dpi` (default 300) or `height_px` pixels
    high (the DPI then follows from the physical height)."""
    if dpi is not None and height_px is not None:
        raise ValueError("give either a DPI or a pixel height, not both")
    k = mm_per_unit(ink)
    if height_px is not None:
        if not 0 < height_px <= MAX_PNG_SIDE:
            raise ValueError(f"PNG height must be 1 to {MAX_PNG_SIDE} pixels, got {height_px}")
        _, y0, _, y1 = ink.bounds()
        dpi = height_px * MM_PER_INCH / max((y1 - y0) * k, 1e-6)
    dpi = DEFAULT_DPI if dpi is None else float(dpi)
    if not 0 < dpi <= 2400:
        raise ValueError(f"DPI must be between 0 and 2400, got {dpi}")
    px_per_unit = k * dpi / MM_PER_INCH
    x0, y0, x1, y1 = ink.bounds()
    if max(x1 - x0, y1 - y0) * px_per_unit > MAX_PNG_SIDE:
        raise ValueError(f"a PNG of this ink at {dpi:g} DPI would be over {MAX_PNG_SIDE} pixels "
                         "wide: give a lower DPI")
    stroke_px = max(1.0, _stroke_mm(stroke_width_mm) * dpi / MM_PER_INCH)
    if height_px is not None:
        return {"height": int(height_px), "stroke_width": stroke_px, "color": color,
                "dpi": dpi}
    return {"scale": px_per_unit, "stroke_width": stroke_px, "color": color, "dpi": dpi}


def picture_options(ink: Ink, ext: str, stroke_width_mm: float | None = None,
                    color: str = "black", dpi: float | None = None,
                    height_px: int | None = None) -> dict:
    """`write_ink` options for a file of type `ext` (".svg", ".png"; others take none)."""
    ext = ext.lower()
    if ext == ".svg":
        return svg_options(ink, stroke_width_mm, color)
    if ext == ".png":
        return png_options(ink, stroke_width_mm, color, dpi, height_px)
    return {}
