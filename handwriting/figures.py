"""The introspection panels as images for the CLI: cell-state and gate heatmaps, CTC
posteriors, ink coloured by saliency or by one unit, the synthesis attention window, the
next-point density and the end-of-stroke trace. numpy + Pillow + svgwrite only; the Qt panels
in `gui/insight` share the array helpers (colour ramps, unit order, value scaling)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import svgwrite
from PIL import Image, ImageDraw, ImageFont

from handwriting.formats.fileio import atomic_write
from handwriting.ink import Ink
from handwriting.introspect import CellTrace, PointMixture, diverging_rgb, mixture_density_grid

TEXT = (40, 44, 52)
MUTED = (120, 126, 136)
GRID = (200, 204, 210)
CURSOR = (20, 20, 20)
INK_GREY = (205, 208, 214)
BLANK = (190, 194, 200)  # the CTC blank's line
HALO = (198, 219, 239)  # light blue behind the points of the chosen character
FONT_SIZE = 11
MARGIN_LEFT, MARGIN_RIGHT, COLORBAR_WIDTH = 64, 14, 78  # pixels beside a plot
QUANTITIES = {"c": "cell state c", "tanh_c": "tanh(c)", "h": "output h"}
GATES = (("i", "input gate i: how much of the new candidate enters c"),
         ("f", "forget gate f: how much of c is kept"),
         ("o", "output gate o: how much of tanh(c) becomes h"))

# Sequential ramps, low -> high (ColorBrewer "Purples" and "YlOrRd"): purple for
# probabilities and gates, so they never read as the blue (negative) of the diverging scale.
PURPLES = np.array([[255, 255, 255], [218, 218, 235], [158, 154, 200], [106, 81, 163],
                    [63, 0, 125]], np.float64)
HEAT = np.array([[255, 237, 160], [254, 178, 76], [240, 59, 32], [189, 0, 38],
                 [110, 0, 30]], np.float64)
# Categorical colours for a few classes at once (Tableau 10, grey left out).
CATEGORICAL = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207))

# --------------------------------------------------------------------------- shared helpers


def _ramp_rgb(values, ramp: np.ndarray) -> np.ndarray:
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), 0.0, 1.0)
    pos = v * (len(ramp) - 1)
    lo = np.minimum(pos.astype(np.int64), len(ramp) - 2)
    frac = (pos - lo)[..., None]
    return np.round(ramp[lo] * (1 - frac) + ramp[lo + 1] * frac).astype(np.uint8)


LUT_SIZE = 1021  # colour look-up tables: finer than the uint8 output, one take() per pixel
_LUTS = {id(PURPLES): _ramp_rgb(np.linspace(0, 1, LUT_SIZE), PURPLES),
         id(HEAT): _ramp_rgb(np.linspace(0, 1, LUT_SIZE), HEAT)}
_DIVERGING_LUT = diverging_rgb(np.linspace(-1, 1, LUT_SIZE))


def _lut_index(values, lo: float, hi: float) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, np.float32), nan=0.0)  # white on both scales
    return np.clip(np.rint((v - lo) * ((LUT_SIZE - 1) / (hi - lo))), 0, LUT_SIZE - 1).astype(np.intp)


def sequential_rgb(values, ramp: np.ndarray = PURPLES) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (..., 3) along `ramp` (clipped; NaN is the low end)."""
    lut = _LUTS.get(id(ramp))
    if lut is None:
        return _ramp_rgb(values, ramp)
    return lut[_lut_index(values, 0.0, 1.0)]


def diverging_fast(values) -> np.ndarray:
    """`introspect.diverging_rgb` through a look-up table (several times faster on heatmaps;
    differs by at most one level)."""
    return _DIVERGING_LUT[_lut_index(values, -1.0, 1.0)]


def robust_scale(values, percentile: float = 98.0) -> float:
    """A scale for colouring unbounded values (cell states reach +-100): the `percentile` of
    |values|, so a few extreme cells do not wash out the rest."""
    a = np.abs(np.asarray(values, np.float64))
    s = float(np.percentile(a, percentile)) if a.size else 0.0
    return s if s > 1e-6 else 1.0


def unit_values(cell: CellTrace, quantity: str = "c") -> tuple[np.ndarray, str]:
    """(T, H) values of one LSTM in [-1, 1] for a diverging colour scale, and their label.
    'c': the cell state divided by its robust scale; 'tanh_c': what the output gate sees;
    'h': the output h = o * tanh(c) (Graves 2013, eq. 11)."""
    if quantity == "c":
        s = robust_scale(cell.c)
        return np.clip(cell.c / s, -1, 1), f"c / {s:.3g}"
    if quantity == "tanh_c":
        return np.tanh(cell.c), "tanh(c)"
    if quantity == "h":
        return cell.h, "h"
    raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}; got {quantity!r}")


