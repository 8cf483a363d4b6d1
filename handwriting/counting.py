"""The counting task of the LSTM lab (Edwin Chen, "Exploring LSTMs", 2017) as plain data:
its strings `a^n X b^n $`, their encoding, and the count a solution must keep. No torch, so
that the lab's panel can show it before anything is trained (`lab` has the model)."""

from __future__ import annotations

import numpy as np

VOCAB = "aXb$"  # index = position; '$' ends the string and pads inputs
A, X, B, END = range(len(VOCAB))


def counting_string(n: int) -> str:
    return "a" * n + "X" + "b" * n + "$"


def encode(text: str) -> np.ndarray:
    bad = sorted(set(text) - set(VOCAB))
    if bad:
        raise ValueError(f"characters not in the counting vocabulary {VOCAB!r}: {''.join(bad)!r}")
    return np.array([VOCAB.index(c) for c in text], np.int64)


def count_signal(text: str) -> np.ndarray:
    """(T,) a's minus b's read so far: the count a solution must keep."""
    return np.cumsum([1 if c == "a" else -1 if c == "b" else 0 for c in text]).astype(float)
