"""Priming with a style keeps its last words only, cut at the word gaps of its own ink, so
the new text starts near a line's beginning, after words the window has read (issue 14:
a whole preset line as prime garbled the first word)."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.features import synthesis_offsets
from handwriting.priming import PRIME_MAX_CHARS, trim_style
from handwriting.results import Style
from handwriting.synthesis import sample_stream
from tests.fixtures import hershey_ink, hershey_strokes


def _style(text: str) -> Style:
    return Style("t", synthesis_offsets(hershey_ink(text)), text)


def _strokes(offsets: np.ndarray) -> int:
    return int((offsets[:-1, 2] > 0.5).sum()) + 1


def test_the_last_words_are_kept_with_exactly_their_ink():
    full = _style("the cat sat on the mat")
    short = trim_style(full, max_chars=7)
    assert short.text == "the mat"
    # the cut lands on the gap before "the": the kept ink has the strokes of "the mat"
    assert _strokes(short.offsets) == _strokes(_style("the mat").offsets)
    assert np.all(short.offsets[0, :2] == 0)
    assert len(short.offsets) < len(full.offsets)


def test_short_styles_and_single_long_words_are_kept_whole_or_to_one_word():
    s = _style("a hen")
    assert trim_style(s, max_chars=12) is s
    assert trim_style(_style("extraordinary"), max_chars=5).text == "extraordinary"
    assert trim_style(_style("on extraordinary"), max_chars=5).text == "extraordinary"


@pytest.mark.parametrize("text, kept", [
    ("they met Mr.", "they met"),
    ("a tall executive's", "a tall"),
    ("no secret talks -", "no secret talks"),
    ("my own zebra.", "my own"),  # the whole word: "Mr" without its "." read worse
])
def test_the_prime_ends_on_a_word_of_letters_with_its_ink(text, kept):
    """Words after the prime's last word of letters go, with their ink: after "when Mr." the
    model began the new text as its training ink goes on after it (a capital)."""
    for starts in (None, _true_word_starts(text)):  # cut at pen gaps, or at aligned words
        got = trim_style(_style(text), word_starts=starts)
        assert got.text == kept
        assert _strokes(got.offsets) == _strokes(_style(kept).offsets)
        assert np.array_equal(got.offsets, _style(text).offsets[: len(got.offsets)])


def test_a_prime_without_a_word_of_letters_or_ending_on_one_is_kept():
    for text in ("the cat sat", "Mr. X.", "2024 - 25"):
        s = _style(text)
        assert trim_style(s) is s


def _true_word_starts(text: str) -> dict[int, int]:
    """{index of a word's first character: the stroke that starts it}, from the font."""
    return {i + 1: len(hershey_strokes(text[:i])) for i, c in enumerate(text) if c == " "}


def test_ink_without_a_gap_per_space_is_kept_whole():
    s = _style("the cat sat on the mat")
    one_stroke = Style("t", np.concatenate([s.offsets[:, :2], np.zeros((len(s.offsets), 1))],
                                           1).astype(np.float32), s.text)
    assert trim_style(one_stroke, max_chars=7) is one_stroke


def test_sampling_primes_with_the_trimmed_style(monkeypatch):
    from handwriting.service import Synthesizer

    syn = Synthesizer.from_checkpoint()
    style = next(iter(syn.styles.values()))
    assert len(style.text) > PRIME_MAX_CHARS  # the presets are whole lines
    frames = sample_stream(syn.net, syn.alphabet, ["ok"], syn.offset_scale, style=style,
                           seed=1, engine="numpy")
    first = next(iter(frames))
    assert first.text_offset == len(trim_style(style).text) + 1  # the prefix and its space


def test_a_wrapped_text_is_written_at_one_size():
    """Sampled lines of one text varied by 20-160 % in writing height (issue 14, item 4)."""
    from handwriting.geometry import core_height
    from handwriting.service import Synthesizer

    syn = Synthesizer.from_checkpoint()
    text = ("The weather was fine so we walked to the old harbour and watched the boats "
            "come in before dinner")
    inks = syn.write(text, seed=1, candidates=1)
    heights = [core_height(i) for i in inks]
    assert len(inks) >= 2 and max(heights) / min(heights) < 1.1, heights


def test_equal_heights_keeps_letters_of_one_size_when_the_lines_hold_other_letters():
    """A short last line without descenders ("student") next to a line of small letters, both
    written at one size, must stay near that size: scaling by the 5-95 % y-range blew it up
    1.7 times (the synthesized "tickets." under a line of digits and capitals)."""
    from handwriting.geometry import equal_heights

    small_letters, last_word = hershey_ink("a new summer care"), hershey_ink("student")
    a, b = equal_heights([small_letters, last_word])

    def grown(out, before):
        return np.ptp(out.bounds()[0::2]) / np.ptp(before.bounds()[0::2])

    assert grown(a, small_letters) / grown(b, last_word) == pytest.approx(1.0, abs=0.3)


def test_equal_heights_scales_about_each_lines_own_place():
    from handwriting.geometry import core_height, equal_heights

    small, big = hershey_ink("small"), hershey_ink("big", scale=2.0)
    a, b = equal_heights([small, big])
    assert core_height(a) == pytest.approx(core_height(b), rel=1e-4)
    assert a.bounds()[0] == small.bounds()[0] and b.bounds()[0] == big.bounds()[0]
    assert equal_heights([small]) == [small]


def test_a_sparse_prime_does_not_leave_the_window_inside_it():
    """The shipped model reads a prime written with a third of its points (a small, quick
    hand: ~2 points a character, where the training ink has ~11) up to eight characters
    short of its end, and wrote those characters again before the text; sampling starts
    within a character of the space after the prime."""
    from handwriting.service import Synthesizer

    syn = Synthesizer.from_checkpoint()
    for name, style in syn.styles.items():
        style = trim_style(style)
        off = style.offsets[: len(style.offsets) // 3 * 3].reshape(-1, 3, 3)
        sparse = np.concatenate([off[:, :, :2].sum(1), off[:, :, 2:].max(1)], 1)
        frames = sample_stream(syn.weights, syn.alphabet, ["hello"], syn.offset_scale,
                               style=Style(name, sparse.astype(np.float32), style.text), seed=0)
        first = next(iter(frames))
        assert first.phi[0].argmax() >= first.text_offset - 2, name  # the space: offset - 1


def test_the_presets_windows_are_left_where_priming_puts_them(monkeypatch):
    """After each shipped preset the window lies within a character of the space after it;
    moving it there anyway (slanted's sits half on its final ".") cost the first letters of
    the text ("be painted" for "she painted"): it is left alone."""
    from handwriting import synthesis
    from handwriting.service import Synthesizer

    syn = Synthesizer.from_checkpoint()
    shifts = []
    real = synthesis.window_shift

    def spy(phi, at):
        shifts.append(real(phi, at))
        return shifts[-1]

    monkeypatch.setattr(synthesis, "window_shift", spy)
    for style in syn.styles.values():
        frames = synthesis.sample_stream(syn.weights, syn.alphabet, ["she painted the kitchen"],
                                         syn.offset_scale, style=style, seed=0)
        next(iter(frames))
    assert len(shifts) == len(syn.styles) and not np.any(shifts)


@pytest.mark.dataset
def test_a_writer_whose_line_ends_in_mr_primes_without_garbling_first_letters(
        real_iam_ondb, monkeypatch):
    """a06-110's first line ends "... protested when Mr.". Primed on "when Mr.", the shipped
    model began 9 of 12 lines (one candidate a line, seeds 8 and 108) with a wrong first
    letter, most with a capital's tall first stroke ("|umps" for "jumps", "Hease" for
    "Please"), as its training ink goes on after "Mr."; primed on "protested when", 2 of 12
    (the judge reads each line's first letter)."""
    from handwriting import priming
    from handwriting.alphabet import detokenize
    from handwriting.cli.style import write_and_read
    from handwriting.phrases import read_phrases
    from handwriting.results import models_dir
    from handwriting.service import Recognizer, Synthesizer

    [line] = [ln for ln in real_iam_ondb.split("testset_v") if ln.id == "a06-110-01"]
    syn = Synthesizer.from_checkpoint(threads=1)
    judge = Recognizer.from_checkpoint(models_dir() / "judge.pt", threads=1)
    phrases = read_phrases(None)[:6]

    def first_letters_wrong() -> tuple[int, str]:
        style = syn.style_from_ink(line.ink, detokenize(line.text))
        wrong = 0
        for seed in (8, 108):
            w = write_and_read(syn, judge, phrases, style, seed, 0.75)
            wrong += sum(r[:1].lower() != t[:1].lower()
                         for r, t in zip(w.readings, w.texts, strict=True))
        return wrong, style.text

    wrong, prime = first_letters_wrong()
    assert prime == "protested when" and wrong <= 3
    monkeypatch.setattr(priming, "end_on_a_word", lambda style, starts: (style, starts))
    wrong, prime = first_letters_wrong()  # as before: the prime's last word kept
    assert prime == "when Mr." and wrong >= 6
