"""Tests for the word bigram LM and the word-aware beam search: Witten-Bell by hand, storage,
bad files, OOV words still decodable, and vocabulary words preferred at word boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.decoding import beam_search
from handwriting.lm import CharNgramLM
from handwriting.wordlm import LINE_START, WordLM, load_default_word_lm, word_key

LINES = ["the cat sat.", "The cat ran", "a dog sat", "the dog, the cat"]


@pytest.fixture(scope="module")
def wlm() -> WordLM:
    return WordLM.train(LINES, wordfreq_top_n=0)


def test_word_key_strips_edge_punctuation_and_lowercases():
    assert word_key("Williams.") == "williams"
    assert word_key("don't") == "don't"
    assert word_key('"counter-revolution"') == "counter-revolution"
    assert word_key("(1960),") == ""


def test_witten_bell_bigram_by_hand(wlm):
    # keys: the x3 (+The), cat x3, sat x2, ran, a, dog x2 -> 13 tokens
    n = {"the": 4, "cat": 3, "sat": 2, "ran": 1, "a": 1, "dog": 2}
    pu = {w: c / 13 for w, c in n.items()}
    # "the" is followed by cat x3, dog x1: n(the.) = 4, N1+(the.) = 2
    assert math.isclose(wlm.logprob("the", "cat"), math.log((3 + 2 * pu["cat"]) / 6), rel_tol=1e-5)
    assert math.isclose(wlm.logprob("the", "sat"), math.log(2 * pu["sat"] / 6), rel_tol=1e-5)
    # a context never seen backs off to the unigram; an unknown word is None
    assert math.isclose(wlm.logprob("zebra", "dog"), math.log(pu["dog"]), rel_tol=1e-5)
    assert wlm.logprob(LINE_START, "zebra") is None
    total = sum(math.exp(wlm.logprob("the", w)) for w in wlm.words)
    assert math.isclose(total, 1.0, rel_tol=1e-5)


def test_wordfreq_words_join_the_vocabulary():
    lm = WordLM.train(LINES, wordfreq_top_n=2000)
    assert "house" in lm and "cat" in lm
    assert lm.is_prefix("hou") and not lm.is_prefix("xqz")


def test_save_load_round_trip_and_bad_files(wlm, tmp_path):
    path = tmp_path / "w.npz"
    wlm.save(path)
    back = WordLM.load(path)
    assert back.words == wlm.words and back.meta == wlm.meta
    for prev, w in [("the", "cat"), (LINE_START, "the"), ("dog", "sat"), ("x", "a")]:
        assert math.isclose(back.logprob(prev, w), wlm.logprob(prev, w), rel_tol=1e-6)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="bad.npz"):
        WordLM.load(bad)
    with pytest.raises(ValueError, match="missing.npz"):
        WordLM.load(tmp_path / "missing.npz")


def test_shipped_word_lm_has_no_test_text_sources():
    lm = load_default_word_lm()
    assert len(lm) > 40_000 and "trainset" in lm.meta["lines"]
    assert lm.logprob(LINE_START, "the") > lm.logprob(LINE_START, "thy")


def _two_words(first: str, second: tuple[str, str], p: float) -> np.ndarray:
    """Posteriors spelling `first`, a space, then a word whose letters are second[0] (p) or
    second[1] (1 - p) letter by letter, blanks between."""
    ab = DEFAULT_ALPHABET
    rows = []
    for ch in first + " ":
        rows.append({ch: 1.0})
        rows.append({})
    for a, b in zip(*second, strict=True):
        rows.append({a: p, b: 1 - p} if a != b else {a: 1.0})
        rows.append({})
    probs = np.full((len(rows), len(ab)), 1e-6)
    for t, row in enumerate(rows):
        if not row:
            probs[t, 0] = 1.0
        for ch, q in row.items():
            probs[t, ab.encode(ch)[0]] = q
    return np.log(probs / probs.sum(1, keepdims=True))


def test_word_lm_prefers_a_vocabulary_word_but_keeps_oov_words():
    lm = CharNgramLM.train(["the cat sat", "the dog sat"], order=3)
    wlm = WordLM.train(["the cat sat", "the dog sat"], wordfreq_top_n=0)
    lp = _two_words("the", ("cat", "cqt"), 0.4)  # the network slightly prefers "cqt"
    kw = {"lm": lm, "lm_weight": 0.0, "insertion_bonus": 0.0}
    assert beam_search(lp, DEFAULT_ALPHABET, 8, **kw)[0].text == "the cqt"
    words = {"word_lm": wlm, "word_weight": 0.5, "oov_penalty": -2.0, "word_bonus": 1.0}
    assert beam_search(lp, DEFAULT_ALPHABET, 8, **kw, **words)[0].text == "the cat"
    # a confident out-of-vocabulary word survives the penalty
    lp = _two_words("the", ("cat", "cqt"), 0.01)
    assert beam_search(lp, DEFAULT_ALPHABET, 8, **kw, **words)[0].text == "the cqt"


def test_word_terms_must_not_break_the_pruning_bound():
    lm = CharNgramLM.train(["the cat"], order=2)
    lp = _two_words("a", ("b", "b"), 0.5)
    with pytest.raises(ValueError, match="oov_penalty"):
        beam_search(lp, DEFAULT_ALPHABET, 4, lm=lm, word_lm=WordLM.train(["a"], 0),
                    oov_penalty=1.0)


def test_cli_builds_the_word_lm_from_trainset_lines_only(fake_iam_ondb, tmp_path, capsys):
    from handwriting.cli import main
    from handwriting.data.iam_ondb import load_iam_ondb

    assert main(["train", "lm", "--words", "--iam-ondb", str(fake_iam_ondb.root),
                 "--output", str(tmp_path)]) == 0
    assert "wordlm" in capsys.readouterr().out
    lm = WordLM.load(next(tmp_path.glob("wordlm-*.npz")))
    ds = load_iam_ondb(fake_iam_ondb.root)
    train = {word_key(t) for ln in ds.split("trainset") for t in ln.text.split()} - {""}
    test = {word_key(t) for s in ("testset_v", "testset_t", "testset_f")
            for ln in ds.split(s) for t in ln.text.split()} - train - {""}
    bigram_words = {lm.words[w] for _, w in lm._bigrams}
    assert train and bigram_words <= train  # every counted pair comes from trainset lines
    assert not test & bigram_words


def test_is_prefix_agrees_with_every_prefix_of_every_word():
    lm = WordLM.train(["the house of the hound", "a houseboat", "hello there"])
    prefixes = {w[:i] for w in lm.words for i in range(1, len(w) + 1)}
    probes = prefixes | {"x", "thf", "houses", "hz", "zz", "a" * 5, "hello there"}
    assert {p for p in probes if lm.is_prefix(p)} == prefixes
