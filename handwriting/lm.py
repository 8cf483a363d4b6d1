"""A character n-gram language model (interpolated Witten-Bell), used by the CTC prefix beam
search in `handwriting.decoding`, and the building of the shipped LM and lexicon."""

from __future__ import annotations

import importlib.metadata
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.lexicon import DEFAULT_LEXICON_FILE, LETTER, Lexicon
from handwriting.lmfiles import CACHE_LIMIT, atomic_write, read_npz, resource

BOS = "\x02"  # line start: only ever a context, never predicted
EOS = "\x03"  # line end: predicted after the last character
FORMAT_VERSION = 1
DEFAULT_LM_FILE = "charlm-iam-wordfreq-6.npz"

# LM state: the longest suffix of the history (at most order-1 symbols, BOS included) that the
# model holds as a context. Every longer suffix was never seen, so Witten-Bell backs off from it
# to this one with weight 1: the state predicts exactly as the full history would. Held as the
# context's code (`_code`), as are the n-grams and contexts the model keeps.
LMState = int
RADIX = 256  # symbols are latin-1 (as stored), none NUL: a string of n symbols is an n-digit code


def _code(text: str) -> int:
    """The number whose base-`RADIX` digits are `text`'s symbols, the last the lowest: a
    suffix of length m is `code % RADIX**m`, appending c is `code * RADIX + ord(c)`."""
    return int.from_bytes(text.encode("latin-1"), "big")


def _text(code: int) -> str:
    return code.to_bytes(_length(code), "big").decode("latin-1")


def _length(code: int) -> int:
    """Symbols in a code (no symbol is NUL, so its top digit is never 0)."""
    return (code.bit_length() + 7) // 8


def _codes(buf, k: int) -> np.ndarray:
    """(n,) codes of a stored array of n fixed-width k-symbol latin-1 strings: int64, or Python
    ints past 7 symbols (an LM of order 8 or more)."""
    digits = np.asarray(buf, np.uint8).reshape(-1, k)
    if k > 7:
        return np.array([int.from_bytes(row.tobytes(), "big") for row in digits], object)
    return digits.astype(np.int64) @ (RADIX ** np.arange(k - 1, -1, -1, dtype=np.int64))


def _count(counts: dict[str, float], s: str, first: int, weight: float, order: int) -> None:
    """Add `weight` to every n-gram (length 1..order) of `s` that predicts s[i], i >= first."""
    for i in range(first, len(s)):
        for k in range(1, min(order, i + 1) + 1):
            g = s[i + 1 - k:i + 1]
            counts[g] = counts.get(g, 0.0) + weight


