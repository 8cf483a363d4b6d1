"""Character and word error rates, as the IAM-OnDB benchmark reports them: total edit
distance over total reference length (characters, or whitespace-separated words)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein


@dataclass
class ErrorCounts:
    char_errors: int = 0
    chars: int = 0
    word_errors: int = 0
    words: int = 0
    lines: int = 0

    def add(self, ref: str, hyp: str) -> None:
        self.char_errors += Levenshtein.distance(ref, hyp)
        self.chars += len(ref)
        ref_w, hyp_w = ref.split(), hyp.split()
        self.word_errors += Levenshtein.distance(ref_w, hyp_w)
        self.words += len(ref_w)
        self.lines += 1

    def add_missing(self, ref: str) -> None:
        """A line the system could not read counts as fully wrong."""
        self.add(ref, "")

    @property
    def cer(self) -> float:
        return self.char_errors / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_errors / max(self.words, 1)


def error_rates(pairs: Iterable[tuple[str, str]]) -> ErrorCounts:
    """ErrorCounts over (reference, hypothesis) pairs."""
    counts = ErrorCounts()
    for ref, hyp in pairs:
        counts.add(ref, hyp)
    return counts
