"""Word correction after the beam search (issue 17): out-of-vocabulary words that are a typo
away from a vocabulary word, rescored on the ink.

The beam search charges a word outside the word LM's vocabulary only once it can no longer
become one ("Pr" may still become "present"), and by then the hypothesis that began with the
right letter ("F" of "Federation") has often left the beam of 8: on testset_v, 5 % of the
words were read as a non-word one or two letters from the right vocabulary word
("Prederation", "weelend", "Clacmillan"). Here each such finished token is set against the
vocabulary words within `max_edits` edits (rapidfuzz, per word length), each scored by the CTC
log-likelihood of the token's own frames (the hypothesis's alignment says where the token
lies) plus `lm_weight` x its word-LM log-probability after the previous word. The best
replaces the token when it loses less than `bonus` nats to it. Names the vocabulary lacks
stay as read when their ink says so; the weights are tuned on testset_v
(`handwriting tune decoder`), never on a test split.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from handwriting.alignment import ctc_align, ctc_logprob
from handwriting.alphabet import Alphabet
from handwriting.decoding import Hypothesis
from handwriting.wordlm import LINE_START, WordLM, word_key

_PARTS = re.compile(r"^([^A-Za-z]*)(.*?)([^A-Za-z]*)$")  # edge punctuation, core, edge
MIN_KEY = 2  # one-letter words ("a", "I") are the LM's business, not a spelling fix


@dataclass(frozen=True)
class WordFix:
    max_edits: int = 2  # 0 turns the correction off
    lm_weight: float = 0.5
    bonus: float = 16.0  # nats of the token's CTC score a vocabulary word may lose
    candidates: int = 8  # nearest vocabulary words rescored per token


class _ByLength:
    """A word LM's vocabulary grouped by length: candidates come from nearby lengths only."""

    def __init__(self, words: list[str]):
        self.groups: dict[int, list[str]] = {}
        for w in words:
            self.groups.setdefault(len(w), []).append(w)

    def near(self, key: str, max_edits: int, limit: int) -> list[tuple[str, int]]:
        found = []
        for n in range(len(key) - max_edits, len(key) + max_edits + 1):
            group = self.groups.get(n)
            if group:
                found += [(w, int(d)) for w, d, _ in process.extract(
                    key, group, scorer=Levenshtein.distance, score_cutoff=max_edits,
                    limit=limit)]
        return sorted(found, key=lambda wd: wd[1])[:limit]


@functools.lru_cache(maxsize=4)
def _index(word_lm: WordLM) -> _ByLength:
    """The vocabulary by length, built once per word LM (~4 ms for 50,000 words)."""
    return _ByLength(word_lm.words)


def _recased(word: str, like: str) -> str:
    if len(like) > 1 and like.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def _tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the space-separated tokens."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^ ]+", text)]


def correct(hyp: Hypothesis, log_probs: np.ndarray, alphabet: Alphabet, word_lm: WordLM,
            fix: WordFix, complete: bool = True) -> Hypothesis:
    """`hyp` with its out-of-vocabulary tokens replaced where a nearby vocabulary word reads
    as well from the ink (see the module's docstring). A line still being written
    (`complete=False`) keeps its last token: it may be unfinished."""
    if fix.max_edits <= 0 or not hyp.text:
        return hyp
    text, frames = hyp.text, hyp.char_frames
    spans = _tokens(text)
    words = [text[a:b] for a, b in spans]
    gain = ctc_gain = 0.0
    for i, (a, b) in enumerate(spans if complete else spans[:-1]):
        key = word_key(text[a:b])
        if len(key) < MIN_KEY or key in word_lm:
            continue
        near = _index(word_lm).near(key, fix.max_edits, fix.candidates)
        if not near:
            continue
        start = frames[a - 1] + 1 if a > 0 else 0
        end = frames[b] if b < len(frames) else len(log_probs)
        seg = log_probs[start:end]
        pre, core, post = _PARTS.match(text[a:b]).groups()
        base = ctc_logprob(seg, alphabet.encode(text[a:b]))
        prev = word_key(words[i - 1]) if i > 0 else ""
        best, best_gain, best_ctc = None, -np.inf, 0.0
        for cand, _ in near:
            new = pre + _recased(cand, core) + post
            if any(c not in alphabet for c in new):
                continue
            lm = word_lm.logprob(prev or LINE_START, cand)
            ctc = ctc_logprob(seg, alphabet.encode(new)) - base
            g = ctc + fix.lm_weight * (lm or 0.0)
            if g > best_gain:
                best, best_gain, best_ctc = new, g, ctc
        if best is not None and best_gain + fix.bonus > 0:
            words[i] = best
            gain += best_gain + fix.bonus
            ctc_gain += best_ctc
    new_text = text
    for (a, b), word in reversed(list(zip(spans, words, strict=True))):
        new_text = new_text[:a] + word + new_text[b:]
    if new_text == text:
        return hyp
    aligned = ctc_align(log_probs, alphabet.encode(new_text))
    if aligned is None:
        return hyp
    return replace(hyp, text=new_text, score=hyp.score + gain,
                   ctc_logprob=hyp.ctc_logprob + ctc_gain,
                   char_frames=tuple(int(f) for f in aligned))
