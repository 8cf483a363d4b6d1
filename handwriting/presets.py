"""Style presets on disk (`models/styles.npz`): priming samples (Graves 2013, §5.5) with
their names and texts, in one .npz without pickle. Light to import: the app lists the presets
from it without loading a model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from handwriting.results import Style, models_dir

# The hand written when no style is asked for (the CLI, the app, `evaluate legibility`): one
# hand for every line of a text, and the most legible preset. Without a style the model
# draws a new writer for each line, from all of IAM-OnDB's, the illegible ones included:
# most lines it wrote unreadably had well-formed attention and a messy hand. Chosen by the
# choosing recognizer (never the judge) on IAM-OnDB trainset text; models/synthesizer.md,
# "A default hand".
DEFAULT_STYLE = "tidy"
UNPRIMED = "none"  # the style name that asks for the model's own hand (a new one each line)


def default_style(styles) -> str | None:
    """`DEFAULT_STYLE` when `styles` (names) has it, else None (unprimed)."""
    return DEFAULT_STYLE if DEFAULT_STYLE in styles else None


def shipped_styles_path() -> Path:
    """Where the shipped presets live: `styles.npz` beside the shipped synthesizer."""
    return models_dir() / "styles.npz"


def shipped_style_names() -> list[str]:
    """The shipped presets' names, read without loading a model ([] when none are shipped)."""
    path = shipped_styles_path()
    return sorted(load_styles(path)) if path.is_file() else []


def save_styles(styles: list[Style], path) -> None:
    """Store style presets in one .npz (offsets per style, names and texts as JSON),
    atomically."""
    path = Path(path)
    arrays = {f"offsets_{i}": s.offsets.astype(np.float32) for i, s in enumerate(styles)}
    meta = json.dumps([{"name": s.name, "text": s.text} for s in styles])
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(meta), **arrays)
    os.replace(tmp, path)


def load_styles(path) -> dict[str, Style]:
    """The presets in a file `save_styles` wrote, by name."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return {m["name"]: Style(m["name"], z[f"offsets_{i}"], m["text"])
                for i, m in enumerate(meta)}
