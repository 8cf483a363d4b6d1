"""The synthesizer behind `handwriting.service.Synthesizer` (import it from there): the
Graves (2013) network's weights, style presets and priming, self-checking candidates."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.checkpoint import CheckpointError, config_from, read_checkpoint
from handwriting.ink import Ink
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.torch_load import load_torch_net, set_torch_threads
from handwriting.presets import UNPRIMED, default_style
from handwriting.results import (
    Hand,
    SynthesisChunk,
    SynthesisPlan,
    models_dir,
)
from handwriting.selfcheck import Reading
from handwriting.service._recognizer import Recognizer

MAX_BIAS = 10.0  # the highest neatness (sampling bias, Graves 2013 §5.4) a caller may ask for


class Synthesizer:
    """A trained Graves (2013) synthesizer with its style presets."""

    MAX_CHARS = 5000
    HAND_MAPS_KEPT = 32  # styles whose `hand_map` is kept (a writer's costs ~0.8 s to measure)

    def __init__(self, ckpt: dict, path: Path | None = None, styles: dict | None = None,
                 threads: int | None = None, candidates: int = 1, reader=None,
                 match_hand: bool = True):
        """`candidates` K > 1: write K candidates of every line and keep the one `reader`
        (a `Recognizer`, or a function inks -> texts; default: the shipped recognizer,
        loaded on first use) reads best (see `handwriting.selfcheck`). `match_hand`: ink
        written in a style that knows its writer's hand (`Style.hand`, as `style_from_ink`
        makes it) is given that hand's slant and letter width (`handwriting.likeness`)."""
        from handwriting.features import SynthesisFeatureConfig
        from handwriting.models.numpy_sampler import FastWeights, synthesizer_shapes

        self.path = path
        self.config = config_from(path, SynthesizerConfig, ckpt["model_config"])
        self.feature_config = config_from(path, SynthesisFeatureConfig, ckpt["feature_config"],
                                          "feature_config")
        self.offset_scale = float(ckpt["offset_scale"])
        self.alphabet = Alphabet(ckpt["alphabet"])
        self.metrics = dict(ckpt.get("metrics", {}))
        self._state, self._threads, self._net = ckpt["state_dict"], threads, None
        expected = synthesizer_shapes(self.config)
        theirs = {k: tuple(np.shape(v)) for k, v in self._state.items()}
        if theirs != expected:
            bad = sorted(k for k in expected.keys() | theirs.keys()
                         if expected.get(k) != theirs.get(k))[0]
            raise CheckpointError(f"{path}: weights do not match the config (first mismatch: "
                                  f"{bad}, config {expected.get(bad)}, weights {theirs.get(bad)})")
        # What the NumPy and Numba engines sample with (`sample_stream`); no torch needed.
        self.weights = FastWeights.from_state(self._state, self.config)
        self.styles = dict(styles or {})
        # what the CLI and the app write in when no style is asked for (`presets.DEFAULT_STYLE`)
        self.default_style = default_style(self.styles)
        self.candidates = self._check_candidates(candidates)
        self._reader = reader
        self.match_hand = bool(match_hand)
        self._written_hands: dict[tuple, Hand | None] = {}  # style and bias -> the hand written

    @property
    def net(self):
        """The torch `SynthesizerNet` (built on first use; importing torch): the reference
        ("torch") engine and the insight code's recorder."""
        if self._net is None:
            from handwriting.models.synthesizer import SynthesizerNet

            set_torch_threads(self._threads)
            self._net = load_torch_net(lambda: SynthesizerNet(self.config), self._state, self.path)
        return self._net

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None,
                        styles_path: str | Path | None = None, **kw) -> Synthesizer:
        """Load a checkpoint (default: shipped `models/synthesizer.pt`) and the style presets
        beside it (`models/styles.npz`) when present."""
        from handwriting.presets import load_styles, shipped_styles_path

        path = Path(path) if path else models_dir() / "synthesizer.pt"
        ckpt = read_checkpoint(path, "synthesizer")
        styles_path = Path(styles_path) if styles_path else shipped_styles_path()
        styles = load_styles(styles_path) if styles_path.is_file() else {}
        return cls(ckpt, path, styles, **kw)

    def warm_up(self) -> None:
        """Prepare the fast sampling step ahead of the first `stream` (compiling it on a
        machine's first run, ~10 s; loading the compiled step later, < 1 s)."""
        from handwriting.models import numba_sampler

        numba_sampler.warm_up(self.weights)

    def plan(self, text: str, max_chars_per_line: int = 40) -> SynthesisPlan:
        """Map `text` onto the alphabet (near equivalents, dropped characters reported) and
        split it into lines at word boundaries."""
        from handwriting.wrapping import split_lines

        if not isinstance(text, str) or not text.strip():
            raise ValueError("text is empty: nothing to write")
        if len(text) > self.MAX_CHARS:
            raise ValueError(f"text has {len(text)} characters, more than {self.MAX_CHARS}")
        paragraphs = [self.alphabet.normalize(p) for p in text.splitlines()]
        dropped = tuple(dict.fromkeys(c for p in paragraphs for c in p.dropped))
        lines = split_lines("\n".join(p.text for p in paragraphs), max_chars_per_line)
        if not lines:
            raise ValueError(f"no writable characters in {text!r}")
        return SynthesisPlan(tuple(lines), dropped)

    def style(self, style) -> object | None:
        """A `Style` from a preset name, a `Style`, or None or "none" (unprimed: the
        model's own hand, a new one each line)."""
        from handwriting.results import Style

        if style is None or isinstance(style, Style):
            return style
        if style == UNPRIMED:
            return None
        if style not in self.styles:
            names = ", ".join([*sorted(self.styles), UNPRIMED])
            raise ValueError(f"unknown style {style!r}; available: {names}")
        return self.styles[style]

    def style_from_ink(self, ink: Ink, text: str, name: str = "custom", hand_from=None):
        """A priming style from any ink line and its transcription (Graves §5.5): its last
        words, cut where the reader's forced alignment finds them in the ink. Its `hand`
        (what `match_hand` gives written ink) is measured on the whole line, or on the lines
        (ink, text) `hand_from` when given: more of the writer's lines, a steadier measure."""
        from handwriting.alignment import ink_word_starts
        from handwriting.features import synthesis_offsets
        from handwriting.likeness import measure_hand
        from handwriting.priming import trim_style
        from handwriting.results import Style

        norm = self.alphabet.normalize(text)
        if not norm.text:
            raise ValueError("the style's text is empty: priming needs the text of its ink")
        style = Style(name, synthesis_offsets(ink, self.feature_config), norm.text,
                      measure_hand(hand_from or [(ink, norm.text)]))  # never the cut's
        reader = self._recognizer()
        starts = ink_word_starts(reader, ink, norm.text) if reader is not None else None
        return trim_style(style, word_starts=starts)

    def _recognizer(self):
        """The choosing reader as a `Recognizer` (loaded on first use), or None when it was
        given as a plain function."""
        if self._reader is None:
            self._reader = Recognizer.from_checkpoint(use_lm=False)
        return self._reader if hasattr(self._reader, "log_posteriors") else None

    @staticmethod
    def _check_candidates(candidates) -> int:
        from handwriting.selfcheck import MAX_CANDIDATES

        if isinstance(candidates, bool) or not isinstance(candidates, int | np.integer) or not (
                1 <= candidates <= MAX_CANDIDATES):
            raise ValueError(f"candidates must be an integer from 1 to {MAX_CANDIDATES}, "
                             f"got {candidates!r}")
        return int(candidates)

    def read(self, inks: list[Ink]) -> list[str]:
        """What the choosing reader reads in each ink (self-checking synthesis)."""
        self._recognizer()
        read = getattr(self._reader, "read", self._reader)
        return read(inks)

    def _read_for_choice(self, inks: list[Ink]) -> list[str] | list[Reading]:
        """`read`, with each ink's intended text (`meta["text"]`) scored by a `Recognizer`
        reader (`Recognizer.read_scored`); a plain function reader's strings as they are."""
        self._recognizer()
        scored = getattr(self._reader, "read_scored", None)
        return scored(inks) if scored is not None else self.read(inks)

    def stream(self, text: str | SynthesisPlan, bias: float = 0.75, style=None,
               seed: int | None = None, should_stop=None, candidates: int | None = None):
        """Yield `SynthesisFrame`s (one per sampled point, all lines in one batch). With
        `candidates` K > 1 (default: this synthesizer's `candidates`) K candidates of every
        line are sampled in that batch and only the best-reading one's frames come out,
        after the whole batch is sampled (`handwriting.selfcheck`); in a style, a line that
        still reads badly when retried is written once more unprimed, in the style's hand
        (`hand_map(style, bias, primed=False)`): a prime can lead the model astray."""
        from handwriting.synthesis import sample_stream

        plan = text if isinstance(text, SynthesisPlan) else self.plan(text)
        if not 0.0 <= bias <= MAX_BIAS:
            raise ValueError(f"bias must be between 0 and {MAX_BIAS:g}, got {bias}")
        k = self.candidates if candidates is None else self._check_candidates(candidates)
        style = self.style(style)
        matrix = self.hand_map(style, bias)

        def sample(lines: list[str], group: int = 0, neater: float = 0.0, primed: bool = True):
            return sample_stream(self.weights, self.alphabet, lines, self.offset_scale,
                                 bias=min(bias + neater, MAX_BIAS),
                                 style=style if primed else None,
                                 seed=None if seed is None else seed + group,
                                 should_stop=should_stop,
                                 hand_map=matrix if primed else self.hand_map(style, bias, False))

        if k == 1:
            return sample(list(plan.lines))
        from handwriting.selfcheck import self_checked_groups

        return self_checked_groups(sample, plan.lines, k, self._read_for_choice,
                                   should_stop=should_stop,
                                   fallback=None if style is None else partial(sample, primed=False))

    def hand_map(self, style, bias: float = 0.75, primed: bool = True) -> np.ndarray | None:
        """(2, 2) the map `stream` applies to ink written in `style` at `bias` (with
        `primed=False`: written unprimed, in `style.hand`; the fallback of self-checking),
        measured on first use and kept (`likeness.calibration_hand`); None without
        `match_hand`, for a style without a hand (a preset, unprimed) or one whose
        calibration lines cannot be measured."""
        from handwriting.likeness import calibration_hand, hand_map

        if not self.match_hand or style is None or style.hand is None:
            return None
        key = ((style.name, style.text, hash(style.offsets.tobytes()), float(bias)) if primed
               else (None, float(bias)))
        if key not in self._written_hands:
            if len(self._written_hands) >= self.HAND_MAPS_KEPT:
                self._written_hands.pop(next(iter(self._written_hands)))  # the oldest
            self._written_hands[key] = calibration_hand(
                lambda text, plain, seed: self.write(text, bias, plain, seed, candidates=1),
                style if primed else None)
        written = self._written_hands[key]
        return None if written is None else hand_map(style.hand, written)

    def stream_chunks(self, text: str | SynthesisPlan, bias: float = 0.75, style=None,
                      seed: int | None = None, should_stop=None, seconds: float = 1 / 60,
                      keep_frames: bool = True, candidates: int | None = None
                      ) -> Iterator[SynthesisChunk]:
        """`stream` grouped into a `SynthesisChunk` about every `seconds` (see
        `synthesis.chunk_stream`): what a view that draws while sampling takes."""
        from handwriting.synthesis import chunk_stream

        plan = text if isinstance(text, SynthesisPlan) else self.plan(text)
        return chunk_stream(self.stream(plan, bias, style, seed, should_stop, candidates),
                            len(plan.lines), seconds, keep_frames)

    def write(self, text: str, bias: float = 0.75, style=None,
              seed: int | None = None, candidates: int | None = None) -> list[Ink]:
        """Sample every line of `text`; returns one `Ink` per line (in writing heights)."""
        return self.write_classified(text, bias, style, seed, candidates)[0]

    def write_classified(self, text: str, bias: float = 0.75, style=None,
                         seed: int | None = None, candidates: int | None = None
                         ) -> tuple[list[Ink], list[str]]:
        """`write`, and how each line went: 'ok' or the failure its window and pen show
        (`handwriting.collapse.classify`)."""
        from handwriting.collapse import TraceRecorder, classify
        from handwriting.geometry import equal_heights
        from handwriting.ink import offsets_to_line_ink
        from handwriting.synthesis import collect_lines

        plan = self.plan(text)
        rec = TraceRecorder([len(t) for t in plan.lines])
        offsets = collect_lines(rec.watch(self.stream(plan, bias, style, seed,
                                                      candidates=candidates)), len(plan.lines))
        inks = [offsets_to_line_ink(o, t) for o, t in zip(offsets, plan.lines, strict=True)]
        return equal_heights(inks), [classify(t) for t in rec.traces()]
