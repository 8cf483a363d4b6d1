"""The character set of IAM-OnDB transcriptions, its integer encoding, and one policy for
characters outside it (shared by the recognizer and the synthesizer).

Index 0 is reserved: the CTC blank for the recognizer, padding for the synthesizer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

# Every character of the IAM-OnDB CSR transcriptions except '#', IAM's mark for struck-out
# words (lines holding it are excluded from training; see handwriting/data/iam_ondb.py).
IAM_CHARS = (
    " !\"%&'()*+,-./0123456789:;?@"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz"
)

# Near equivalents for common characters that IAM-OnDB never shows.
SUBSTITUTIONS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\t": " ", "\n": " ", "\r": " ",
    "{": "(", "}": ")", "<": "(", ">": ")", "=": "-", "~": "-", "|": "/", "\\": "/",
    "\u2044": "/", "$": "S", "^": "'", "\u00d7": "x", "\u00b7": ".", "\u2022": ".",
}


@dataclass(frozen=True)
class Normalized:
    """Result of mapping free text onto the alphabet: `text` and the characters `dropped`."""

    text: str
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class Alphabet:
    """Characters 1..N; 0 is blank/padding. Stored in checkpoints as the `chars` string."""

    chars: str = IAM_CHARS

    def __post_init__(self):
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("alphabet characters must be unique")
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.chars)})

    def __len__(self) -> int:
        """Number of classes including the blank/padding index 0."""
        return len(self.chars) + 1

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    def normalize(self, text: str) -> Normalized:
        """Map `text` onto the alphabet: substitute near equivalents, strip accents, drop the
        rest (reported in `dropped`), and collapse runs of spaces."""
        out, dropped = [], []
        for ch in text:
            if ch in self._index:
                out.append(ch)
                continue
            sub = SUBSTITUTIONS.get(ch)
            if sub is not None and not all(c in self._index for c in sub):
                sub = None
            if sub is None:
                parts = "".join(SUBSTITUTIONS.get(c, c) for c in unicodedata.normalize("NFKD", ch))
                base = parts.encode("ascii", "ignore").decode()
                sub = base if base and all(b in self._index for b in base) else None
            if sub is None:
                dropped.append(ch)
            else:
                out.append(sub)
        text = " ".join("".join(out).split(" "))
        while "  " in text:
            text = text.replace("  ", " ")
        return Normalized(text.strip(), tuple(dict.fromkeys(dropped)))

    def encode(self, text: str) -> np.ndarray:
        """Indices (1..N) of `text`; raises ValueError naming any character not in the alphabet."""
        bad = sorted({c for c in text if c not in self._index})
        if bad:
            raise ValueError(f"characters not in the alphabet: {''.join(bad)!r}")
        return np.array([self._index[c] for c in text], dtype=np.int64)

    def decode(self, indices) -> str:
        """Text of indices; 0 (blank/padding) and out-of-range indices are skipped."""
        n = len(self.chars)
        return "".join(self.chars[i - 1] for i in (int(j) for j in indices) if 1 <= i <= n)


DEFAULT_ALPHABET = Alphabet()


def detokenize(text: str) -> str:
    """Undo IAM's tokenization of punctuation ('Mr . Foot , he said' -> 'Mr. Foot, he said'),
    as the ink shows it. Used for synthesis targets and for display."""
    import re

    text = re.sub(r" ([.,;:?!)\]])", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r" ('s|'t|'ll|'re|'ve|'d|'m|n't)\b", r"\1", text)
    # IAM-OnDB also sets the apostrophe apart on both sides ("executive ' s", "don ' t"):
    # 0.9 % of its lines, and a prime ending so had two spaces its ink does not show
    text = re.sub(r"(\w) ' (s|t|ll|re|ve|d|m)\b", r"\1'\2", text)
    return text
