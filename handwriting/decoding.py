"""CTC decoding (Graves et al. 2009): greedy best path, and prefix beam search with a
character n-gram language model and an optional word lexicon."""

from __future__ import annotations

import numpy as np

from handwriting.alphabet import Alphabet


def greedy_path(log_probs: np.ndarray) -> np.ndarray:
    """Best label per frame: (T, K) -> (T,) indices (0 = blank)."""
    return np.asarray(log_probs).argmax(-1)


def collapse(path) -> list[int]:
    """CTC's many-to-one map B: merge repeats, then drop blanks (Graves et al. 2009, §3.1)."""
    out, prev = [], -1
    for k in path:
        k = int(k)
        if k != prev and k != 0:
            out.append(k)
        prev = k
    return out


def greedy_decode(log_probs: np.ndarray, alphabet: Alphabet) -> str:
    """Best-path decoding of one line's (T, K) log-posteriors."""
    return alphabet.decode(collapse(greedy_path(log_probs)))
