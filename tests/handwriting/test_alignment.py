"""Forced alignment of a known text to its ink, and priming cut where it finds the words
(issue 18: writer primes were cut at the widest pen gaps, which for cursive hands lie inside
words, so the model was primed with ink of other words than the text said)."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.alignment import ctc_align, ink_word_starts, word_start_strokes
from handwriting.features import synthesis_offsets
from handwriting.ink import Ink, Stroke
from handwriting.priming import trim_style
from handwriting.results import Style
from tests.fixtures import hershey_ink, hershey_strokes


def _log_probs(path: list[int], k: int = 5, sharp: float = 4.0) -> np.ndarray:
    """Log-posteriors (T, k) that favour `path` (one label per frame) by `sharp` nats."""
    logits = np.zeros((len(path), k))
    logits[np.arange(len(path)), path] = sharp
    return logits - np.log(np.exp(logits).sum(1, keepdims=True))


def test_ctc_align_finds_each_characters_first_frame():
    # blank a a blank b blank blank a: text "aba" (labels 1 2 1), first emissions 1, 4, 7
    lp = _log_probs([0, 1, 1, 0, 2, 0, 0, 1])
    assert ctc_align(lp, [1, 2, 1]).tolist() == [1, 4, 7]


def test_ctc_align_puts_a_blank_between_repeated_characters():
    # the frames favour "a" throughout; "aa" still needs a blank between its two a's
    lp = _log_probs([1, 1, 1, 1])
    frames = ctc_align(lp, [1, 1])
    assert frames[0] < frames[1] - 1
    assert ctc_align(_log_probs([1, 1]), [1, 1]) is None  # two frames cannot hold "a_a"


def test_ctc_align_follows_the_text_not_the_best_reading():
    # the frames read "b", the text says "a": the alignment still places it
    assert ctc_align(_log_probs([0, 2, 0]), [1]).tolist() in ([0], [1], [2])


def test_word_starts_pick_the_widest_jump_between_two_words_emissions():
    # strokes starting at points 0, 10, 20, 30; the words' emissions frame the gap at 20
    frame_points = tuple(np.arange(5 * t, 5 * t + 5) for t in range(8))
    starts = np.array([0, 10, 20, 30])
    left = np.array([0.0, 5.0, 20.0, 25.0])
    right = np.maximum.accumulate(np.array([6.0, 12.0, 24.0, 30.0]))
    # "ab cd": a at frame 0, b at 2, space at 3, c at 5, d at 6
    got = word_start_strokes(np.array([0, 2, 3, 5, 6]), "ab cd", frame_points, starts, left,
                             right)
    assert got == {3: 2}


def _widened(text: str, at_stroke: int, by: float) -> Ink:
    ink = hershey_ink(text)
    return Ink(tuple(Stroke(s.xy + (np.array([by, 0.0]) if k >= at_stroke else 0.0), s.t)
                     for k, s in enumerate(ink.strokes)))


@pytest.fixture(scope="module")
def reader():
    from handwriting.service import Recognizer

    return Recognizer.from_checkpoint(use_lm=False)


def test_the_shipped_reader_finds_every_word_of_a_line(reader):
    text = "the cat sat on the mat"
    ink = hershey_ink(text)
    truth = {i + 1: len(hershey_strokes(text[:i])) for i, c in enumerate(text) if c == " "}
    assert ink_word_starts(reader, ink, text) == truth


def test_a_gap_inside_a_word_no_longer_cuts_the_prime(reader):
    """A cursive hand: the widest pen gap of the line lies inside "mat". Cut at gaps alone,
    the prime "the mat" kept the ink of "at"; cut where the alignment finds the words, it
    keeps the ink of "the mat"."""
    text = "the cat sat on the mat"
    ink = _widened(text, len(hershey_strokes("the cat sat on the m")), 25.0)
    style = Style("t", synthesis_offsets(ink), text)
    strokes_of = lambda s: int((s.offsets[:-1, 2] > 0.5).sum()) + 1  # noqa: E731
    want = len(ink.strokes) - len(hershey_strokes("the cat sat on"))
    by_gaps = trim_style(style, max_chars=7)
    assert by_gaps.text == "the mat" and strokes_of(by_gaps) != want  # the old cut
    aligned = trim_style(style, max_chars=7, word_starts=ink_word_starts(reader, ink, text))
    assert aligned.text == "the mat" and strokes_of(aligned) == want


def test_style_from_ink_primes_with_the_aligned_last_words(reader):
    from handwriting.service import Synthesizer

    text = "the cat sat on the mat"
    ink = _widened(text, len(hershey_strokes("the cat sat on the m")), 25.0)
    syn = Synthesizer.from_checkpoint(reader=reader)
    style = syn.style_from_ink(ink, text)
    kept_words = style.text.split()
    assert text.endswith(style.text) and len(kept_words) < len(text.split())
    want = len(ink.strokes) - len(hershey_strokes(text[: len(text) - len(style.text)].strip()))
    assert int((style.offsets[:-1, 2] > 0.5).sum()) + 1 == want


def test_text_the_reader_cannot_align_falls_back_to_the_pen_gaps(reader):
    ink = hershey_ink("the cat")
    assert ink_word_starts(reader, ink, "the cat \u00e9") == {}  # a character it does not know


def test_read_scored_gives_the_meant_text_a_higher_probability_than_another(reader):
    """What self-checking synthesis breaks ties with: ln p(meant text | ink), the text the ink
    carries in meta["text"]; the ink of "the cat sat" says its own text more strongly than a
    text one letter off, and far more than another sentence."""
    from dataclasses import replace

    ink = hershey_ink("the cat sat")
    scored = {t: reader.read_scored([replace(ink, meta={"text": t})])[0]
              for t in ("the cat sat", "the cat set", "a dog ran")}
    assert {r.text for r in scored.values()} == {reader.read([ink])[0]}
    own, near, far = (scored[t].text_logprob for t in ("the cat sat", "the cat set", "a dog ran"))
    assert own > near > far
    assert np.isfinite(own) and own <= 0.0
