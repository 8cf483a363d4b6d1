"""The typed messages between the GUI thread and `gui.workers`: what the GUI asks for and
what the workers report back (plain frozen dataclasses; Qt carries them as signal args)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handwriting.ink import Ink


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model, for the status bar and the About box."""

    kind: str  # "recognizer" or "synthesizer"
    path: Path
    size_bytes: int
    metrics: dict
    data: dict = field(default_factory=dict)
    styles: tuple[str, ...] = ()  # synthesizer style presets
    headline: str | None = None  # the model card's headline figures (`card_headline`)
    adapted_to: str | None = None  # the stored writer whose adapted recognizer this is

    @property
    def summary(self) -> str:
        """'recognizer.pt (testset_t CER 6.13 %, WER 23.18 %, beam + LM)': the model
        card's headline when there is one, else the checkpoint's own validation figure,
        called that; 'recognizer adapted to Ada (writer-1.pt)' for a writer's model."""
        if self.adapted_to:
            return f"recognizer adapted to {self.adapted_to} ({self.path.name})"
        if self.headline:  # long enough on its own: the size is in the card
            return f"{self.path.name} ({self.headline})"
        extra = [f"{self.size_bytes / 1e6:.1f} MB"]
        if "val_cer" in self.metrics:
            extra.append(f"validation CER {100 * self.metrics['val_cer']:.1f} %")
        elif "val_nll_per_point" in self.metrics:
            extra.append(f"NLL {self.metrics['val_nll_per_point']:.2f}/pt")
        return f"{self.path.name} ({', '.join(extra)})"


def card_headline(card: str) -> str | None:
    """The headline of a model card's metrics table: the row of its default decoder on the
    test split reported (testset_t, else the first default row), as 'testset_t CER 6.13 %,
    WER 23.18 %, beam + LM'. None when the card has no such table."""
    rows = []
    header: list[str] | None = None
    for line in card.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if "|" in line else []
        if "split" in cells and "CER" in cells:
            header = cells
        elif header and len(cells) == len(header) and not set(cells[0]) <= set("-: "):
            rows.append(dict(zip(header, cells, strict=True)))
        elif not cells:
            header = None
    default = [r for r in rows if "default" in r.get("decoder", "")]
    if not default:
        return None
    row = next((r for r in default if r["split"] == "testset_t"), default[0])
    decoder = row["decoder"].replace("(default)", "").strip()
    wer = f", WER {row['WER']}" if "WER" in row else ""
    return f"{row['split']} CER {row['CER']}{wer}, {decoder}"


@dataclass(frozen=True)
class LineRequest:
    """One line to recognize; `key` comes back unchanged with its result."""

    key: object
    ink: Ink


@dataclass(frozen=True)
class LineResult:
    key: object
    candidates: tuple[str, ...]  # n-best texts, best first
    char_points: tuple[tuple[np.ndarray, ...], ...]  # [candidate][char] -> point indices
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class RecognitionResult:
    seq: int
    lines: tuple[LineResult, ...]
    seconds: float  # time the worker spent on this request


@dataclass(frozen=True)
class RecognitionRequest:
    seq: int
    lines: tuple[LineRequest, ...]


@dataclass(frozen=True)
class InsightRequest:
    """Look inside the recognizer on one line (for the insight dock): `key` identifies the
    line (`gui.recognition.line_key`), `ink` is made of the document's own strokes."""

    seq: int
    key: object
    ink: Ink


@dataclass(frozen=True)
class InsightResult:
    seq: int
    key: object
    insight: object | None  # gui.insight.RecognitionInsight; None when it failed
    error: str | None
    seconds: float


@dataclass(frozen=True)
class SaliencyJob:
    seq: int
    request: object  # gui.insight.SaliencyRequest


@dataclass(frozen=True)
class SaliencyAnswer:
    request: object  # gui.insight.SaliencyRequest
    result: object | None  # gui.insight.SaliencyResult; None when it failed
    error: str | None = None


@dataclass(frozen=True)
class SynthesisJob:
    """What to write. `style` is a preset name or None; `prime` is (ink, its text) for
    'use my handwriting' (Graves 2013, §5.5)."""

    job: int
    text: str
    bias: float = 0.75
    style: str | None = None
    prime: tuple[Ink, str] | None = None
    seed: int | None = None
    page: Ink | None = None  # the ink already on the page, whose writing height to measure
    frames: bool = True  # send the sampler's frames too (for the insight panels)
    candidates: int = 1  # > 1: write each line this often, keep the best-reading one


@dataclass(frozen=True)
class SynthesisStarted:
    job: int
    lines: tuple[str, ...]  # the text of each line, as the service split it
    dropped: tuple[str, ...]  # typed characters the alphabet cannot write
    page_height: float | None = None  # `writing_height` of the job's page (None: empty)
    frames: bool = True  # its batches carry the sampler's frames


@dataclass(frozen=True)
class SynthesisBatch:
    job: int
    new: tuple[np.ndarray, ...]  # per line (n, 3) new offsets in writing heights
    finished: np.ndarray  # (B,) bool: the line is complete
    frames: tuple = ()  # the service's SynthesisFrames since the last batch (attention,
    #                     mixture, end of stroke: for panels that show the network at work)


@dataclass(frozen=True)
class SynthesisDone:
    job: int
    cancelled: bool
    error: str | None
    steps: int
    seconds: float
