"""SVG output for ink, fit for pen plotters: one unfilled `<path>` per stroke with round caps
and joins, a viewBox in ink units around the ink, several lines stacked top to bottom.

`read_svg_ink` reads back SVGs this module writes (path data with M L H V C S Q T Z, no
transforms); the timestamps it returns are synthetic. Dots are written as `M p L p` so that
every renderer draws them, and a subpath whose points all coincide is read back as one point.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np
import svgwrite

from handwriting.curves import bezier_controls
from handwriting.formats.errors import InkFormatError
from handwriting.formats.fileio import (
    atomic_write,
    check_finite_f32,
    f32_strings,
    read_bytes,
)
from handwriting.formats.xmlsafe import local_name, parse_xml
from handwriting.ink import Ink, InkError

# Parameters per path command; the last two are the end point (H and V take one coordinate).
_PARAMS = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "Z": 0}
_TOKEN = re.compile(r"[\s,]*(?:([A-Za-z])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))")


# Writing

def ink_to_svg_string(
    ink_or_list: Ink | Sequence[Ink],
    stroke_width: float | None = None,
    color: str = "black",
    margin: float | None = None,
    line_gap: float | None = None,
    scale: float | None = None,
    smooth: bool = True,
    unit: str | None = None,
) -> str:
    """SVG text for one ink or several lines of ink placed one below another (left-aligned).

    All lengths are in ink units. By default `stroke_width` is 3 % and `margin` (the space
    beyond the stroke edges) 10 % of the line height (see `_reference_size`); `line_gap` defaults to
    `margin`. Without `scale` the SVG has only a viewBox; with it, width and height are the
    viewBox size times `scale`, in `unit` ("mm", "in", ...; None: user units). `smooth`
    (the default) draws each stroke as one path of centripetal Catmull-Rom curves through
    its points (`curves.bezier_controls`), so round letters look round; the points
    themselves are the curve's end points, so reading the file back gives the same ink.
    `smooth=False` draws straight segments.
    """
    lines = [ink_or_list] if isinstance(ink_or_list, Ink) else list(ink_or_list)
    lines = [line for line in lines if not line.is_empty]
    ref = _reference_size(lines)
    sw = 0.03 * ref if stroke_width is None else float(stroke_width)
    margin = 0.1 * ref if margin is None else float(margin)
    gap = margin if line_gap is None else float(line_gap)
    if sw <= 0 or margin < 0 or gap < 0 or (scale is not None and scale <= 0):
        raise ValueError(f"need stroke_width > 0, margin >= 0, line_gap >= 0 and scale > 0; "
                         f"got {sw}, {margin}, {gap}, {scale}")
    placed = stack_lines(lines, gap)
    if placed:
        x0, y0, x1, y1 = _union_bounds(placed)
    else:
        x0 = y0 = x1 = y1 = 0.0
    pad = margin + sw / 2
    box = (x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
    if unit is not None and unit not in ("mm", "cm", "in", "pt", "pc", "px"):
        raise ValueError(f"unknown SVG length unit {unit!r}")
    size = None if scale is None else (f"{box[2] * scale:.6g}{unit or ''}",
                                       f"{box[3] * scale:.6g}{unit or ''}")
    dwg = svgwrite.Drawing(size=size, viewBox=" ".join(f32_strings(box)), debug=False)
    texts = [line.meta["text"] for line in lines if isinstance(line.meta.get("text"), str)]
    if texts:
        dwg.set_desc(title="\n".join(texts))
    group = dwg.g(fill="none", stroke=color, stroke_width=f32_strings([sw])[0],
                  stroke_linecap="round", stroke_linejoin="round")
    for line in placed:
        for s in line.strokes:
            group.add(dwg.path(d=_path_data(s.xy, smooth)))
    dwg.add(group)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + dwg.tostring() + "\n"


def write_svg(ink_or_list: Ink | Sequence[Ink], path: str | Path, **options) -> None:
    """Write one ink or a list of lines as SVG, atomically; `options` as `ink_to_svg_string`."""
    atomic_write(path, ink_to_svg_string(ink_or_list, **options).encode("utf-8"))


def stack_lines(lines: Sequence[Ink], gap: float) -> list[Ink]:
    """Copies of `lines` moved so each starts `gap` below the one before, left edges aligned
    with the first line (which stays where it is). Empty lines are dropped."""
    out: list[Ink] = []
    for line in lines:
        if line.is_empty:
            continue
        if not out:
            out.append(line)
            continue
        lx0, ly0, _, _ = line.bounds()
        dx = out[0].bounds()[0] - lx0
        dy = out[-1].bounds()[3] + gap - ly0
        out.append(line.map_points(lambda xy, d=(dx, dy): (xy + np.float32(d)).astype(np.float32)))
    return out


def _reference_size(lines: list[Ink]) -> float:
    """The scale of default lengths: a line's height, estimated as 2.5x the median stroke
    height (so a paragraph joined into one `Ink` does not get paragraph-thick pens); else the
    tallest line's width; else 1."""
    heights = [float(np.ptp(s.xy[:, 1])) for line in lines for s in line.strokes if len(s) > 1]
    heights = [h for h in heights if h > 0]
    if heights:
        tallest = max(b[3] - b[1] for b in (line.bounds() for line in lines))
        return min(2.5 * float(np.median(heights)), tallest)
    widths = [b[2] - b[0] for b in (line.bounds() for line in lines)]
    return max(widths, default=0.0) or 1.0


