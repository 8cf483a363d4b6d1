"""Help > About: what the app is, the model cards of the loaded models (`models/*.md`, else
the metrics stored in the checkpoints) and the licence notes."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gui.messages import ModelInfo

LICENCE = """\
## Licence

The code is MIT licensed. The trained weights are derived from the **IAM On-Line Handwriting
Database (IAM-OnDB)**, whose owners allow **non-commercial research use only**; the same holds
for the weights and for ink the models write. Cite: M. Liwicki and H. Bunke, "IAM-OnDB - an
On-Line English Sentence Database Acquired from Handwritten Text on a Whiteboard", ICDAR 2005.

Built with PySide6 (Qt for Python, LGPLv3) and PyTorch (BSD).
"""

INTRO = """\
# Handwriting

Write a line and read it back as text: a bidirectional LSTM trained with CTC (Graves et al.
2009) decodes it with beam search and a character language model. Type text and get ink
back: a mixture-density LSTM with a soft attention window (Graves 2013) writes it.
"""


def model_cards(models: dict[str, ModelInfo], errors: dict[str, str],
                folder: Path | None = None) -> str:
    """Markdown: each model's card if a `.md` file sits beside its weights, else what its
    checkpoint says about itself."""
    parts = []
    for kind in ("recognizer", "synthesizer"):
        info = models.get(kind)
        if info is None:
            why = errors.get(kind, "still loading")
            parts.append(f"## {kind.title()}\n\nNot loaded: {why}\n")
            continue
        card = info.path.with_suffix(".md")
        if card.is_file():
            parts.append(card.read_text(encoding="utf-8", errors="replace"))
            continue
        rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in {**info.metrics, **info.data}.items())
        parts.append(f"## {kind.title()}: {info.summary}\n\nNo model card (`{card.name}`) found; "
                     f"from the checkpoint:\n\n| | |\n|---|---|\n{rows}\n")
    if folder is not None:
        for extra in sorted(folder.glob("*.md")):
            if extra.stem not in models:
                parts.append(extra.read_text(encoding="utf-8", errors="replace"))
    return "\n\n".join(parts)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


class AboutDialog(QDialog):
    def __init__(self, models: dict[str, ModelInfo], errors: dict[str, str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Handwriting")
        self.resize(640, 560)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        folder = next((m.path.parent for m in models.values()), None)
        self.browser.setMarkdown("\n\n".join([INTRO, model_cards(models, errors, folder),
                                              LICENCE]))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
