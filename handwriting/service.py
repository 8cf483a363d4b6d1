"""The small API the GUI and the CLI call (sjvasquez `Hand.write`, torchaudio's decoders):
`Recognizer.recognize(ink)` and `Synthesizer.stream(text)`. Never hands out `nn.Module`s;
validates input up front and raises `ValueError` naming the bad value.

The networks run forward in NumPy and Numba (`models.numba_recognizer`, `models.numba_sampler`)
from weights read without torch (`checkpoint.read_checkpoint`): recognizing and writing never
import torch, so the model processes start in ~1 s and hold ~100 MB instead of ~2.5 s and
~400 MB each. The torch networks (`.net`) are built on first use, for what needs gradients
or torch's own step: the insight panels' inspection and saliency, adaptation, the "torch"
engine. Without Numba, torch runs everything, as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.checkpoint import CheckpointError, config_from, read_checkpoint
from handwriting.decoding import Hypothesis, beam_search, greedy_hypothesis
from handwriting.features import FeatureConfig, Standardizer, char_points_of, encode, point_max
from handwriting.ink import Ink
from handwriting.models import numba_recognizer
from handwriting.models.configs import RecognizerConfig, SynthesizerConfig
from handwriting.models.torch_load import load_torch_net, set_torch_threads
from handwriting.results import (
    Inspection,
    Recognition,
    SynthesisChunk,
    SynthesisPlan,
    models_dir,
)

MAX_RAW_POINTS = 200_000  # ~50 lines of whiteboard ink; beyond that we refuse, never hang


ENGINES = ("auto", "numba", "torch")


@dataclass(frozen=True)
class DecoderSettings:
    """Beam search settings; a checkpoint's `decoder` dict overrides the defaults."""

    beam_width: int = 8
    lm_weight: float = 0.5
    insertion_bonus: float = 1.0
    word_weight: float = 0.0  # word LM weight at word ends (0: character LM only)
    oov_penalty: float = 0.0  # added once per word outside the word LM's vocabulary
    word_bonus: float = 0.0  # added per finished word when the word LM is used


def _mismatch(path, exc: Exception) -> CheckpointError:
    return CheckpointError(f"{path}: {exc}")