def _union_bounds(lines: list[Ink]) -> tuple[float, float, float, float]:
    b = np.array([line.bounds() for line in lines])
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def _path_data(xy: np.ndarray, smooth: bool) -> str:
    def pt(p) -> str:
        return ",".join(f32_strings(p))

    if len(xy) == 1:
        return f"M {pt(xy[0])} L {pt(xy[0])}"
    if not smooth:
        return f"M {pt(xy[0])} L " + " ".join(pt(p) for p in xy[1:])
    c1, c2 = bezier_controls(xy)
    segs = (f"{pt(a)} {pt(b)} {pt(e)}" for a, b, e in zip(c1, c2, xy[1:], strict=True))
    return f"M {pt(xy[0])} C " + " ".join(segs)


# Reading

def read_svg_ink(path: str | Path) -> Ink:
    path = Path(path)
    return parse_svg_ink(read_bytes(path), path)


def parse_svg_ink(data: bytes, source="<bytes>") -> Ink:
    """Ink from an SVG written by `write_svg`: one stroke per subpath, in document order,
    with synthetic times; the `<title>` becomes `meta["text"]`."""
    root = parse_xml(data, source)
    if local_name(root.tag) != "svg":
        raise InkFormatError(source, f"root element is <{local_name(root.tag)}>, not <svg>")
    strokes = []
    for el in _paths(root, source):
        strokes.extend(_subpaths(el.get("d") or "", source))
    meta = {"format": "svg", "source": str(source)}
    title = next((el for el in root if local_name(el.tag) == "title"), None)
    if title is not None and title.text:
        meta["text"] = title.text
    try:
        return Ink.from_strokes(strokes, **meta)
    except InkError as exc:
        raise InkFormatError(source, str(exc)) from None


def _paths(root: Element, source) -> Iterator[Element]:
    """`<path>` elements in document order; transforms (which this writer never emits) are
    refused rather than silently ignored."""
    for el in root.iter():
        if el.get("transform"):
            raise InkFormatError(source, "transform attributes are not supported "
                                         "(only SVGs written by this program can be read)")
        if local_name(el.tag) == "path":
            yield el


def _subpaths(d: str, source) -> list[np.ndarray]:
    """The end points of every segment of path data `d`, one (N, 2) array per subpath."""
    tokens, pos = [], 0
    while pos < len(d) and d[pos:].strip(" \t\r\n,"):
        m = _TOKEN.match(d, pos)
        if m is None:
            raise InkFormatError(source, f"unreadable path data near {d[pos:pos + 20]!r}")
        if m.group(1) and m.group(1).upper() not in _PARAMS:
            raise InkFormatError(source, f"unsupported path command {m.group(1)!r}")
        tokens.append(m.group(1) or float(m.group(2)))
        pos = m.end()
    subpaths: list[list[tuple[float, float]]] = []
    x = y = 0.0
    start, cmd, i = (0.0, 0.0), None, 0
    while i < len(tokens):
        if isinstance(tokens[i], str):
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                if subpaths:
                    subpaths[-1].append(start)
                x, y = start
                continue
        elif cmd is None or cmd in "Zz":
            raise InkFormatError(source, "path data has a number where a command belongs")
        n = _PARAMS[cmd.upper()]
        args = tokens[i:i + n]
        if len(args) < n or any(isinstance(a, str) for a in args):
            raise InkFormatError(source, f"path command {cmd!r} lacks its {n} numbers")
        i += n
        rel = cmd.islower()
        if cmd in "Hh":
            x = args[0] + (x if rel else 0.0)
        elif cmd in "Vv":
            y = args[0] + (y if rel else 0.0)
        else:
            x, y = args[-2] + (x if rel else 0.0), args[-1] + (y if rel else 0.0)
        if cmd in "Mm":
            start = (x, y)
            subpaths.append([start])
            cmd = "l" if rel else "L"  # further pairs after a moveto are linetos
        elif not subpaths:
            raise InkFormatError(source, "path data must start with a moveto (M)")
        else:
            subpaths[-1].append((x, y))
    out = []
    for points in subpaths:
        arr = check_finite_f32(np.array(points, dtype=np.float64), source, "path data")
        out.append(arr[:1] if np.all(arr == arr[0]) else arr)
    return out
