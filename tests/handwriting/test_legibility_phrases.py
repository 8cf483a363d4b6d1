"""The phrase list behind `handwriting evaluate legibility`: writable, distinct, and (with the
real corpus) found nowhere in IAM-OnDB's transcriptions, so the check measures writing new
text, not recalling training lines."""

from __future__ import annotations

import re

import pytest

from handwriting.alphabet import Alphabet, detokenize
from handwriting.phrases import PHRASE_LISTS, read_phrases


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", detokenize(text).lower()).strip()


DIGITS = PHRASE_LISTS["digits"]
CHECK = PHRASE_LISTS["digits-check"]


@pytest.mark.parametrize(("path", "least"), [(None, 40), (DIGITS, 40), (CHECK, 20)],
                         ids=["shipped", "digits", "digits-check"])
def test_phrases_are_distinct_and_writable(path, least):
    phrases = read_phrases(path)
    alphabet = Alphabet()
    assert len(phrases) >= least  # enough characters (~1,500 / ~700) for a CER worth quoting
    assert len({_norm(p) for p in phrases}) == len(phrases)
    for phrase in phrases:
        assert all(ch in alphabet for ch in phrase), phrase


def test_the_held_out_digits_check_shares_no_phrase_with_the_digits_list():
    tuned = {_norm(p) for p in read_phrases(DIGITS)}
    check = [_norm(p) for p in read_phrases(CHECK)]
    assert all(any(c.isdigit() for c in p) for p in check)
    assert not tuned & set(check)


@pytest.mark.dataset
@pytest.mark.parametrize("path", [None, DIGITS, CHECK], ids=["shipped", "digits", "digits-check"])
def test_no_phrase_appears_in_iam_ondb(real_iam_ondb, path):
    corpus = [_norm(ln.text) for ln in real_iam_ondb.lines + real_iam_ondb.excluded_lines]
    assert len(corpus) > 8000
    joined = "\n".join(corpus)
    for phrase in read_phrases(path):
        assert _norm(phrase) not in joined, phrase
        words = _norm(phrase).split()  # nor a long run of its words within one line
        for i in range(len(words) - 4):
            assert " ".join(words[i:i + 5]) not in joined, (phrase, words[i:i + 5])