def activity_order(values) -> np.ndarray:
    """Unit indices of (T, H) values, the most active units (largest standard deviation
    over time) first: strong, changing units on top, near-silent ones at the bottom."""
    v = np.asarray(values, np.float64)
    return np.argsort(-v.std(0), kind="stable") if v.shape[0] else np.arange(v.shape[1])


def lively_units(cell: CellTrace) -> np.ndarray:
    """Unit indices, the units whose cell state reacts most to the ink first: mean absolute
    change per frame relative to the unit's own range (drifting counters and silent units
    last). A good default for the neuron view."""
    c = np.asarray(cell.c, np.float64)
    if c.shape[0] < 2:
        return np.arange(c.shape[1])
    size = np.abs(c).max(0)
    score = np.abs(np.diff(c, axis=0)).mean(0) / np.maximum(size, 1e-9)
    score[size < 0.1 * robust_scale(c)] = -1.0  # too faint to see
    return np.argsort(-score, kind="stable")


def single_unit(cell: CellTrace, unit: int, quantity: str = "c") -> tuple[np.ndarray, str]:
    """(T,) values of one unit in [-1, 1] and their label: c scaled by the unit's own
    largest |c| (a unit's pattern matters more than its size), tanh(c) and h as they are."""
    if not 0 <= unit < cell.c.shape[1]:
        raise ValueError(f"unit {unit} outside 0..{cell.c.shape[1] - 1}")
    if quantity != "c":
        return unit_values(cell, quantity)[0][:, unit], QUANTITIES[quantity]
    c = cell.c[:, unit]
    s = float(np.abs(c).max()) if c.size else 0.0
    s = s if s > 1e-6 else 1.0
    return c / s, f"c / {s:.3g}"


def emitted_chars(text: str, char_frames: Sequence[int]) -> list[tuple[int, str]]:
    """(frame, character) for each character of a decoded text (`Hypothesis.char_frames`)."""
    return [(int(f), c) for f, c in zip(char_frames, text, strict=False)]


def top_classes(probs, k: int = 8, min_peak: float = 0.1) -> np.ndarray:
    """The (at most k) non-blank classes of probs (T, K) whose peak reaches `min_peak`, the
    highest peaks first."""
    p = np.asarray(probs)
    if p.size == 0:
        return np.zeros(0, np.int64)
    peak = p[:, 1:].max(0)
    order = np.argsort(-peak, kind="stable")[:k]
    return order[peak[order] >= min_peak] + 1


def class_label(cls: int, chars: str) -> str:
    """Display text of class `cls` (0 = CTC blank) of an alphabet string."""
    if cls == 0:
        return "blank"
    c = chars[cls - 1] if 0 < cls <= len(chars) else "?"
    return "\u00b7" if c == " " else c


def ink_segments(ink: Ink) -> tuple[np.ndarray, np.ndarray]:
    """All points (N, 2) and the segments between consecutive points of a stroke as point
    index pairs (S, 2); a one-point stroke is one zero-length segment (a dot)."""
    if ink.is_empty:
        return np.zeros((0, 2)), np.zeros((0, 2), np.int64)
    xy = np.concatenate([s.xy for s in ink.strokes]).astype(np.float64)
    segs, start = [], 0
    for s in ink.strokes:
        idx = np.arange(start, start + len(s))
        segs.append(np.stack([idx[:-1], idx[1:]], 1) if len(s) > 1 else np.array([[start, start]]))
        start += len(s)
    return xy, np.concatenate(segs)


def covariance_ellipses(sigma, rho) -> np.ndarray:
    """One-sigma ellipses of bivariate Gaussians sigma (M, 2), rho (M,): rows of (semi-axis a,
    semi-axis b, angle of a in radians), from the eigenvectors of the covariance (eq. 24)."""
    sigma, rho = np.asarray(sigma, np.float64), np.asarray(rho, np.float64)
    s1, s2 = sigma[:, 0], sigma[:, 1]
    cxx, cyy, cxy = s1**2, s2**2, rho * s1 * s2
    half_tr, diff = (cxx + cyy) / 2, np.sqrt(((cxx - cyy) / 2) ** 2 + cxy**2)
    l1, l2 = half_tr + diff, np.maximum(half_tr - diff, 0.0)
    angle = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
    return np.stack([np.sqrt(l1), np.sqrt(l2), angle], 1)


def nice_step(n: int, target: int = 8) -> int:
    """A round tick step (1, 2, 5, 10, 20, ...) giving about `target` ticks over n."""
    raw = max(n / max(target, 1), 1.0)
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


# --------------------------------------------------------------------------- drawing helpers


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


def diverging01(v) -> np.ndarray:
    """The diverging scale on [0, 1] (0 blue, 0.5 white, 1 red): for colour bars."""
    return diverging_rgb(2 * np.asarray(v) - 1)


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


