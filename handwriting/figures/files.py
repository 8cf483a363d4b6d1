"""Writing a figure to disk: a PIL image as PNG or SVG (embedded PNG), an svgwrite drawing
as SVG."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import svgwrite
from PIL import Image

from handwriting.formats.fileio import atomic_write


def save_figure(figure, path: str | Path) -> None:
    """Write a PIL image or an svgwrite drawing: .png (PIL images only) or .svg (a PIL image
    goes in as an embedded PNG <image>). Unknown extensions raise ValueError."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".png", ".svg"):
        raise ValueError(f"figure file must end in .png or .svg, got {path.name!r}")
    if isinstance(figure, svgwrite.Drawing):
        if ext != ".svg":
            raise ValueError(f"an SVG drawing cannot be written as {ext}; use .svg")
        atomic_write(path, figure.tostring().encode("utf-8"))
        return
    if not isinstance(figure, Image.Image):
        raise ValueError(f"expected a PIL image or svgwrite drawing, got {type(figure).__name__}")
    buf = io.BytesIO()
    figure.save(buf, format="PNG", optimize=True)
    if ext == ".png":
        atomic_write(path, buf.getvalue())
        return
    w, h = figure.size
    dwg = svgwrite.Drawing(size=(f"{w}px", f"{h}px"), viewBox=f"0 0 {w} {h}", debug=False)
    href = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    dwg.add(dwg.image(href=href, insert=(0, 0), size=(w, h)))
    atomic_write(path, dwg.tostring().encode("utf-8"))
