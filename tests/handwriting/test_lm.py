"""Tests for the character n-gram LM (counts, Witten-Bell probabilities, states, storage) and
the lexicon's token automaton."""

from __future__ import annotations

import math

import numpy as np
import pytest

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.lexicon import DEFAULT_LEXICON_FILE, Lexicon, load_default_lexicon
from handwriting.lm import (
    BOS,
    DEFAULT_LM_FILE,
    EOS,
    CharNgramLM,
    build_default_lm,
    load_default_lm,
)

CORPUS = ["the cat sat on the mat", "the dog ate the cat", "a cat, a dog."]
CONTEXTS = ["", "t", "th", "the ", "the ca", "zzqx", "a cat, a dog. the dog ate"]


@pytest.fixture(scope="module")
def lm() -> CharNgramLM:
    return CharNgramLM.train(CORPUS, order=4)


def test_counts_come_only_from_the_named_text():
    lm = CharNgramLM.train(["ab", "abc"], weights=[2.0, 1.0], order=3)
    assert lm.count("a") == 3.0 and lm.count("b") == 3.0 and lm.count("c") == 1.0
    assert lm.count(BOS + "a") == 3.0
    assert lm.count("ab" + EOS) == 2.0 and lm.count("bc" + EOS) == 1.0
    assert lm.count(BOS + "ab") == 3.0
    assert lm.count("x") == 0.0
    # total unigram mass: every predicted symbol (characters and EOS) of every weighted line
    unigrams = sum(lm.count(s) for s in EOS + DEFAULT_ALPHABET.chars)
    assert unigrams == 2.0 * 3 + 1.0 * 4


def test_fragments_predict_only_after_their_first_symbol():
    lm = CharNgramLM.train([], fragments=[" ab "], order=3)
    assert lm.count(" ") == 1.0 and lm.count("a") == 1.0 and lm.count(" a") == 1.0
    assert lm.count(EOS) == 0.0 and lm.count(BOS + " ") == 0.0


def test_witten_bell_by_hand():
    lm = CharNgramLM.train(["ab"], order=2, alphabet=Alphabet("ab"))
    V = 3  # a, b, EOS
    unigram_b = (1 + 3 / V) / 6  # n(b) = 1, n(.) = 3, three types
    assert math.exp(lm.logprob("a", "b")) == pytest.approx((1 + 1 * unigram_b) / 2)
    assert math.exp(lm.logprob("b", "a")) == pytest.approx((0 + 1 * (1 + 3 / V) / 6) / 2)


@pytest.mark.parametrize("prune_below", [0.0, 2.0])
def test_next_character_distribution_sums_to_one(lm, prune_below):
    model = lm if prune_below == 0 else CharNgramLM.train(CORPUS, order=4, prune_order=2,
                                                          prune_below=prune_below)
    for context in CONTEXTS:
        dist = model.distribution(context)
        assert len(dist) == len(DEFAULT_ALPHABET)  # characters + EOS
        assert math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-9)
        assert min(dist.values()) > 0
        assert model.logprob(context, "e") == pytest.approx(math.log(dist["e"]))


def test_states_and_score_agree_with_logprob(lm):
    text = "the cat ate"
    state, total = lm.initial_state(), 0.0
    for i, ch in enumerate(text):
        assert state == lm.state_of(text[:i])
        state, lp = lm.advance(state, ch)
        assert lp == pytest.approx(lm.logprob(text[:i], ch))
        total += lp
    total += lm.advance(state, lm.END)[1]
    assert lm.score(text) == pytest.approx(total)
    assert len(lm.context_of(state)) <= lm.order - 1
    assert lm.score("the cat") > lm.score("tqe cbt")


def test_a_state_is_the_longest_known_context(lm):
    """A state stands for the longest suffix of the history the model holds as a context (at
    most order - 1 symbols), and predicts exactly as the whole history does."""
    assert lm.context_of(lm.initial_state()) == BOS
    assert lm.context_of(lm.state_of("a cat, the")) == "the"  # order 4: three symbols
    assert lm.context_of(lm.state_of("zz")) == ""  # never seen: the empty context
    assert lm.context_of(lm.state_of("the ca")) == " ca"
    for context in CONTEXTS:
        state = lm.state_of(context)
        assert lm.advance(state, "e")[1] == lm.logprob(context, "e")


