"""Tests for CTC decoding: greedy best path and prefix beam search (exactness against
brute-force enumeration, LM fusion, lexicon constraint, emission frames, pruning)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.decoding import (
    Hypothesis,
    beam_search,
    bench_beam,
    collapse,
    greedy_decode,
    greedy_hypothesis,
    synthetic_log_probs,
)
from handwriting.lexicon import Lexicon
from handwriting.lm import CharNgramLM

EXACT = {"prune_threshold": None, "blank_skip": None}  # no approximations
TEXTS = ["Mr. Foot has put down a resolution", "the subject", "aa bb  ll", "I", "Hello, world!"]


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def brute_force(lp: np.ndarray) -> dict[tuple[int, ...], float]:
    """ln p(l|x) for every labeling l: sum p(pi|x) over all K^T paths pi with B(pi) = l."""
    T, K = lp.shape
    probs: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(K), repeat=T):
        label = tuple(collapse(path))
        p = math.exp(sum(lp[t, k] for t, k in enumerate(path)))
        probs[label] = probs.get(label, 0.0) + p
    return {lab: math.log(p) for lab, p in probs.items()}


def ambiguous_the(alphabet: Alphabet, p_a: float = 0.55) -> np.ndarray:
    """Posteriors spelling 't', 'h', then 'a' (p_a) or 'e' (1 - p_a), blanks between."""
    K = len(alphabet)
    probs = np.full((7, K), 1e-6)
    probs[[0, 2, 4, 6], 0] = 1.0
    probs[1, alphabet.encode("t")[0]] = 1.0
    probs[3, alphabet.encode("h")[0]] = 1.0
    probs[5, alphabet.encode("a")[0]] = p_a
    probs[5, alphabet.encode("e")[0]] = 1.0 - p_a
    return np.log(probs / probs.sum(1, keepdims=True))


@pytest.mark.parametrize("seed", range(12))
def test_beam_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    K, T = int(rng.integers(3, 5)), int(rng.integers(4, 7))
    alphabet = Alphabet("abc"[: K - 1])
    lp = log_softmax(rng.normal(0.0, 1.5, (T, K)))
    exact = brute_force(lp)
    hyps = beam_search(lp, alphabet, beam_width=10_000, nbest=len(exact), **EXACT)
    best = max(exact, key=exact.get)
    assert hyps[0].text == alphabet.decode(best)
    assert len(hyps) == len(exact)
    for h in hyps:
        assert h.ctc_logprob == pytest.approx(exact[tuple(alphabet.encode(h.text))], abs=1e-6)
        assert h.score == h.ctc_logprob and h.lm_logprob == 0.0
    # all probabilities of all labelings sum to one
    assert math.fsum(math.exp(h.ctc_logprob) for h in hyps) == pytest.approx(1.0, abs=1e-9)


def test_nbest_ordering_and_distinct():
    rng = np.random.default_rng(1)
    lp = synthetic_log_probs("the cat sat", DEFAULT_ALPHABET, 60, rng, confusion=1.0)
    hyps = beam_search(lp, DEFAULT_ALPHABET, beam_width=16, nbest=5)
    assert len(hyps) == 5
    assert len({h.text for h in hyps}) == 5
    scores = [h.score for h in hyps]
    assert scores == sorted(scores, reverse=True)
    assert len(beam_search(lp, DEFAULT_ALPHABET, beam_width=16, nbest=2)) == 2


@pytest.mark.parametrize("text", TEXTS)
def test_greedy_equals_beam_width_one_on_peaky_input(text):
    rng = np.random.default_rng(len(text))
    lp = synthetic_log_probs(text, DEFAULT_ALPHABET, 5 * len(text) + 10, rng, confusion=0.0)
    greedy = greedy_hypothesis(lp, DEFAULT_ALPHABET)
    beam = beam_search(lp, DEFAULT_ALPHABET, beam_width=1, nbest=1)[0]
    assert greedy.text == beam.text == greedy_decode(lp, DEFAULT_ALPHABET) == text
    assert greedy.char_frames == beam.char_frames


def test_greedy_hypothesis_fields():
    lp = ambiguous_the(DEFAULT_ALPHABET)
    h = greedy_hypothesis(lp, DEFAULT_ALPHABET)
    assert isinstance(h, Hypothesis)
    assert (h.text, h.char_frames) == ("tha", (1, 3, 5))
    assert h.ctc_logprob == pytest.approx(float(lp.max(1).sum()))


def test_lm_moves_ranking_toward_likely_text():
    lp = ambiguous_the(DEFAULT_ALPHABET)
    assert beam_search(lp, DEFAULT_ALPHABET)[0].text == "tha"
    lm = CharNgramLM.train(["the cat", "the dog", "the", "then the end", "other"], order=3)
    hyps = beam_search(lp, DEFAULT_ALPHABET, lm=lm, lm_weight=1.0)
    assert hyps[0].text == "the"
    assert hyps[0].lm_logprob == pytest.approx(lm.score("the"))
    assert hyps[0].score == pytest.approx(hyps[0].ctc_logprob + hyps[0].lm_logprob + 3 * 1.0)
    # a line still being written gets no end-of-line term
    partial = beam_search(lp, DEFAULT_ALPHABET, lm=lm, complete=False)[0]
    assert partial.lm_logprob == pytest.approx(lm.score("the") - lm.logprob("the", lm.END))


def test_lexicon_forces_in_lexicon_word():
    lp = ambiguous_the(DEFAULT_ALPHABET, p_a=0.9)
    lexicon = Lexicon(["the", "then", "cat"])
    hyps = beam_search(lp, DEFAULT_ALPHABET, lexicon=lexicon)
    assert hyps[0].text == "the"
    assert all(lexicon.accepts(h.text) for h in hyps)
    # mid-word, a prefix of a lexicon word is enough
    lexicon = Lexicon(["thames"])
    assert beam_search(lp, DEFAULT_ALPHABET, lexicon=lexicon, complete=False)[0].text == "tha"
    assert beam_search(lp, DEFAULT_ALPHABET, lexicon=Lexicon(["theatre"]),
                       complete=False)[0].text == "the"


def test_lexicon_allows_punctuation_and_numbers():
    text = "Mr . Foot , 1960 !"
    lp = synthetic_log_probs(text, DEFAULT_ALPHABET, 80, np.random.default_rng(3), confusion=0.0)
    hyps = beam_search(lp, DEFAULT_ALPHABET, lexicon=Lexicon(["mr", "foot"]))
    assert hyps[0].text == text


@pytest.mark.parametrize("text", TEXTS)
def test_char_frames_increasing_and_in_range(text):
    rng = np.random.default_rng(7)
    T = 4 * len(text) + 5
    lp = synthetic_log_probs(text, DEFAULT_ALPHABET, T, rng)
    for h in beam_search(lp, DEFAULT_ALPHABET, beam_width=8):
        assert len(h.char_frames) == len(h.text)
        assert all(0 <= t < T for t in h.char_frames)
        assert list(h.char_frames) == sorted(set(h.char_frames))
        # each character is emitted (non-blank, its own label) at its frame
        for ch, t in zip(h.text, h.char_frames, strict=True):
            assert lp[t, DEFAULT_ALPHABET.encode(ch)[0]] > math.log(1e-4)


@pytest.mark.parametrize("seed", range(8))
def test_blank_skip_and_pruning_keep_the_result(seed):
    rng = np.random.default_rng(seed)
    text = TEXTS[seed % len(TEXTS)]
    lp = synthetic_log_probs(text, DEFAULT_ALPHABET, 6 * len(text) + 20, rng, confusion=0.5)
    lm = CharNgramLM.train(TEXTS, order=4)
    for kw in ({}, {"lm": lm}):
        fast = beam_search(lp, DEFAULT_ALPHABET, beam_width=8, nbest=3, **kw)
        full = beam_search(lp, DEFAULT_ALPHABET, beam_width=8, nbest=3,
                           max_candidates=len(DEFAULT_ALPHABET), **EXACT, **kw)
        assert fast[0].text == full[0].text
        if fast[0].text == text:  # else two emissions may compete for one character
            assert fast[0].char_frames == full[0].char_frames
        assert fast[0].ctc_logprob == pytest.approx(full[0].ctc_logprob, abs=0.05)


def test_repeat_across_skipped_frame_is_a_new_character():
    alphabet = Alphabet("ab")
    y = np.array([[1e-5, 1 - 2e-5, 1e-5], [1 - 2e-5, 1e-5, 1e-5], [1e-5, 1 - 2e-5, 1e-5]])
    lp = np.log(y)
    assert beam_search(lp, alphabet)[0].text == "aa"
    assert beam_search(lp, alphabet, **EXACT)[0].text == "aa"


def test_input_validation_and_empty():
    with pytest.raises(ValueError, match="shape"):
        beam_search(np.zeros((5, 3)), DEFAULT_ALPHABET)
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(np.zeros((5, len(DEFAULT_ALPHABET))), DEFAULT_ALPHABET, beam_width=0)
    lm = CharNgramLM.train(["ab"], alphabet=Alphabet("ab"))
    with pytest.raises(ValueError, match="alphabet"):
        beam_search(np.zeros((5, len(DEFAULT_ALPHABET))), DEFAULT_ALPHABET, lm=lm)
    empty = beam_search(np.zeros((0, len(DEFAULT_ALPHABET))), DEFAULT_ALPHABET)
    assert [(h.text, h.ctc_logprob, h.char_frames) for h in empty] == [("", 0.0, ())]


def test_bench_beam_runs():
    lm = CharNgramLM.train(TEXTS, order=3)
    out = bench_beam(frames=40, beam_width=4, repeats=2, lm=lm, lexicon=Lexicon(["the"]))
    assert {"greedy_ms", "beam_ms", "beam_lm_ms", "beam_lm_lexicon_ms"} <= set(out)
