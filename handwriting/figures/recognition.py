"""Recognizer figures: cell-state and gate heatmaps of one LSTM and the CTC posteriors over
time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from handwriting.figures.arrays import (
    QUANTITIES,
    activity_order,
    class_label,
    nice_step,
    top_classes,
    unit_values,
)
from handwriting.figures.palette import BLANK, class_color, diverging01, sequential_rgb
from handwriting.figures.plotting import _heatmap, _line_plot, _vstack
from handwriting.traces import diverging_rgb

GATES = (("i", "input gate i: how much of the new candidate enters c"),
         ("f", "forget gate f: how much of c is kept"),
         ("o", "output gate o: how much of tanh(c) becomes h"))


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
