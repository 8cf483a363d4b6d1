"""Priming with a style keeps its last words only, cut at the word gaps of its own ink, so
the new text starts near a line's beginning, after words the window has read (issue 14:
a whole preset line as prime garbled the first word)."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.features import synthesis_offsets
from handwriting.results import Style
from handwriting.synthesis import PRIME_MAX_CHARS, sample_stream, trim_style
from tests.fixtures import hershey_ink


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
