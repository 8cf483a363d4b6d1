"""Character and word error rates, as the IAM-OnDB benchmark reports them: total edit
distance over total reference length (characters, or whitespace-separated words)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from rapidfuzz.distance import Levenshtein


@dataclass
class ErrorCounts:
    char_errors: int = 0
    chars: int = 0
    word_errors: int = 0
    words: int = 0
    lines: int = 0
    digit_errors: int = 0  # digits of the references substituted or deleted (`digit_errors`)
    digits: int = 0

    def add(self, ref: str, hyp: str) -> None:
        self.char_errors += Levenshtein.distance(ref, hyp)
        self.chars += len(ref)
        ref_w, hyp_w = ref.split(), hyp.split()
        self.word_errors += Levenshtein.distance(ref_w, hyp_w)
        self.words += len(ref_w)
        self.lines += 1
        errors, digits = digit_errors(ref, hyp)
        self.digit_errors += errors
        self.digits += digits

    @property
    def digit_error_rate(self) -> float | None:
        """The share of the references' digits misread or lost; None without digits."""
        return self.digit_errors / self.digits if self.digits else None

    def merge(self, other: ErrorCounts) -> None:
        """Add `other`'s counts to these (totals over several parts)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def add_missing(self, ref: str) -> None:
        """A line the system could not read counts as fully wrong."""
        self.add(ref, "")

    @property
    def cer(self) -> float:
        return self.char_errors / max(self.chars, 1)

    @property
    def wer(self) -> float:
        return self.word_errors / max(self.words, 1)


def digit_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(digits of `ref` that one minimal edit alignment with `hyp` substitutes or deletes,
    digits in `ref`): how well numbers are read, which the CER of mostly-letter text hides."""
    digits = sum(c.isdigit() for c in ref)
    if not digits:
        return 0, 0
    return sum(op.tag in ("replace", "delete") and ref[op.src_pos].isdigit()
               for op in Levenshtein.editops(ref, hyp)), digits


def error_rates(pairs: Iterable[tuple[str, str]]) -> ErrorCounts:
    """ErrorCounts over (reference, hypothesis) pairs."""
    counts = ErrorCounts()
    for ref, hyp in pairs:
        counts.add(ref, hyp)
    return counts


def first_word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(character errors inside the first word of `ref`, its length), from one edit alignment
    of the whole line: substitutions and deletions of the word's characters, and insertions
    before, inside or right after it. A lost or added space next to it is not its error, so
    "rain fell" read as "rainfell" gives (0, 4) and "an" read as "- an" gives (2, 2); comparing
    first tokens instead charged the merge as 4 errors in 4 characters ("the lighthouse" read
    as "thelighthouse": 10 in 3)."""
    stripped = ref.lstrip()
    if not stripped:
        return 0, 0
    start = len(ref) - len(stripped)
    end = start + len(stripped.split()[0])
    errors = 0
    for op in Levenshtein.editops(ref, hyp):
        errors += (start <= op.src_pos <= end) if op.tag == "insert" else (
            start <= op.src_pos < end)
    return errors, end - start


@dataclass
class FirstWordCounts:
    """`first_word_errors` summed over lines: the first-word CER of a read-back."""

    char_errors: int = 0
    chars: int = 0

    def add(self, ref: str, hyp: str) -> None:
        errors, chars = first_word_errors(ref, hyp)
        self.char_errors += errors
        self.chars += chars

    @property
    def cer(self) -> float:
        return self.char_errors / max(self.chars, 1)
