"""A word bigram language model (interpolated Witten-Bell over a unigram that mixes IAM-OnDB
trainset words with wordfreq's English frequencies) and the word-key rules the beam search
uses to score whole words at word boundaries (`handwriting.decoding`)."""

from __future__ import annotations

import bisect
import importlib.metadata
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from handwriting.lmfiles import atomic_write, read_npz, resource

FORMAT_VERSION = 1
DEFAULT_WORD_LM_FILE = "wordlm-iam-wordfreq-2.npz"
LINE_START = "<s>"  # the context of a line's first word (the previous line is unknown)
_EDGES = re.compile(r"^[^A-Za-z]+|[^A-Za-z]+$")


def word_key(token: str) -> str:
    """The lexicon form of a whitespace token: edge punctuation and digits stripped,
    lowercase ("Williams." -> "williams", "don't" -> "don't", "(1960)" -> "")."""
    return _EDGES.sub("", token).lower()


class WordLM:
    """ln P(word | previous word) over a fixed vocabulary of lowercase word keys:

        P(w|v) = (n(v w) + N1+(v.) Pu(w)) / (n(v.) + N1+(v.))     (Witten-Bell)

    with Pu a unigram mixing trainset counts and wordfreq frequencies. Words outside the
    vocabulary get None: the decoder gives them its own OOV penalty, so they stay possible."""

    def __init__(self, words: list[str], unigram: np.ndarray, bigrams: dict[tuple[int, int], float],
                 backoff: dict[int, float], meta: dict | None = None):
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.unigram = unigram  # (V,) ln Pu
        self._bigrams = bigrams  # (context id, word id) -> ln P(w|v), seen pairs only
        self._backoff = backoff  # context id -> ln(N1+(v.) / (n(v.) + N1+(v.)))
        self.meta = dict(meta or {})
        self._sorted: list[str] | None = None  # the words in order: prefixes by bisection
        self._cache: dict[tuple[str, str], float | None] = {}
        self._tokens: dict[str, bool] = {}  # token_may_be_word() cache

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def is_prefix(self, key: str) -> bool:
        """Whether `key` begins some vocabulary word: the first word not below it in sorted
        order starts with it. (A set of every prefix took 0.14 s and 8 MB at start-up.)"""
        if self._sorted is None:
            self._sorted = sorted(self.words)
        i = bisect.bisect_left(self._sorted, key)
        return i < len(self._sorted) and self._sorted[i].startswith(key)

    def token_may_be_word(self, token: str) -> bool:
        """Whether the partial token can still become a vocabulary word (or has no letters
        yet). Cached: the beam search asks for the same tokens again and again."""
        hit = self._tokens.get(token)
        if hit is None:
            key = word_key(token)
            hit = self._tokens[token] = not key or self.is_prefix(key)
            if len(self._tokens) > 200_000:
                self._tokens.clear()
        return hit

    def logprob(self, prev: str, word: str) -> float | None:
        """ln P(word | prev) for word keys (`word_key`; `LINE_START` for a line's first word),
        or None when `word` is out of the vocabulary. An unknown `prev` backs off fully."""
        key = (prev, word)
        if key in self._cache:
            return self._cache[key]
        w = self.index.get(word)
        out = None
        if w is not None:
            v = self.index.get(prev, -1) if prev != LINE_START else -2
            out = self._bigrams.get((v, w))
            if out is None:
                out = self._backoff.get(v, 0.0) + float(self.unigram[w])
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[key] = out
        return out

    def warm_up(self) -> None:
        """Build the lookup tables the first decoding would otherwise pay for."""
        self.is_prefix("the")
        self.logprob(LINE_START, "the")

    # ------------------------------------------------------------------ training

    @classmethod
    def train(cls, lines: Iterable[str], wordfreq_top_n: int = 50_000,
              wordfreq_share: float = 0.5, meta: dict | None = None) -> WordLM:
        """Count the word keys of `lines` (IAM-OnDB trainset transcriptions only: never a
        test set, never LOB) and add wordfreq's `wordfreq_top_n` English words to the unigram
        with total weight `wordfreq_share` x the lines' word tokens."""
        import wordfreq

        unigram: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for line in lines:
            prev = LINE_START
            for tok in line.split():
                key = word_key(tok)
                if not key:
                    continue
                unigram[key] += 1
                pairs[prev, key] += 1
                prev = key
        n_tokens = sum(unigram.values())
        freqs = {w: wordfreq.word_frequency(w, "en")
                 for w in (wordfreq.top_n_list("en", wordfreq_top_n) if wordfreq_top_n else [])
                 if word_key(w) == w}
        total_f = sum(freqs.values())
        mass: dict[str, float] = dict(unigram)
        for w, f in freqs.items():
            mass[w] = mass.get(w, 0.0) + wordfreq_share * n_tokens * f / total_f
        words = sorted(mass)
        index = {w: i for i, w in enumerate(words)}
        total = sum(mass.values())
        uni = np.log(np.array([mass[w] / total for w in words], np.float64))
        ctx_n: Counter[str] = Counter()
        ctx_types: Counter[str] = Counter()
        for (v, _), n in pairs.items():
            ctx_n[v] += n
            ctx_types[v] += 1

        def cid(v: str) -> int:
            return -2 if v == LINE_START else index[v]

        bigrams = {}
        for (v, w), n in pairs.items():
            d = ctx_n[v] + ctx_types[v]
            p = (n + ctx_types[v] * math.exp(uni[index[w]])) / d
            bigrams[cid(v), index[w]] = math.log(p)
        backoff = {cid(v): math.log(ctx_types[v] / (ctx_n[v] + ctx_types[v])) for v in ctx_n}
        info = {"smoothing": "interpolated Witten-Bell bigram", "vocabulary": len(words),
                "bigrams": len(bigrams), "line_tokens": n_tokens,
                "wordfreq": f"wordfreq {importlib.metadata.version('wordfreq')} top_n_list('en', "
                            f"{wordfreq_top_n}), total weight {wordfreq_share} x line tokens",
                **(meta or {})}
        return cls(words, uni.astype(np.float32), bigrams, backoff, info)

    # ------------------------------------------------------------------ storage

    def save(self, path: str | Path) -> None:
        """A compressed .npz (no pickle), written atomically."""
        pairs = sorted(self._bigrams)
        ctx = sorted(self._backoff)
        header = {"format_version": FORMAT_VERSION, "meta": self.meta}
        buf = io.BytesIO()
        np.savez_compressed(
            buf, header=np.array(json.dumps(header)),
            words=np.frombuffer("\n".join(self.words).encode(), np.uint8),
            unigram=self.unigram.astype(np.float32),
            bigram_pairs=np.array(pairs, np.int32).reshape(-1, 2),
            bigram_logprobs=np.array([self._bigrams[p] for p in pairs], np.float32),
            backoff_contexts=np.array(ctx, np.int32),
            backoff_logprobs=np.array([self._backoff[c] for c in ctx], np.float32))
        atomic_write(Path(path), buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> WordLM:
        """Read a file written by `save`; raises ValueError naming the file if it is not one."""
        path = Path(path)
        header, z = read_npz(path, "word LM", FORMAT_VERSION)
        try:
            words = bytes(z["words"]).decode().split("\n")
            unigram = z["unigram"].astype(np.float32)
            pairs, lps = z["bigram_pairs"], z["bigram_logprobs"]
            ctx, bos = z["backoff_contexts"], z["backoff_logprobs"]
        except (KeyError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a word LM file ({exc})") from None
        if len(words) != len(unigram) or len(pairs) != len(lps) or len(ctx) != len(bos):
            raise ValueError(f"{path}: word LM arrays disagree in length (truncated file?)")
        bigrams = dict(zip(map(tuple, pairs.tolist()), lps.tolist(), strict=True))
        backoff = dict(zip(ctx.tolist(), bos.tolist(), strict=True))
        return cls(words, unigram, bigrams, backoff, header.get("meta"))


def build_default_word_lm(train_texts: list[str], folder: str | Path) -> Path:
    """Train on `train_texts` (IAM-OnDB trainset transcriptions) + wordfreq and write the
    default word LM into `folder`; returns its path."""
    path = Path(folder) / DEFAULT_WORD_LM_FILE
    meta = {"lines": f"{len(train_texts)} caller-supplied lines (IAM-OnDB trainset)"}
    WordLM.train(train_texts, meta=meta).save(path)
    return path


def load_default_word_lm() -> WordLM:
    """The shipped word LM (IAM-OnDB trainset + wordfreq English; see its `meta`)."""
    return WordLM.load(resource(DEFAULT_WORD_LM_FILE))