class Recognizer:
    """A trained recognizer (weights, features, alphabet) plus its decoder and language model.
    `engine`: "numba" runs the network with `models.numba_recognizer` (no torch), "torch" with
    `RecognizerNet`; "auto" (default) is "numba" when Numba is installed."""

    def __init__(self, ckpt: dict, path: Path | None = None, lm=None, lexicon=None,
                 threads: int | None = None, word_lm=None, engine: str = "auto"):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
        self.path = path
        self.config = config_from(path, RecognizerConfig, ckpt["model_config"])
        self.feature_config = config_from(path, FeatureConfig, ckpt["feature_config"],
                                          "feature_config")
        self.standardizer = Standardizer.from_dict(ckpt["standardizer"])
        self.alphabet = Alphabet(ckpt["alphabet"])
        self.metrics = dict(ckpt.get("metrics", {}))
        self.data = dict(ckpt.get("data", {}))
        self._state, self._threads, self._net = ckpt["state_dict"], threads, None
        if engine == "auto":
            engine = "numba" if numba_recognizer.available() else "torch"
        self.engine = engine
        self._weights = None
        if engine == "numba":
            try:
                self._weights = numba_recognizer.RecognizerWeights.from_state(self._state,
                                                                              self.config)
            except numba_recognizer.WeightsError as exc:
                raise _mismatch(path, exc) from None
        else:
            _ = self.net  # built now: a config that does not fit its weights fails here
        self.lm, self.lexicon, self.word_lm = lm, lexicon, word_lm
        # Decoder settings tuned on the validation split (`handwriting tune decoder`).
        tuned = {k: v for k, v in ckpt.get("decoder", {}).items()
                 if k in DecoderSettings.__dataclass_fields__}
        self.decoder_settings = DecoderSettings(**tuned)

    @property
    def net(self):
        """The torch `RecognizerNet` (built on first use; importing torch)."""
        if self._net is None:
            from handwriting.models.recognizer import RecognizerNet

            set_torch_threads(self._threads)
            self._net = load_torch_net(lambda: RecognizerNet(self.config), self._state, self.path)
        return self._net

    @net.setter
    def net(self, net) -> None:
        """New weights (an adapted network): the NumPy engine's copy follows them."""
        self._net = net
        if self.engine == "numba":
            self._weights = numba_recognizer.RecognizerWeights.from_state(net.state_dict(),
                                                                          self.config)

    def _encode(self, ink: Ink):
        return encode(ink, self.feature_config, self.standardizer)

    def _log_probs(self, x: np.ndarray) -> np.ndarray:
        """Log-posteriors (T', K) of one line's standardized features (T, F)."""
        if self.engine == "numba":
            return numba_recognizer.forward(self._weights, x,
                                            numba_recognizer.default_parallel(self._threads))
        import torch

        with torch.no_grad():
            lp, out_lens = self.net(torch.from_numpy(x)[None], torch.tensor([len(x)]))
        return lp[:, 0].numpy()[: int(out_lens[0])]

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, lm_path: str | Path | None = None,
                        use_lm: bool = True, use_lexicon: bool = False,
                        word_lm_path: str | Path | None = None, use_word_lm: bool | None = None,
                        **kw) -> Recognizer:
        """Load a self-describing checkpoint (default: the shipped `models/recognizer.pt`), the
        character LM and the word LM (defaults: those shipped in `handwriting/resources`; the
        word LM, unless `use_word_lm` says otherwise, when the checkpoint's tuned decoder gives
        it a weight)."""
        from handwriting.lexicon import load_default_lexicon
        from handwriting.lm import CharNgramLM, load_default_lm
        from handwriting.wordlm import WordLM, load_default_word_lm

        path = Path(path) if path else models_dir() / "recognizer.pt"
        ckpt = read_checkpoint(path, "recognizer")
        lm = None
        if use_lm:
            lm = CharNgramLM.load(lm_path) if lm_path else load_default_lm()
        lexicon = load_default_lexicon() if use_lexicon else None
        word_lm = None
        if use_word_lm is None:
            use_word_lm = bool(word_lm_path or ckpt.get("decoder", {}).get("word_weight"))
        if use_lm and use_word_lm:
            word_lm = WordLM.load(word_lm_path) if word_lm_path else load_default_word_lm()
        return cls(ckpt, path, lm=lm, lexicon=lexicon, word_lm=word_lm, **kw)

    @property
    def default_decoder(self) -> str:
        return "beam" if self.lm is not None else "greedy"

    def warm_up(self) -> None:
        """Pay the first call's costs before a user's first line: torch's first forward pass
        (allocator, kernels), the LMs' lookup tables, the decoder on a synthetic line."""
        from handwriting.bench import scribble_line

        if self.word_lm is not None:
            self.word_lm.warm_up()
        if self.engine == "numba":
            numba_recognizer.warm_up(self._weights)  # compiled, or loaded from Numba's cache
        for points in (1000, 400):  # two lengths: torch caches per input size
            self.recognize(scribble_line(points))

    def _check(self, ink: Ink) -> None:
        if not isinstance(ink, Ink):
            raise ValueError(f"expected Ink, got {type(ink).__name__}")
        if ink.is_empty:
            raise ValueError("ink is empty: nothing to recognize")
        if ink.num_points > MAX_RAW_POINTS:
            raise ValueError(f"ink has {ink.num_points} points, more than {MAX_RAW_POINTS}: "
                             "split it into lines")

    def log_posteriors(self, inks: list[Ink]) -> list[np.ndarray]:
        """Per-frame log-posteriors (T', K) for each ink (with torch: as one padded batch)."""
        for ink in inks:
            self._check(ink)
        if self.engine == "numba":
            return [self._log_probs(self._encode(i).x) for i in inks]
        import torch

        with torch.no_grad():
            return self._torch_log_posteriors(inks)

    def _torch_log_posteriors(self, inks: list[Ink]) -> list[np.ndarray]:
        import torch

        feats = [torch.from_numpy(self._encode(i).x) for i in inks]
        lens = torch.tensor([len(f) for f in feats])
        x = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
        lp, out_lens = self.net(x, lens)
        lp = lp.transpose(0, 1).numpy()
        return [lp[k, : int(out_lens[k])] for k in range(len(inks))]

    def read(self, inks: list[Ink], decoder: str = "greedy") -> list[str]:
        """The plain text read in each ink line (one padded batch; greedy by default, so a
        language model cannot make scribble read as a word): what self-checking synthesis
        compares with the intended text."""
        from handwriting.alphabet import detokenize

        if not inks:
            return []
        return [detokenize(self.decode(lp, decoder, nbest=1)[0].text)
                for lp in self.log_posteriors(inks)]

    def decode(self, log_probs: np.ndarray, decoder: str | None = None, nbest: int = 5,
               settings: DecoderSettings | None = None, complete: bool = True
               ) -> list[Hypothesis]:
        """Decode (T', K) log-posteriors. `complete=False` for a line still being written."""
        decoder = decoder or self.default_decoder
        if decoder == "greedy":
            return [greedy_hypothesis(log_probs, self.alphabet)]
        if decoder == "beam":
            s = settings or self.decoder_settings
            return beam_search(log_probs, self.alphabet, beam_width=s.beam_width, lm=self.lm,
                               lm_weight=s.lm_weight, insertion_bonus=s.insertion_bonus,
                               lexicon=self.lexicon, nbest=nbest, complete=complete,
                               word_lm=self.word_lm, word_weight=s.word_weight,
                               oov_penalty=s.oov_penalty, word_bonus=s.word_bonus)
        raise ValueError(f"unknown decoder {decoder!r}; expected 'greedy' or 'beam'")

    def inspect(self, ink: Ink) -> Inspection:
        """Record cell states and gates of every LSTM layer and direction on `ink`."""
        import torch

        from handwriting.introspect import record_recognizer

        self._check(ink)
        enc = self._encode(ink)
        x = torch.from_numpy(enc.x)[None]
        trace = record_recognizer(self.net, x, torch.tensor([len(enc.x)]))
        n_frames = trace.log_probs.shape[0]
        stride = self.config.stride
        return Inspection(trace, enc.frame_points(stride, n_frames),
                          enc.point_frames(stride, n_frames), enc.x[None], enc.source)

    def saliency(self, ink: Ink, inspection: Inspection, frame: int,
                 label: int | None = None) -> tuple[np.ndarray, int]:
        """|d log p(label at frame) / d input| per ink point (max over the resampled points
        that came from it), and the label used (default: the most active character)."""
        import torch

        from handwriting.introspect import saliency

        n_frames = inspection.trace.log_probs.shape[0]
        if not 0 <= frame < n_frames:
            raise ValueError(f"frame {frame} outside 0..{n_frames - 1}")
        x = torch.from_numpy(inspection.x)
        sal = saliency(self.net, x, torch.tensor([x.shape[1]]), frame, label)
        return point_max(sal.magnitude, inspection.source, ink.num_points), sal.label

    def recognize(self, ink: Ink, decoder: str | None = None, nbest: int = 5,
                  complete: bool = True) -> Recognition:
        """Recognize one line of ink. `complete=False` for a line still being written (its
        last word may be unfinished: see `decode`)."""
        t0 = time.perf_counter()
        self._check(ink)
        enc = self._encode(ink)
        log_probs = self._log_probs(enc.x)
        hyps = self.decode(log_probs, decoder, nbest=nbest, complete=complete)
        frame_points = enc.frame_points(self.config.stride, len(log_probs))
        char_points = tuple(char_points_of(h.char_frames, frame_points) for h in hyps)
        return Recognition(hyps[0].text, tuple(hyps), log_probs, frame_points, char_points,
                           decoder or self.default_decoder, time.perf_counter() - t0)


