"""Error rates: the benchmark's CER/WER and the first-word CER of synthesis read-backs."""

import pytest

from handwriting.metrics import ErrorCounts, FirstWordCounts, error_rates, first_word_errors


def test_cer_and_wer_are_edit_distances_over_reference_length():
    counts = error_rates([("the cat", "the bat"), ("a dog", "a dog")])
    assert counts.cer == pytest.approx(1 / 12)
    assert counts.wer == pytest.approx(1 / 4)


@pytest.mark.parametrize("ref, hyp, expected", [
    ("rain fell softly", "rain fell softly", (0, 4)),
    ("rain fell softly", "rainfell softly", (0, 4)),  # the lost space is not the word's error
    ("the lighthouse keeper", "thelighthouse keeper", (0, 3)),
    ("an orange balloon", "- an orange balloon", (2, 2)),  # a stray mark before it is
    ("the library opens", "ther library opens", (1, 3)),  # a letter added at its end is
    ("a fox crossed", "an fox crossed", (1, 1)),
    ("the wind carried", "She wind carried", (1, 3)),
    ("the wind carried", "the wimd carried", (0, 3)),  # the second word's errors are not
    ("the wind", "", (3, 3)),
    ("  two words", "two words", (0, 3)),
    ("", "anything", (0, 0)),
])
def test_first_word_errors_count_only_the_first_words_characters(ref, hyp, expected):
    assert first_word_errors(ref, hyp) == expected


def test_first_word_counts_sum_over_lines_and_differ_from_first_tokens_on_merges():
    aligned, tokens = FirstWordCounts(), ErrorCounts()
    for ref, hyp in [("the lighthouse", "thelighthouse"), ("an orange", "- an orange")]:
        aligned.add(ref, hyp)
        tokens.add(ref.split()[0], hyp.split()[0])
    assert aligned.cer == pytest.approx(2 / 5)
    assert tokens.cer == pytest.approx((10 + 2) / 5)  # the first tokens charge the merge


def test_digit_errors_count_the_references_digits_substituted_or_lost():
    from handwriting.metrics import ErrorCounts, digit_errors

    assert digit_errors("at 7:45 on 8:15", "at Feys on s5") == (5, 6)  # the last 5 is read
    assert digit_errors("room 406", "room 406") == (0, 3)
    assert digit_errors("no numbers", "mo numbers") == (0, 0)
    assert digit_errors("24", "2L") == (1, 2) and digit_errors("24", "224") == (0, 2)
    counts = ErrorCounts()
    assert counts.digit_error_rate is None
    counts.add("meet at 42", "meet at F2")
    counts.add("plain text", "plain text")
    assert (counts.digit_errors, counts.digits, counts.digit_error_rate) == (1, 2, 0.5)
