"""The service API's plain results, and where the shipped models live, without torch: what
a model's process sends to the app's (`handwriting.remote`), so that the app's process
never loads the framework. `service` and `synthesis` import them from here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from handwriting.decoding import Hypothesis
from handwriting.ink import Ink


def models_dir() -> Path:
    """Shipped weights: $HANDWRITING_MODELS, else the installed package's `_models` (the
    repository's `models/` folder, which setup.py maps into the wheel), else, in a source
    checkout, that `models/` folder itself."""
    env = os.environ.get("HANDWRITING_MODELS")
    if env:
        return Path(env)
    installed = Path(str(resources.files("handwriting") / "_models"))
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class Recognition:
    """A recognized line: best text, n-best list, per-frame log-posteriors (T', K), and for
    each character of every hypothesis the indices of the ink points it was emitted from."""

    text: str
    nbest: tuple[Hypothesis, ...]
    log_probs: np.ndarray  # (T', K), K = alphabet + blank (index 0)
    frame_points: tuple[np.ndarray, ...]  # for frame t: indices into ink's concatenated points
    # [hypothesis][char] -> indices into ink's concatenated points (see `char_points_of`)
    nbest_char_points: tuple[tuple[np.ndarray, ...], ...]
    decoder: str
    seconds: float

    @property
    def char_points(self) -> tuple[np.ndarray, ...]:
        """For text[i] (the best hypothesis): indices into ink's concatenated points."""
        return self.nbest_char_points[0] if self.nbest_char_points else ()

    @property
    def candidates(self) -> tuple[str, ...]:
        """The n-best texts, best first."""
        return tuple(h.text for h in self.nbest)

    @classmethod
    def of_texts(cls, candidates: tuple[str, ...],
                 char_points: tuple[tuple[np.ndarray, ...], ...] | None = None,
                 decoder: str = "given") -> Recognition:
        """A recognition known only by its n-best texts (and, per candidate and character,
        the point indices): one read elsewhere, or made up by a test."""
        nbest = tuple(Hypothesis(t, 0.0, 0.0, 0.0, ()) for t in candidates)
        points = char_points if char_points is not None else tuple(() for _ in candidates)
        return cls(candidates[0] if candidates else "", nbest, np.zeros((0, 0), np.float32),
                   (), tuple(points), decoder, 0.0)


@dataclass(frozen=True)
class Inspection:
    """What the recognizer's LSTMs did on one line (Graves's recognition animation): the
    trace of every layer and direction (c, h and gates per frame, see `introspect`), and for
    each frame the ink points it covers."""

    trace: object  # traces.RecognizerTrace
    frame_points: tuple[np.ndarray, ...]
    point_frames: np.ndarray  # (N,) for each ink point, the frame whose input holds it
    x: np.ndarray  # (1, T, F) standardized features (input of the saliency gradient)
    source: np.ndarray  # (T,) for each resampled input point, its ink point


@dataclass(frozen=True)
class SynthesisPlan:
    """Validated text for synthesis: the lines to write and the characters that were dropped."""

    lines: tuple[str, ...]
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class Hand:
    """What a writer's lines measure (`handwriting.likeness.measure_hand`), which written ink
    is made to match: slant in radians (> 0 leaning right) and ink width per character in
    writing heights (`style_stats.StyleStats`)."""

    slant: float
    letter_width: float


class Prime(NamedTuple):
    """Ink to prime synthesis with and the text written in it (Graves §5.5); `hand_from`:
    lines (ink, text) of the same writer whose slant and letter width the written ink is
    given (`handwriting.likeness`; none: the prime's own); `match_hand` False: not given
    them, the ink as priming alone makes it."""

    ink: Ink
    text: str
    hand_from: tuple[tuple[Ink, str], ...] = ()
    match_hand: bool = True


@dataclass(frozen=True)
class Style:
    """A priming sample: its offsets (N, 3) in writing heights and its text (Graves §5.5);
    `hand`, when known, the slant and letter width of the writer's whole lines, which ink
    written in the style is mapped to (`handwriting.likeness`)."""

    name: str
    offsets: np.ndarray
    text: str
    hand: Hand | None = None


@dataclass
class SynthesisFrame:
    """One sampling step for every line of the batch. Offsets are in writing heights."""

    step: int
    offsets: np.ndarray  # (B, 3) dx, dy, pen_up of the new point
    active: np.ndarray  # (B,) bool: line still being written (its point is real)
    phi: np.ndarray  # (B, U + 1) attention over each line's characters (+ the end slot)
    kappa: np.ndarray  # (B, K) window positions, in characters
    eos: np.ndarray  # (B,) end-of-stroke probability of this point
    log_pi: np.ndarray  # (B, M) mixture weights (log) of this point's distribution
    mu: np.ndarray  # (B, M, 2) component means, relative to the previous pen position
    sigma: np.ndarray  # (B, M, 2) component standard deviations
    rho: np.ndarray  # (B, M) correlations
    text_offset: int  # characters of priming text before each line's own text


@dataclass(frozen=True)
class SynthesisChunk:
    """What a stream sampled since the last chunk: the new points of each line, which lines
    are complete, and (when asked for) the frames themselves."""

    points: tuple[np.ndarray, ...]  # per line (n, 3): dx, dy, pen_up in writing heights
    finished: np.ndarray  # (B,) bool: the line has all its points
    frames: tuple[SynthesisFrame, ...]  # the steps of this chunk; () unless `keep_frames`
    steps: int  # steps sampled so far, this chunk's included