class Synthesizer:
    """A trained Graves (2013) synthesizer with its style presets."""

    MAX_CHARS = 5000

    def __init__(self, ckpt: dict, path: Path | None = None, styles: dict | None = None,
                 threads: int | None = None, candidates: int = 1, reader=None):
        """`candidates` K > 1: write K candidates of every line and keep the one `reader`
        (a `Recognizer`, or a function inks -> texts; default: the shipped recognizer,
        loaded on first use) reads best (see `handwriting.selfcheck`)."""
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
        self.candidates = self._check_candidates(candidates)
        self._reader = reader

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
        from handwriting.synthesis import load_styles

        path = Path(path) if path else models_dir() / "synthesizer.pt"
        ckpt = read_checkpoint(path, "synthesizer")
        styles_path = Path(styles_path) if styles_path else models_dir() / "styles.npz"
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
        from handwriting.synthesis import split_lines

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
        """A `Style` from a preset name, a `Style`, or None (unprimed)."""
        from handwriting.synthesis import Style

        if style is None or isinstance(style, Style):
            return style
        if style not in self.styles:
            names = ", ".join(sorted(self.styles)) or "none shipped"
            raise ValueError(f"unknown style {style!r}; available: {names}")
        return self.styles[style]

    def style_from_ink(self, ink: Ink, text: str, name: str = "custom"):
        """A priming style from any ink line and its transcription (Graves §5.5): its last
        words, cut where the reader's forced alignment finds them in the ink."""
        from handwriting.alignment import ink_word_starts
        from handwriting.features import synthesis_offsets
        from handwriting.synthesis import Style, trim_style

        norm = self.alphabet.normalize(text)
        if not norm.text:
            raise ValueError("the style's text is empty: priming needs the text of its ink")
        style = Style(name, synthesis_offsets(ink, self.feature_config), norm.text)
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

    def stream(self, text: str | SynthesisPlan, bias: float = 0.75, style=None,
               seed: int | None = None, should_stop=None, candidates: int | None = None):
        """Yield `SynthesisFrame`s (one per sampled point, all lines in one batch). With
        `candidates` K > 1 (default: this synthesizer's `candidates`) K candidates of every
        line are sampled in that batch and only the best-reading one's frames come out,
        after the whole batch is sampled (`handwriting.selfcheck`)."""
        from handwriting.synthesis import sample_stream

        plan = text if isinstance(text, SynthesisPlan) else self.plan(text)
        if not 0.0 <= bias <= 10.0:
            raise ValueError(f"bias must be between 0 and 10, got {bias}")
        k = self.candidates if candidates is None else self._check_candidates(candidates)
        style = self.style(style)

        def sample(lines: list[str], group: int = 0):
            return sample_stream(self.weights, self.alphabet, lines, self.offset_scale, bias=bias,
                                 style=style, seed=None if seed is None else seed + group,
                                 should_stop=should_stop)

        if k == 1:
            return sample(list(plan.lines))
        from handwriting.selfcheck import self_checked_groups

        return self_checked_groups(sample, plan.lines, k, self.read, should_stop=should_stop)

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