def test_a_long_order_keeps_its_probabilities_through_storage(tmp_path):
    """Contexts of 8 symbols and more are coded past 64 bits: still exact."""
    lm = CharNgramLM.train(CORPUS, order=10)
    lm.save(tmp_path / "lm.npz")
    loaded = CharNgramLM.load(tmp_path / "lm.npz")
    for context in CONTEXTS:
        dist = loaded.distribution(context)
        assert math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-9)
        assert dist == lm.distribution(context)
    assert lm.context_of(lm.state_of("a cat, the dog ate the")) == "g ate the"  # 9 symbols


def test_unknown_characters_raise(lm):
    with pytest.raises(ValueError, match="alphabet"):
        CharNgramLM.train(["caf\u00e9"])
    with pytest.raises(ValueError, match="alphabet"):
        lm.logprob("the", "\u00e9")


def test_save_load_round_trip(lm, tmp_path):
    path = tmp_path / "lm.npz"
    lm.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["lm.npz"]  # no temporary left behind
    with np.load(path, allow_pickle=False) as z:  # a plain npz, no pickled objects
        assert "header" in z.files
    loaded = CharNgramLM.load(path)
    assert loaded.order == lm.order and loaded.alphabet == lm.alphabet and len(loaded) == len(lm)
    assert loaded.meta == lm.meta
    for context in CONTEXTS:
        for ch in "e a." + lm.END:
            assert loaded.logprob(context, ch) == lm.logprob(context, ch)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz"):
        CharNgramLM.load(tmp_path / "bad.npz")


def test_build_default_lm_mixes_lines_and_words():
    lm = build_default_lm(["Mr. Foot has put down a resolution."], top_n=300, order=4)
    assert "wordfreq" in lm.meta["sources"]["words"]
    assert lm.count("Foo") > 0  # from the line
    assert lm.count(BOS + "Mr") == 1.0
    assert lm.score("I think that the people") > lm.score("I thunk thqt tge peaple")


def test_lexicon_trie_and_automaton():
    lex = Lexicon(["the", "then", "don't", "well-known", "foot", "griffiths", "s"])
    assert "The" in lex and "th" not in lex and len(lex) == 7
    assert lex.is_prefix("TH") and lex.is_prefix("") and not lex.is_prefix("tx")
    for ok in ["the", "The then", "Mr . Foot ,", ". , ' \" ( ) !", "1960 3.5 12:30",
               "don't", "well-known", "Foot-Griffiths", "Foot's", "foot.", "(the)", "1960s"]:
        if ok.startswith("Mr"):
            lex.add("mr")
        assert lex.accepts(ok), ok
    for bad in ["th", "tha", "the xqz", "thefoot", "th."]:
        assert not lex.accepts(bad), bad
    state = lex.initial_state()
    for ch in "th":
        state = lex.advance(state, ch)
    assert state is not None and not lex.is_final(state)
    assert lex.advance(state, " ") is None and lex.advance(state, "x") is None


def test_lexicon_save_load(tmp_path):
    lex = Lexicon(["Alpha", "beta"])
    lex.save(tmp_path / "lex.txt.gz")
    assert Lexicon.load(tmp_path / "lex.txt.gz").words() == ["alpha", "beta"]


def test_shipped_resources_load():
    try:
        lm, lex = load_default_lm(), load_default_lexicon()
    except FileNotFoundError:
        pytest.skip(f"{DEFAULT_LM_FILE} / {DEFAULT_LEXICON_FILE} not built")
    assert lm.alphabet == DEFAULT_ALPHABET and lm.order == 6
    assert math.fsum(lm.distribution("the ").values()) == pytest.approx(1.0, abs=1e-9)
    assert lm.score("the end") > lm.score("tha end")
    assert "the" in lex and lex.accepts("Mr. Foot's line, 1960.")


def test_truncated_lm_file_names_the_file(tmp_path):
    lm = CharNgramLM.train(["the cat"], order=2)
    path = tmp_path / "lm.npz"
    lm.save(path)
    bad = tmp_path / "cut.npz"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="cut.npz"):
        CharNgramLM.load(bad)
