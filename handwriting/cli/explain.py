"""`handwriting explain FILE --out DIR`: recognize one ink file and write what the recognizer
did as figures (cell states, gates, CTC posteriors, saliency, one unit on the ink) plus a
summary.json. The drawing lives in `figures`; this is the thin command around it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FIGURES = ("cells", "gates", "posteriors", "saliency", "neuron")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `explain` on the CLI's subparsers."""
    p = subparsers.add_parser("explain", help="figures of what the recognizer did on one file")
    p.add_argument("file", help="ink file (IAM XML, InkML, JSON, SVG)")
    p.add_argument("--out", required=True, help="folder for the figures and summary.json")
    p.add_argument("--model", dest="checkpoint", default=None,
                   help="recognizer checkpoint (default: shipped)")
    p.add_argument("--format", choices=("png", "svg"), default="png")
    p.add_argument("--layer", type=int, default=None,
                   help="LSTM layer, 0-based (default: the middle one)")
    p.add_argument("--direction", choices=("fwd", "bwd"), default="fwd")
    p.add_argument("--unit", type=int, default=None,
                   help="unit for neuron.* (default: the one reacting most to the ink)")
    p.add_argument("--char", type=int, default=None,
                   help="index of the recognized character for saliency.* (default: middle)")
    p.set_defaults(handler=cmd_explain)
    return p


def _check_index(name: str, value: int | None, n: int, what: str) -> None:
    if value is not None and not 0 <= value < n:
        raise ValueError(f"{name} {value} outside 0..{n - 1} ({n} {what})")


def _middle_char(text: str) -> int:
    """The non-space character nearest the middle of `text`."""
    idx = [i for i, c in enumerate(text) if not c.isspace()]
    return min(idx, key=lambda i: abs(i - (len(text) - 1) / 2)) if idx else 0


def cmd_explain(args) -> int:
    from handwriting.figures.arrays import emitted_chars, lively_units, single_unit
    from handwriting.figures.files import save_figure
    from handwriting.figures.ink_colouring import (
        neuron_figure,
        neuron_svg,
        point_values,
        saliency_figure,
        saliency_svg,
    )
    from handwriting.figures.recognition import cell_state_figure, gate_figure, posterior_figure
    from handwriting.formats import read_ink
    from handwriting.service import Recognizer

    ink = read_ink(args.file)  # bad files fail before the model loads
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    rec = Recognizer.from_checkpoint(args.checkpoint)
    result = rec.recognize(ink)
    insp = rec.inspect(ink)
    trace = insp.trace
    n_layers, n_units = len(trace.layers), trace.layers[0].fwd.c.shape[1]
    _check_index("--layer", args.layer, n_layers, "layers")
    _check_index("--unit", args.unit, n_units, "units per LSTM")
    layer = n_layers // 2 if args.layer is None else args.layer
    cell = trace.direction(layer, args.direction)
    unit = int(lively_units(cell)[0]) if args.unit is None else args.unit
    unit_values, value_label = single_unit(cell, unit)
    chars = emitted_chars(result.text, result.nbest[0].char_frames)

    # saliency of one recognized character: its log-probability at the frame it was emitted
    best = result.nbest[0]
    char_index, sal_title = None, "saliency (nothing recognized)"
    magnitude = np.zeros(ink.num_points, np.float32)
    highlight = None
    if result.text:
        _check_index("--char", args.char, len(result.text), "recognized characters")
        char_index = _middle_char(result.text) if args.char is None else args.char
        label = rec.alphabet.encode(result.text[char_index])
        frame = int(best.char_frames[char_index])
        magnitude, _ = rec.saliency(ink, insp, frame, int(label[0]) if len(label) else None)
        highlight = result.char_points[char_index]
        sal_title = (f"saliency of {result.text[char_index]!r} (character {char_index}, "
                     f"frame {frame}): which ink points its probability depends on")

    ext = "." + args.format
    neuron_title = (f"unit {unit} of layer {layer} ({args.direction}): its cell state at each "
                    "ink point, blue negative, red positive")
    neuron_values = point_values(unit_values, insp.point_frames)
    pictures = {
        "cells": cell_state_figure(trace, layer, args.direction, "c", sort=True, unit=unit,
                                       chars=chars),
        "gates": gate_figure(trace, layer, args.direction, sort=True, unit=unit,
                                 chars=chars),
        "posteriors": posterior_figure(trace.log_probs, rec.alphabet.chars, chars),
    }
    if args.format == "svg":  # ink as vector paths
        pictures["saliency"] = saliency_svg(ink, magnitude, sal_title)
        pictures["neuron"] = neuron_svg(ink, neuron_values, neuron_title)
    else:
        pictures["saliency"] = saliency_figure(ink, magnitude, sal_title, result.text,
                                                   highlight, mark=char_index)
        pictures["neuron"] = neuron_figure(ink, neuron_values, neuron_title, result.text,
                                               value_label)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name in FIGURES:
        save_figure(pictures[name], out / (name + ext))
        files.append(name + ext)
    summary = {
        "file": str(args.file), "text": result.text,
        "nbest": [{"text": h.text, "score": round(float(h.score), 4)} for h in result.nbest],
        "model": str(rec.path), "layer": layer, "direction": args.direction, "unit": unit,
        "char": char_index, "frames": int(trace.log_probs.shape[0]), "stride": trace.stride,
        "files": files + ["summary.json"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{result.text}\nwrote {len(files)} figures to {out}")
    return 0
