"""The recognizer behind `handwriting.service.Recognizer` (import it from there): weights,
features, alphabet, decoder and language models; the network runs in Numba or torch."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.checkpoint import CheckpointError, config_from, read_checkpoint
from handwriting.decoding import Hypothesis, beam_search, greedy_hypothesis
from handwriting.features import FeatureConfig, Standardizer, char_points_of, encode, point_max
from handwriting.ink import Ink
from handwriting.models import numba_recognizer
from handwriting.models.configs import RecognizerConfig
from handwriting.models.torch_load import load_torch_net, set_torch_threads
from handwriting.results import (
    Inspection,
    Recognition,
    models_dir,
)
from handwriting.selfcheck import Reading

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
    # after the beam: out-of-vocabulary words a typo from a vocabulary word (`wordfix`);
    # fix_max_edits 0 turns it off
    fix_max_edits: int = 0
    fix_lm_weight: float = 0.5
    fix_bonus: float = 16.0


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
        # torch caches per input size, so it is warmed on two lengths; the compiled engine once
        for points in (1000, 400) if self.engine == "torch" else (1000,):
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

    def read_scored(self, inks: list[Ink]) -> list[Reading]:
        """`read` (greedy) and, for each ink, ln p(its `meta["text"]` | ink) summed over all
        CTC alignments (`alignment.ctc_logprob`): how strongly the ink says the text it was
        meant to write, which self-checking synthesis uses to choose among candidates that
        read equally well (`selfcheck.Reading`)."""
        from handwriting.alignment import ctc_logprob
        from handwriting.alphabet import detokenize

        out = []
        for ink, lp in zip(inks, self.log_posteriors(inks), strict=True):
            meant = self.alphabet.normalize(ink.meta.get("text", "")).text
            score = ctc_logprob(lp, np.array(self.alphabet.encode(meant), np.int64))
            out.append(Reading(detokenize(greedy_hypothesis(lp, self.alphabet).text), score))
        return out

    def group_lines(self, ink: Ink) -> list[list[int]]:
        """The page's lines of writing as stroke indices, top line first
        (`handwriting.grouping.group_lines`): offered here so that the app groups a page in
        the model's process, off its GUI thread, where a full page took tens of
        milliseconds."""
        from handwriting.grouping import group_lines

        return group_lines(ink)

    def decode(self, log_probs: np.ndarray, decoder: str | None = None, nbest: int = 5,
               settings: DecoderSettings | None = None, complete: bool = True
               ) -> list[Hypothesis]:
        """Decode (T', K) log-posteriors. `complete=False` for a line still being written."""
        decoder = decoder or self.default_decoder
        if decoder == "greedy":
            return [greedy_hypothesis(log_probs, self.alphabet)]
        if decoder == "beam":
            s = settings or self.decoder_settings
            hyps = beam_search(log_probs, self.alphabet, beam_width=s.beam_width, lm=self.lm,
                               lm_weight=s.lm_weight, insertion_bonus=s.insertion_bonus,
                               lexicon=self.lexicon, nbest=nbest, complete=complete,
                               word_lm=self.word_lm, word_weight=s.word_weight,
                               oov_penalty=s.oov_penalty, word_bonus=s.word_bonus)
            if s.fix_max_edits > 0 and self.word_lm is not None and hyps:
                hyps = self._fixed(hyps, log_probs, s, complete)
            return hyps
        raise ValueError(f"unknown decoder {decoder!r}; expected 'greedy' or 'beam'")

    def _fixed(self, hyps: list[Hypothesis], log_probs: np.ndarray, s: DecoderSettings,
               complete: bool) -> list[Hypothesis]:
        """The best hypothesis with its near-miss non-words corrected (`wordfix`); the other
        n-best entries follow it, less any that now read the same."""
        from handwriting.wordfix import WordFix, correct

        fix = WordFix(s.fix_max_edits, s.fix_lm_weight, s.fix_bonus)
        first = correct(hyps[0], log_probs, self.alphabet, self.word_lm, fix, complete)
        if first is hyps[0]:
            return hyps
        return [first, *(h for h in hyps[1:] if h.text != first.text)]

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
        shared: dict = {}  # the n-best hypotheses share most characters' frames
        char_points = tuple(char_points_of(h.char_frames, frame_points, shared) for h in hyps)
        return Recognition(hyps[0].text, tuple(hyps), log_probs, frame_points, char_points,
                           decoder or self.default_decoder, time.perf_counter() - t0)