# --------------------------------------------------------------------------- recognizer


def _unit_rows(order: np.ndarray, unit: int | None):
    H = len(order)
    step = nice_step(H, 8)
    sorted_ = not np.array_equal(order, np.arange(H))
    ticks = [] if sorted_ else [(r, str(r)) for r in range(0, H, step)]
    rows = np.empty(H, np.int64)
    rows[order] = np.arange(H)
    highlight = [(int(rows[unit]), f"unit {unit}")] if unit is not None and 0 <= unit < H else []
    return ticks, highlight


def cell_state_figure(trace, layer: int = 0, direction: str = "fwd", quantity: str = "c",
                      sort: bool = False, unit: int | None = None,
                      chars: Sequence[tuple[int, str]] = (), frame: int | None = None
                      ) -> Image.Image:
    """Units x time of one LSTM of a `RecognizerTrace`, blue (-1) to red (+1)."""
    cell = trace.direction(layer, direction)
    values, label = unit_values(cell, quantity)  # (T, H)
    order = activity_order(values) if sort else np.arange(values.shape[1])
    ticks, highlight = _unit_rows(order, unit)
    name = "forward" if direction == "fwd" else "backward"
    return _heatmap(diverging_rgb(values[:, order].T),
                    title=f"{QUANTITIES[quantity]} of layer {layer}, {name} LSTM "
                          f"({values.shape[1]} units{', most active first' if sort else ''})",
                    row_label="units (sorted)" if sort else "unit", col_label="frame",
                    row_ticks=ticks, chars=chars, frame=frame, highlight=highlight,
                    colorbar=(diverging01, ["+1", "0", "-1"], label))


