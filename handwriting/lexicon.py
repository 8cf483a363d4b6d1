"""A word lexicon in a character trie, read as a token automaton: what the CTC prefix beam
search (`handwriting.decoding`) uses to keep hypotheses to known words."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from pathlib import Path

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.lmfiles import CACHE_LIMIT, atomic_write, resource

DEFAULT_LEXICON_FILE = "lexicon-en.txt.gz"


LETTER = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
_BETWEEN = -1  # automaton state: not inside a word (token start, after punctuation or digits)
LexState = tuple  # sorted tuple of alternatives: trie node ids or _BETWEEN


class Lexicon:
    """Words (matched case-insensitively) in a character trie, read as a token automaton.

    A token (a run of non-space characters) is accepted when each maximal run of letters in it
    is a lexicon word, where a word may continue through a non-letter (' - .) when the lexicon
    holds such a word (don't, well-known). Digits and punctuation are always allowed, so
    IAM's separate punctuation tokens ("Mr . Foot ,"), numbers and "Williams." all pass.
    """

    def __init__(self, words: Iterable[str]):
        self._children: list[dict[str, int]] = [{}]
        self._terminal = bytearray(1)
        self._words: set[str] = set()
        self._step: dict[tuple[LexState, str], LexState | None] = {}  # advance() cache
        for w in words:
            self.add(w)

    def add(self, word: str) -> None:
        word = word.lower()
        if not word or " " in word or word in self._words:
            return
        self._words.add(word)
        node = 0
        for ch in word:
            nxt = self._children[node].get(ch)
            if nxt is None:
                nxt = len(self._children)
                self._children[node][ch] = nxt
                self._children.append({})
                self._terminal.append(0)
            node = nxt
        self._terminal[node] = 1
        self._step.clear()

    def __contains__(self, word: str) -> bool:
        return word.lower() in self._words

    def __len__(self) -> int:
        return len(self._words)

    def words(self) -> list[str]:
        return sorted(self._words)

    def is_prefix(self, text: str) -> bool:
        """Whether `text` begins some lexicon word (case-insensitive)."""
        node = 0
        for ch in text.lower():
            node = self._children[node].get(ch)
            if node is None:
                return False
        return True

    # automaton -----------------------------------------------------------------

    def initial_state(self) -> LexState:
        return (_BETWEEN,)

    def advance(self, state: LexState, ch: str) -> LexState | None:
        """The state after `ch`, or None if no lexicon-conforming text continues this way."""
        key = (state, ch)
        if key in self._step:
            return self._step[key]
        if ch == " ":
            out = (_BETWEEN,) if self.is_final(state) else None
        else:
            low, letter = ch.lower(), LETTER.match(ch) is not None
            alts = set()
            for s in state:
                if s == _BETWEEN:
                    if not letter:
                        alts.add(_BETWEEN)
                    elif low in self._children[0]:
                        alts.add(self._children[0][low])
                    continue
                child = self._children[s].get(low)
                if child is not None:
                    alts.add(child)
                if not letter and self._terminal[s]:
                    alts.add(_BETWEEN)
            out = tuple(sorted(alts)) or None
        if len(self._step) >= CACHE_LIMIT:
            self._step.clear()
        self._step[key] = out
        return out

    def is_final(self, state: LexState) -> bool:
        """Whether the token so far is complete (may be followed by a space or the line end)."""
        return any(s == _BETWEEN or self._terminal[s] for s in state)

    def accepts(self, text: str) -> bool:
        """Whether every token of `text` is complete and allowed."""
        state: LexState | None = self.initial_state()
        for ch in text:
            state = self.advance(state, ch)
            if state is None:
                return False
        return self.is_final(state)

    # construction and storage ---------------------------------------------------

    @classmethod
    def build(cls, train_texts: Iterable[str], top_n: int = 50_000,
              alphabet: Alphabet = DEFAULT_ALPHABET) -> Lexicon:
        """The `top_n` most frequent English words of `wordfreq`, the words of `train_texts`
        (IAM trainset transcriptions only) and the 26 single letters (initials)."""
        import wordfreq

        known = set(alphabet.chars)
        words = [w for w in wordfreq.top_n_list("en", top_n)
                 if LETTER.search(w) and set(w) <= known]
        words += [m.group(0) for t in train_texts for m in _WORD.finditer(t)]
        words += list("abcdefghijklmnopqrstuvwxyz")
        return cls(words)

    def save(self, path: str | Path) -> None:
        """Gzipped text, one lowercase word per line, written atomically."""
        data = gzip.compress(("\n".join(self.words()) + "\n").encode(), mtime=0)
        atomic_write(Path(path), data)

    @classmethod
    def load(cls, path: str | Path) -> Lexicon:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return cls(line.strip() for line in fh if line.strip())


def load_default_lexicon() -> Lexicon:
    """The shipped lexicon (wordfreq top 50k English words + IAM-OnDB trainset words)."""
    return Lexicon.load(resource(DEFAULT_LEXICON_FILE))