class CharNgramLM:
    """P(c | h) over the alphabet's characters plus EOS, interpolated Witten-Bell smoothing:

        P(c|h) = (n(hc) + B(h) P(c|h')) / D(h),   D(h) = n(h.) + N1+(h.),   P(c|'') base 1/V

    where h' drops h's oldest symbol, n are (possibly fractional) counts and N1+(h.) the number
    of distinct followers of h. Witten-Bell rather than Kneser-Ney because it is defined for
    fractional, frequency-weighted counts (modified Kneser-Ney's discounts come from counts of
    counts, which such data lacks). Pruned n-grams hand their count to the back-off mass:
    B(h) = D(h) - sum of h's kept counts, so every P(.|h) still sums to 1.
    """

    END = EOS

    def __init__(self, order: int, alphabet: Alphabet, ngrams: dict[int, float],
                 contexts: dict[int, tuple[float, float]], meta: dict | None = None):
        """`ngrams`: each kept n-gram's count, `contexts`: (D(h), B(h)) per context, both keyed
        by the strings' codes (`_code`); built by `train` and `load`."""
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order = order
        self.alphabet = alphabet
        self.meta = dict(meta or {})
        self._ngrams = ngrams  # context + symbol -> kept count
        # context -> (D, B): the denominator and the back-off mass of the formula above
        self._contexts = contexts
        self._symbols = EOS + alphabet.chars
        self._base = 1.0 / len(self._symbols)
        self._mods = [RADIX ** m for m in range(order)]  # code % _mods[m]: the last m symbols
        self._step: dict[tuple[int, str], tuple[int, float]] = {}  # advance() cache

    # ------------------------------------------------------------------ training

    @classmethod
    def train(cls, texts: Iterable[str], weights: Iterable[float] | None = None, *,
              order: int = 6, alphabet: Alphabet = DEFAULT_ALPHABET,
              fragments: Iterable[str] = (), fragment_weights: Iterable[float] | None = None,
              prune_order: int = 4, prune_below: float = 0.0, meta: dict | None = None,
              ) -> CharNgramLM:
        """Count n-grams of whole lines `texts` (each framed by BOS ... EOS) and of `fragments`
        (running text without line boundaries, e.g. " word ": only symbols after the first are
        predicted), each weighted (default 1). N-grams of length >= `prune_order` whose count is
        below `prune_below` are dropped; shorter prefixes are counted at least as often, so the
        kept set stays closed under prefixes and suffixes."""
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        counts: dict[str, float] = {}
        known = set(alphabet.chars)

        def check(text: str) -> None:
            bad = sorted(set(text) - known)
            if bad:
                raise ValueError(f"characters not in the alphabet: {''.join(bad)!r} in {text!r}")

        w_iter = iter(weights) if weights is not None else None
        for text in texts:
            check(text)
            w = float(next(w_iter)) if w_iter is not None else 1.0
            _count(counts, BOS + text + EOS, 1, w, order)
        w_iter = iter(fragment_weights) if fragment_weights is not None else None
        for frag in fragments:
            check(frag)
            w = float(next(w_iter)) if w_iter is not None else 1.0
            _count(counts, frag, 1, w, order)
        counts = {g: n for g, n in counts.items() if n > 0}

        totals: dict[str, list[float]] = {}  # context -> [n(h.), N1+(h.)]
        for g, n in counts.items():
            t = totals.setdefault(g[:-1], [0.0, 0])
            t[0] += n
            t[1] += 1
        kept = {g: n for g, n in counts.items() if len(g) < prune_order or n >= prune_below}
        live = {g[:-1] for g in kept}
        denominators = {h: n + types for h, (n, types) in totals.items() if h in live}
        info = {"smoothing": "interpolated Witten-Bell", "order": order,
                "prune_order": prune_order, "prune_below": prune_below,
                "ngrams_counted": len(counts), "ngrams_kept": len(kept), **(meta or {})}
        # Round-trip through the on-disk representation so a trained and a loaded model agree.
        return cls._from_arrays(*cls._to_arrays(order, alphabet, kept, denominators, info))

    # ------------------------------------------------------------------ scoring

    def _canonical(self, history: int) -> LMState:
        """Longest suffix of the code `history` (at most order-1 symbols) that is a known
        context."""
        m = min(_length(history), self.order - 1)
        while m and history % self._mods[m] not in self._contexts:
            m -= 1
        return history % self._mods[m]

    def _prob(self, state: LMState, sym: str) -> float:
        # Interpolate from the base distribution up to the full context (formula in the class
        # docstring); every suffix of a known context is known, so no lookup fails.
        p = self._base
        ngrams, contexts, mods, s = self._ngrams, self._contexts, self._mods, ord(sym)
        for m in range(_length(state) + 1):
            h = state % mods[m]
            d, b = contexts[h]
            p = (ngrams.get(h * RADIX + s, 0.0) + b * p) / d
        return p

    def _symbol(self, ch: str) -> str:
        if ch != EOS and ch not in self.alphabet:
            raise ValueError(f"character {ch!r} is neither in the alphabet nor the end symbol")
        return ch

    def initial_state(self) -> LMState:
        """The state at the start of a line."""
        return self._canonical(_code(BOS))

    def context_of(self, state: LMState) -> str:
        """The context a state stands for (its symbols, BOS included)."""
        return _text(state)

    def advance(self, state: LMState, ch: str) -> tuple[LMState, float]:
        """(state after `ch`, ln P(ch | state)); `ch` may be `END`. Cached: O(1) when repeated."""
        key = (state, ch)
        hit = self._step.get(key)
        if hit is not None:
            return hit
        sym = self._symbol(ch)
        lp = math.log(self._prob(state, sym))
        out = (self._canonical(state * RADIX + ord(sym)) if sym != EOS else state, lp)
        if len(self._step) >= CACHE_LIMIT:
            self._step.clear()
        self._step[key] = out
        return out

    def state_of(self, context: str) -> LMState:
        """The state after the line prefix `context` (the line start is implicit)."""
        for ch in context:
            self._symbol(ch)
        return self._canonical(_code((BOS + context)[1 - self.order:] if self.order > 1 else ""))

    def logprob(self, context: str, ch: str) -> float:
        """ln P(ch | line prefix `context`); `ch` is a character or `END`."""
        return self.advance(self.state_of(context), ch)[1]

    def distribution(self, context: str) -> dict[str, float]:
        """P(. | context) over every character and `END` (sums to 1)."""
        state = self.state_of(context)
        return {s: self._prob(state, s) for s in self._symbols}

    def score(self, text: str) -> float:
        """ln P(text as a whole line), line end included."""
        state, total = self.initial_state(), 0.0
        for ch in text + EOS:
            state, lp = self.advance(state, ch)
            total += lp
        return total

    def count(self, ngram: str) -> float:
        """The kept count of an n-gram (BOS/EOS written as `lm.BOS`/`lm.EOS`); 0 if absent."""
        return self._ngrams.get(_code(ngram), 0.0)

    def __len__(self) -> int:
        """Number of kept n-grams."""
        return len(self._ngrams)

    # ------------------------------------------------------------------ storage

    @staticmethod
    def _to_arrays(order, alphabet, ngrams, denominators, meta):
        arrays = {}
        for k in range(1, order + 1):
            gs = sorted(g for g in ngrams if len(g) == k)
            arrays[f"ngrams{k}"] = np.frombuffer("".join(gs).encode("latin-1"), np.uint8)
            arrays[f"counts{k}"] = np.array([ngrams[g] for g in gs], np.float32)
        for k in range(order):
            hs = sorted(h for h in denominators if len(h) == k)
            arrays[f"contexts{k}"] = np.frombuffer("".join(hs).encode("latin-1"), np.uint8)
            arrays[f"denominators{k}"] = np.array([denominators[h] for h in hs], np.float32)
        header = {"format_version": FORMAT_VERSION, "order": order, "alphabet": alphabet.chars,
                  "meta": meta}
        return header, arrays

    @classmethod
    def _from_arrays(cls, header: dict, arrays) -> CharNgramLM:
        """The LM from its stored arrays: n-grams and contexts keyed by their codes, made and
        the back-off masses summed with NumPy per length (string keys, cut from the stored
        bytes one by one, took half of a model process's LM load at start-up)."""
        order = int(header["order"])
        ngrams: dict[int, float] = {}
        kept_by_context: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for k in range(1, order + 1):
            g = _codes(arrays[f"ngrams{k}"], k)
            counts = np.asarray(arrays[f"counts{k}"], np.float64)
            ngrams.update(zip(g.tolist(), counts.tolist(), strict=True))
            prefixes, inverse = np.unique(g // RADIX, return_inverse=True)  # their contexts
            kept_by_context[k - 1] = (prefixes, np.bincount(inverse.ravel(), weights=counts,
                                                             minlength=len(prefixes)))
        contexts: dict[int, tuple[float, float]] = {}
        for k in range(order):
            d = np.asarray(arrays[f"denominators{k}"], np.float64)
            h = _codes(arrays[f"contexts{k}"], k) if k else np.zeros(len(d), np.int64)
            kept = np.zeros(len(d))
            prefixes, sums = kept_by_context.get(k, (np.zeros(0, np.int64), None))
            if len(prefixes):
                at = np.minimum(np.searchsorted(prefixes, h), len(prefixes) - 1)
                hit = prefixes[at] == h
                kept[hit] = sums[at[hit]]
            contexts.update(zip(h.tolist(), zip(d.tolist(), (d - kept).tolist(), strict=True),
                                strict=True))
        return cls(order, Alphabet(header["alphabet"]), ngrams, contexts, header["meta"])

    def save(self, path: str | Path) -> None:
        """Write a compressed .npz (no pickle) atomically."""
        header, arrays = self._to_arrays(
            self.order, self.alphabet, {_text(g): n for g, n in self._ngrams.items()},
            {_text(h): d for h, (d, _) in self._contexts.items()}, self.meta)
        buf = io.BytesIO()
        np.savez_compressed(buf, header=np.array(json.dumps(header)), **arrays)
        atomic_write(Path(path), buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> CharNgramLM:
        """Read a file written by `save`; raises ValueError naming the file if it is not one."""
        header, arrays = read_npz(path, "character LM", FORMAT_VERSION)
        return cls._from_arrays(header, arrays)


# ---------------------------------------------------------------------- default resources


def _word_pseudo_text(top_n: int, alphabet: Alphabet, capitalized: float):
    """(" word " fragments, weights ∝ frequency) from wordfreq, filtered to the alphabet; each
    word also appears Capitalized with weight fraction `capitalized` (line starts, names)."""
    import wordfreq

    known = set(alphabet.chars)
    frags, weights = [], []
    for w in wordfreq.top_n_list("en", top_n):
        if not LETTER.search(w) or not set(w) <= known:
            continue
        f = wordfreq.word_frequency(w, "en")
        if w == "i" or w.startswith("i'"):  # English capitalizes "I" everywhere
            frags.append(" I" + w[1:] + " ")
            weights.append(f)
            continue
        frags.append(f" {w} ")
        weights.append(f * (1.0 - capitalized))
        cap = w[0].upper() + w[1:]
        if cap != w and capitalized > 0:
            frags.append(f" {cap} ")
            weights.append(f * capitalized)
    return frags, np.asarray(weights, np.float64)


def build_default_lm(train_texts: list[str], *, order: int = 6, top_n: int = 50_000,
                     word_tokens: float = 0.5, capitalized: float = 0.1,
                     prune_below: float = 0.1, alphabet: Alphabet = DEFAULT_ALPHABET,
                     ) -> CharNgramLM:
    """Train on `train_texts` (pass IAM-OnDB *trainset* transcriptions only: never a test set,
    never LOB) plus wordfreq's `top_n` English words as " word " pseudo-text weighted by
    frequency. The word counts add up to `word_tokens` times the number of word tokens in
    `train_texts`, so the lines' own statistics (punctuation, case, word sequences) keep their
    weight. N-grams of length >= 4 counted less than `prune_below` are pruned."""
    train_texts = list(train_texts)
    frags, weights = _word_pseudo_text(top_n, alphabet, capitalized)
    n_tokens = sum(len(t.split()) for t in train_texts)
    weights = weights * (word_tokens * n_tokens / weights.sum())
    meta = {
        "sources": {
            "lines": f"{len(train_texts)} caller-supplied lines (IAM-OnDB trainset)",
            "words": f"wordfreq {importlib.metadata.version('wordfreq')} top_n_list('en', "
                     f"{top_n}), weight ∝ word_frequency, total {word_tokens} x line tokens, "
                     f"capitalized share {capitalized}",
        },
    }
    return CharNgramLM.train(train_texts, order=order, alphabet=alphabet, fragments=frags,
                             fragment_weights=weights.tolist(), prune_below=prune_below,
                             meta=meta)


def build_default_resources(train_texts: list[str], folder: str | Path) -> tuple[Path, Path]:
    """Build and write the default LM and lexicon into `folder`; returns their paths."""
    folder = Path(folder)
    lm_path, lex_path = folder / DEFAULT_LM_FILE, folder / DEFAULT_LEXICON_FILE
    build_default_lm(train_texts).save(lm_path)
    Lexicon.build(train_texts).save(lex_path)
    return lm_path, lex_path


def load_default_lm() -> CharNgramLM:
    """The shipped LM (IAM-OnDB trainset + wordfreq English; see its `meta`)."""
    return CharNgramLM.load(resource(DEFAULT_LM_FILE))