def gate_figure(trace, layer: int = 0, direction: str = "fwd", sort: bool = False,
                unit: int | None = None, chars: Sequence[tuple[int, str]] = (),
                frame: int | None = None) -> Image.Image:
    """Input, forget and output gates (0 white to 1 purple) of one LSTM, stacked; with `sort`
    the rows follow the cell-state figure's order."""
    cell = trace.direction(layer, direction)
    order = activity_order(unit_values(cell)[0]) if sort else np.arange(cell.c.shape[1])
    ticks, highlight = _unit_rows(order, unit)
    row_px = int(np.clip(160 // max(len(order), 1), 1, 6))
    panels = [_heatmap(sequential_rgb(getattr(cell, g)[:, order].T), title=desc,
                       row_label="unit", col_label="frame", row_ticks=ticks, chars=chars,
                       frame=frame, highlight=highlight, row_px=row_px,
                       colorbar=(sequential_rgb, ["1", "0.5", "0"], g))
              for g, desc in GATES]
    return _vstack(panels)


def class_color(cls: int) -> tuple[int, int, int]:
    """A fixed colour per class, so a letter keeps its colour from line to line."""
    return CATEGORICAL[cls % len(CATEGORICAL)]


def posterior_lines(probs, chars_of_classes: str, chars: Sequence[tuple[int, str]] = (),
                    min_peak: float = 0.1):
    """What a posterior plot draws for probs (T', K): the classes reaching `min_peak` (highest
    peaks first), labels (t, p, text, rgb) at peaks of characters that were *not* emitted
    there, and the emitted characters as (frame, char, rgb)."""
    p = np.asarray(probs)
    index = {c: k + 1 for k, c in enumerate(chars_of_classes)}
    marks = [(f, c, class_color(index.get(c, 0))) for f, c in chars]
    emitted = {(f + d, index.get(c, -1)) for f, c in chars for d in (-1, 0, 1)}
    classes = top_classes(p, 40, min_peak)
    peaks = []
    for cls in classes.tolist():
        v = p[:, cls]
        local = np.flatnonzero((v >= 0.3) & (v >= np.roll(v, 1)) & (v >= np.roll(v, -1)))
        peaks += [(int(t), float(v[t]), class_label(cls, chars_of_classes), class_color(cls))
                  for t in local.tolist() if (t, cls) not in emitted]
    return classes, peaks, marks


def posterior_figure(log_probs, chars_of_classes: str, chars: Sequence[tuple[int, str]] = (),
                     frame: int | None = None, min_peak: float = 0.1) -> Image.Image:
    """CTC posteriors over time: blank in grey, every character that reaches `min_peak` in
    its colour; the decoded characters above, at the frames they were emitted (Graves et al.
    2009, fig. 3: CTC's spikes). Peaks of characters that were not emitted get a label."""
    p = np.exp(np.asarray(log_probs, np.float64))  # (T', K)
    classes, peaks, marks = posterior_lines(p, chars_of_classes, chars, min_peak)
    series = [(p[:, 0], BLANK, 1)] + [(p[:, c], class_color(int(c)), 2) for c in classes]
    return _line_plot(series, title="CTC posteriors p(class | frame): blank in grey; above, "
                      "the decoded characters where they were emitted", y_label="probability",
                      n=p.shape[0], chars=marks, frame=frame, peaks=peaks)


# --------------------------------------------------------------------------- ink colouring


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


# --------------------------------------------------------------------------- synthesis


def attention_figure(phi, text: str, text_offset: int = 0, frame: int | None = None
                     ) -> Image.Image:
    """The soft window phi (T, U + 1) as characters x time (Graves 2013, fig. 13), each step
    scaled to its own maximum so the window's shape shows as it widens; the most attended
    character of each step traced in red."""
    phi = np.asarray(phi, np.float64)[:, text_offset:]  # the line's own characters + end slot
    T, U1 = phi.shape
    rows = ["\u00b7" if c == " " else c for c in text][: U1 - 1] + ["end"]
    rows += [""] * (U1 - len(rows))
    rgb = sequential_rgb((phi / np.maximum(phi.max(1, keepdims=True), 1e-9)).T)
    row_px = int(np.clip(420 // max(U1, 1), 6, 14))
    return _heatmap(rgb, title="attention window phi over the text (each step scaled to its "
                    "max; red: most attended)", row_label="character",
                    col_label="step (one pen point each)", row_ticks=list(enumerate(rows)),
                    frame=frame, row_px=row_px,
                    colorbar=(sequential_rgb, ["max", "", "0"], "phi"),
                    path=phi.argmax(1) if T else None)


def eos_figure(eos, pen_up=None, frame: int | None = None) -> Image.Image:
    """End-of-stroke probability over sampling steps; ticks where the pen was lifted."""
    eos = np.asarray(eos, np.float64)
    marks = [] if pen_up is None else [(int(t), (240, 59, 32))
                                       for t in np.flatnonzero(np.asarray(pen_up) > 0.5)]
    return _line_plot([(eos, (63, 0, 125), 2)], title="end-of-stroke probability "
                      "(red ticks: pen lifted)", y_label="p(eos)", n=len(eos), frame=frame,
                      marks=marks, height=120)


def mixture_figure(mix: PointMixture, recent, tip, extent: float = 0.6,
                   sampled=None, size: int = 320, grid: int = 64) -> Image.Image:
    """The next-point distribution around the pen tip (Graves 2013, eq. 23-25): its density
    (white to purple), each component's one-sigma ellipse (darker = heavier weight), the
    recent ink (N, 2) in grey and, if given, the point actually sampled."""
    tip = np.asarray(tip, np.float64).reshape(2)
    dens = mixture_density_grid(mix, tip, extent, grid)  # (grid, grid), rows = y
    top = 22
    img = Image.new("RGB", (size, size + top), "white")
    heat = sequential_rgb((dens / max(float(dens.max()), 1e-12)) ** 0.35)  # tails visible
    img.paste(Image.fromarray(heat).resize((size, size), Image.Resampling.BILINEAR), (0, top))
    over = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(over)
    s = size / (2 * extent)

    def to_px(p):
        p = (np.asarray(p, np.float64) - tip + extent) * s
        return p[..., 0], p[..., 1] + top

    recent = np.asarray(recent, np.float64).reshape(-1, 2)
    if len(recent) > 1:
        x, y = to_px(recent)
        draw.line(list(zip(x.tolist(), y.tolist(), strict=True)), fill=(40, 44, 52, 200),
                  width=2)
    pi = np.exp(np.asarray(mix.log_pi, np.float64))
    for (a, b, ang), mu, w in zip(covariance_ellipses(mix.sigma, mix.rho), mix.mu, pi,
                                  strict=True):
        if w < 0.01:
            continue
        t = np.linspace(0, 2 * np.pi, 33)
        ex = a * np.cos(t) * np.cos(ang) - b * np.sin(t) * np.sin(ang) + mu[0] + tip[0]
        ey = a * np.cos(t) * np.sin(ang) + b * np.sin(t) * np.cos(ang) + mu[1] + tip[1]
        x, y = to_px(np.stack([ex, ey], 1))
        draw.line(list(zip(x.tolist(), y.tolist(), strict=True)),
                  fill=(31, 119, 180, int(60 + 195 * min(1.0, w * 2))), width=1)
    cx, cy = to_px(tip)
    draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(40, 44, 52, 255))
    if sampled is not None:
        x, y = to_px(sampled)
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=(240, 59, 32, 255), width=2)
    img.paste(over, (0, 0), over)
    d = ImageDraw.Draw(img)
    _text(d, (6, 5), f"next point: {len(pi)} Gaussians, p(eos) = {mix.eos:.2f}"
                     + (", red ring: sampled" if sampled is not None else ""))
    return img


# --------------------------------------------------------------------------- files


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
