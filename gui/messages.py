"""The typed messages between the GUI thread and `gui.workers`: what the GUI asks for and
what the workers report back (plain frozen dataclasses; Qt carries them as signal args).
The workers import only this module of the app, so they never depend on the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handwriting.figures.arrays import emitted_chars, ink_segments
from handwriting.ink import Ink, Stroke
from handwriting.results import Inspection, Prime, Recognition


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
    """One line's answer: the service's `Recognition` itself, or why there is none."""

    key: object
    recognition: Recognition | None
    error: str | None = None


def line_key(strokes: tuple[Stroke, ...]) -> tuple[int, ...]:
    """Identity of a line: its stroke objects (immutable, and held alive by the cache)."""
    return tuple(id(s) for s in strokes)


@dataclass(frozen=True)
class RecognitionResult:
    seq: int
    lines: tuple[LineResult, ...]
    seconds: float  # time the worker spent on this request
    # a page request's lines of writing (their strokes, top line first), else None
    layout: tuple[tuple[Stroke, ...], ...] | None = None


@dataclass(frozen=True)
class RecognitionRequest:
    """Lines to recognize; or, with `page`, a whole page: the worker groups it into lines
    (in the recognizer's process, off the GUI thread) and recognizes those whose
    `line_key` is not in `known` (the lines already read)."""

    seq: int
    lines: tuple[LineRequest, ...]
    page: Ink | None = None
    known: frozenset = frozenset()


# The recognizer's view of one line, computed in the recognition worker for the insight
# panels (`gui.insight`), and the saliency maps they ask for.


@dataclass(frozen=True, eq=False)
class RecognitionInsight:
    """One recognized line: its ink, `service.Recognition`, `service.Inspection` and the
    recognizer's alphabet (class k is chars[k - 1]); derived arrays are computed once."""

    ink: Ink
    recognition: Recognition
    inspection: Inspection
    chars: str
    probs: np.ndarray = field(init=False, repr=False)  # (T', K)
    xy: np.ndarray = field(init=False, repr=False)  # (N, 2) ink points
    segs: np.ndarray = field(init=False, repr=False)  # (S, 2) point index pairs
    emitted: list = field(init=False, repr=False)  # (frame, char) of the best text

    def __post_init__(self):
        trace = self.inspection.trace
        xy, segs = ink_segments(self.ink)
        best = self.recognition.nbest[0] if self.recognition.nbest else None
        frames = best.char_frames if best is not None else ()
        object.__setattr__(self, "probs", np.exp(np.asarray(trace.log_probs, np.float64)))
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "segs", segs)
        object.__setattr__(self, "emitted", emitted_chars(self.recognition.text, frames))

    @classmethod
    def compute(cls, recognizer, ink: Ink, decoder: str | None = None) -> RecognitionInsight:
        """Recognize and inspect `ink` with a `service.Recognizer` (≈ 2x a recognition):
        run this in the host's worker thread, not in the GUI thread."""
        return cls(ink, recognizer.recognize(ink, decoder), recognizer.inspect(ink),
                   recognizer.alphabet.chars)

    @property
    def text(self) -> str:
        return self.recognition.text

    @property
    def n_frames(self) -> int:
        return self.probs.shape[0]

    @property
    def n_layers(self) -> int:
        return len(self.inspection.trace.layers)

    @property
    def n_units(self) -> int:
        return self.inspection.trace.layers[0].fwd.c.shape[1]

    @property
    def point_frames(self) -> np.ndarray:
        return self.inspection.point_frames

    def cell(self, layer: int, direction: str):
        return self.inspection.trace.direction(layer, direction)

    def char_at(self, frame: int) -> int | None:
        """The decoded character whose span (its emission to the next one's) holds `frame`."""
        starts = [f for f, _ in self.emitted]
        k = int(np.searchsorted(starts, frame, side="right")) - 1
        return k if 0 <= k < len(starts) else None

    def points_of_frame(self, frame: int) -> np.ndarray:
        fp = self.inspection.frame_points
        return fp[frame] if 0 <= frame < len(fp) else np.zeros(0, np.int64)


@dataclass(frozen=True)
class SaliencyRequest:
    """What a saliency view wants: d log p(label at frame) / d input for the line of
    `insight` (label None: the most active character there)."""

    insight: RecognitionInsight
    frame: int
    label: int | None
    char_index: int | None  # the clicked character, if any


@dataclass(frozen=True)
class SaliencyResult:
    request: SaliencyRequest
    magnitude: np.ndarray  # (N,) per ink point
    label: int  # the class used


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
    insight: RecognitionInsight | None  # None when it failed
    error: str | None
    seconds: float


@dataclass(frozen=True)
class SaliencyJob:
    seq: int
    request: SaliencyRequest


@dataclass(frozen=True)
class SaliencyAnswer:
    request: SaliencyRequest
    result: object | None  # gui.insight.SaliencyResult; None when it failed
    error: str | None = None


@dataclass(frozen=True)
class SynthesisJob:
    """What to write. `style` is a preset name or None; `prime` the ink and its text for
    'use my handwriting' or a stored writer (Graves 2013, §5.5)."""

    job: int
    text: str
    bias: float = 0.75
    style: str | None = None
    prime: Prime | None = None
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
