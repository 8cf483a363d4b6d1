"""The beam search against the n-best lists the decoder gave before the word LM and the
speed work (tests/handwriting/data/decoder_reference.json, written by that decoder from
synthetic posteriors with the shipped character LM): without word terms it must agree exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from handwriting.decoding import beam_search, synthetic_log_probs
from handwriting.lm import load_default_lm
from handwriting.wordlm import load_default_word_lm

CASES = json.loads((Path(__file__).parent / "data" / "decoder_reference.json").read_text())


@pytest.fixture(scope="module")
def lm():
    return load_default_lm()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['seed']}-{c['lm']}")
@pytest.mark.parametrize("with_idle_word_lm", [False, True])
def test_same_nbest_as_the_reference_decoder(case, lm, with_idle_word_lm):
    alphabet = lm.alphabet
    lp = synthetic_log_probs(case["text"], alphabet, case["frames"],
                             np.random.default_rng(case["seed"]), confusion=0.6)
    kw = {k: case[k] for k in ("lm_weight", "insertion_bonus") if k in case}
    if with_idle_word_lm:  # a word LM with every word term at 0 changes nothing
        kw.update(word_lm=load_default_word_lm(), word_weight=0.0, oov_penalty=0.0)
    hyps = beam_search(lp, alphabet, 8, lm=lm if case["lm"] else None, **kw)
    got = [[h.text, h.score, list(h.char_frames)] for h in hyps]
    assert [g[0] for g in got] == [r[0] for r in case["nbest"]]
    assert [g[2] for g in got] == [r[2] for r in case["nbest"]]
    for g, r in zip(got, case["nbest"], strict=True):
        assert math.isclose(g[1], r[1], abs_tol=1e-6)
