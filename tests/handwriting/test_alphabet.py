"""Tests for the character set, its encoding, and the policy for characters outside it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handwriting.alphabet import (
    DEFAULT_ALPHABET,
    IAM_CHARS,
    SUBSTITUTIONS,
    Alphabet,
    Normalized,
)
from tests.fixtures import SENTENCES

iam_text = st.text(alphabet=IAM_CHARS, max_size=80)


@pytest.mark.parametrize("text", SENTENCES)
def test_encode_decode_round_trip_on_iam_text(text):
    codes = DEFAULT_ALPHABET.encode(text)
    assert codes.dtype == np.int64 and codes.min() >= 1 and codes.max() < len(DEFAULT_ALPHABET)
    assert DEFAULT_ALPHABET.decode(codes) == text


@given(iam_text)
def test_encode_decode_round_trip(text):
    assert DEFAULT_ALPHABET.decode(DEFAULT_ALPHABET.encode(text)) == text


def test_index_zero_is_reserved_and_skipped():
    assert len(DEFAULT_ALPHABET) == len(IAM_CHARS) + 1
    codes = DEFAULT_ALPHABET.encode("ab")
    assert DEFAULT_ALPHABET.decode([0, codes[0], 0, 0, codes[1], 0, 10_000, -3]) == "ab"
    assert DEFAULT_ALPHABET.encode("").shape == (0,)


@pytest.mark.parametrize("bad", ["#", "€", "\u00e9", "\u201c", "\U0001f600"])
def test_encode_raises_value_error_naming_the_character(bad):
    with pytest.raises(ValueError, match="not in the alphabet") as info:
        DEFAULT_ALPHABET.encode(f"a {bad} b")
    assert bad in str(info.value)


def test_hash_is_not_in_the_alphabet():
    # '#' marks struck-out words in IAM-OnDB; those lines are excluded, never learned.
    assert "#" not in DEFAULT_ALPHABET
    assert "#" not in IAM_CHARS


def test_normalize_maps_quotes_dashes_and_accents():
    out = DEFAULT_ALPHABET.normalize("\u201cNa\u00efve\u201d caf\u00e9 \u2014 it\u2019s\u2026")
    assert out.text == "\"Naive\" cafe - it's..."
    assert out.dropped == ()


@pytest.mark.parametrize(
    "text, kept, dropped",
    [
        ("costs 5\u20ac", "costs 5", ("\u20ac",)),
        ("hi \U0001f600 there \U0001f600", "hi there", ("\U0001f600",)),
        ("a # b", "a b", ("#",)),
        ("\u00a7 1 \u00b6", "1", ("\u00a7", "\u00b6")),
    ],
)
def test_normalize_reports_dropped_characters(text, kept, dropped):
    out = DEFAULT_ALPHABET.normalize(text)
    assert out.text == kept
    assert out.dropped == dropped


def test_normalize_collapses_whitespace():
    assert DEFAULT_ALPHABET.normalize("  a\t\tb \n c\u00a0 ").text == "a b c"


def test_every_substitution_lands_in_the_default_alphabet():
    assert all(c in DEFAULT_ALPHABET for sub in SUBSTITUTIONS.values() for c in sub)


@given(st.text(max_size=60))
def test_normalized_text_always_encodes(text):
    out = DEFAULT_ALPHABET.normalize(text)
    DEFAULT_ALPHABET.encode(out.text)
    assert "  " not in out.text and out.text == out.text.strip()
    assert all(c not in DEFAULT_ALPHABET for c in out.dropped)
    assert len(set(out.dropped)) == len(out.dropped)
    assert DEFAULT_ALPHABET.normalize(out.text) == Normalized(out.text, ())


@given(iam_text)
def test_normalize_keeps_iam_text_apart_from_spacing(text):
    assert DEFAULT_ALPHABET.normalize(text).text == " ".join(text.split())


def test_alphabet_rejects_duplicates():
    with pytest.raises(ValueError, match="unique"):
        Alphabet("abca")


@pytest.mark.parametrize("text", ["a{b", "a\nb", "c$"])
def test_normalized_text_encodes_with_a_custom_alphabet(text):
    small = Alphabet("abc")
    small.encode(small.normalize(text).text)


def test_normalize_vulgar_fraction_keeps_its_meaning():
    assert DEFAULT_ALPHABET.normalize("\u00bd").text == "1/2"


@pytest.mark.parametrize(("tokenized", "ink"), [
    ("Mr . Foot , he said", "Mr. Foot, he said"),
    ("his executive ' s", "his executive's"),  # IAM-OnDB sets the apostrophe apart both sides
    ("Wicki ' s films", "Wicki's films"),
    ("don ' t go", "don't go"),
    ("it 's here", "it's here"),
    ("the writers ' work", "the writers ' work"),  # a plural's apostrophe or a quote: kept
    ("' I am enchanted ' ,", "' I am enchanted ',"),
])
def test_detokenize_joins_what_the_ink_joins(tokenized, ink):
    from handwriting.alphabet import detokenize

    assert detokenize(tokenized) == ink
