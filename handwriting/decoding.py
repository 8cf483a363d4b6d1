"""CTC decoding (Graves et al. 2009): greedy best path, and prefix beam search with a
character n-gram language model, an optional word lexicon and optional word-level scores."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.lexicon import Lexicon
from handwriting.lm import CharNgramLM
from handwriting.wordlm import LINE_START, WordLM, word_key

NEG_INF = -math.inf


@dataclass(frozen=True)
class Hypothesis:
    """One decoded line. `score` ranks hypotheses: ctc_logprob + lm_weight * lm_logprob +
    insertion_bonus * len(text) (+ the word terms of a word LM: `beam_search`), the LM terms
    only when an LM is used."""

    text: str
    score: float
    ctc_logprob: float  # ln p(text | x) over the alignments the search kept (greedy: best path)
    lm_logprob: float  # ln P_LM(text), line end included for complete lines; 0.0 without an LM
    char_frames: tuple[int, ...]  # per character: the frame that first emits it


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


def _check(log_probs: np.ndarray, alphabet: Alphabet) -> None:
    if log_probs.ndim != 2 or log_probs.shape[1] != len(alphabet):
        raise ValueError(f"log_probs must have shape (T, {len(alphabet)}) for this alphabet, "
                         f"got {log_probs.shape}")


def greedy_hypothesis(log_probs: np.ndarray, alphabet: Alphabet) -> Hypothesis:
    """Best-path decoding as a `Hypothesis`; its ctc_logprob is the best path's ln p(pi|x), a
    lower bound on ln p(text|x) = ln sum over B^-1(text) (Graves et al. 2009)."""
    lp = np.asarray(log_probs, dtype=np.float64)  # (T, K)
    _check(lp, alphabet)
    path = greedy_path(lp)  # (T,)
    ctc = float(lp[np.arange(len(path)), path].sum())
    labels, frames, prev = [], [], 0
    for t, k in enumerate(path.tolist()):
        if k != prev and k != 0:
            labels.append(k)
            frames.append(t)
        prev = k
    return Hypothesis(alphabet.decode(labels), ctc, ctc, 0.0, tuple(frames))


# ---------------------------------------------------------------------- prefix beam search


def _lae(a: float, b: float) -> float:
    """ln(e^a + e^b) for scalars: math beats np.logaddexp by ~10x on Python floats."""
    if a < b:
        a, b = b, a
    if b == NEG_INF:
        return a
    return a + math.log1p(math.exp(b - a))


class _Prefix:
    """A node of the prefix tree: one candidate text, its LM and lexicon states, and its
    fusion term lm_weight * ln P_LM(text) + bonus * len(text). Children are made once."""

    __slots__ = ("text", "last", "lm_state", "lm_logprob", "lex_state", "fusion", "children",
                 "word_prev", "oov")

    def __init__(self, text, last, lm_state, lm_logprob, lex_state, fusion,
                 word_prev=LINE_START, oov=False):
        self.text = text
        self.word_prev = word_prev  # word key of the last complete word (word LM context)
        self.oov = oov  # the current token already left the word LM's vocabulary
        self.last = last  # label of the last character; 0 for the empty prefix
        self.lm_state = lm_state
        self.lm_logprob = lm_logprob
        self.lex_state = lex_state
        self.fusion = fusion
        self.children: dict[int, _Prefix | None] = {}  # None: the lexicon forbids it


@dataclass(frozen=True)
class _Fusion:
    """What extending a prefix needs besides the posteriors."""

    chars: str
    lm: CharNgramLM | None
    lexicon: Lexicon | None
    lm_weight: float
    bonus: float
    word_lm: WordLM | None = None
    word_weight: float = 0.0
    oov_penalty: float = 0.0
    word_bonus: float = 0.0

    def word_end(self, token: str, prev: str, oov: bool) -> tuple[float, str]:
        """(fusion term, new context) for a finished whitespace token: the word bonus plus
        word_weight * ln P_word(key | prev) for a vocabulary word, or plus the OOV penalty for
        any other word (once: a token that left the vocabulary's prefixes has paid it already);
        0 for a token with no letters (numbers, punctuation: the character LM's business)."""
        key = word_key(token)
        if not key:
            return 0.0, prev
        if oov:
            return self.word_bonus, "<unk>"
        lp = self.word_lm.logprob(prev, key)
        if lp is None:
            return self.oov_penalty + self.word_bonus, "<unk>"
        return self.word_weight * lp + self.word_bonus, key

    def _word_step(self, text: str, prev: str, oov: bool, ch: str) -> tuple[float, str, bool]:
        token = text[text.rfind(" ") + 1:]
        if ch == " ":
            delta, prev = self.word_end(token, prev, oov)
            return delta, prev, False
        if oov:
            return 0.0, prev, True
        # Charge the OOV penalty as soon as a token cannot become a vocabulary word, so that
        # the beam drops non-words early rather than at the space.
        if not self.word_lm.token_may_be_word(token + ch):
            return self.oov_penalty, prev, True
        return 0.0, prev, False

    def child(self, node: _Prefix, k: int) -> _Prefix | None:
        ch = self.chars[k - 1]
        lex = None
        if self.lexicon is not None:
            lex = self.lexicon.advance(node.lex_state, ch)
            if lex is None:
                node.children[k] = None
                return None
        state, lm_lp, fusion = None, 0.0, 0.0
        if self.lm is not None:
            # Shallow fusion: the LM scores each character once, when it is appended.
            state, lp = self.lm.advance(node.lm_state, ch)
            lm_lp = node.lm_logprob + lp
            fusion = node.fusion + self.lm_weight * lp + self.bonus
        prev, oov = node.word_prev, node.oov
        if self.word_lm is not None:
            delta, prev, oov = self._word_step(node.text, prev, oov, ch)
            fusion += delta
        out = _Prefix(node.text + ch, k, state, lm_lp, lex, fusion, prev, oov)
        node.children[k] = out
        return out


def _candidates(lp: np.ndarray, threshold: float, limit: int) -> list[list[tuple[int, float]]]:
    """Per frame, (label, ln y) of the at most `limit` characters with ln y > threshold."""
    chars = lp[:, 1:]  # (A, K-1)
    n = chars.shape[1]
    limit = min(limit, n)
    if limit < n:
        idx = np.argpartition(chars, n - limit, axis=1)[:, n - limit:]  # (A, limit)
    else:
        idx = np.broadcast_to(np.arange(n), chars.shape)
    vals = np.take_along_axis(chars, idx, axis=1)  # (A, limit)
    rows, cols = np.nonzero(vals > threshold)
    out: list[list[tuple[int, float]]] = [[] for _ in range(len(lp))]
    for a, k, y in zip(rows.tolist(), (idx[rows, cols] + 1).tolist(), vals[rows, cols].tolist(),
                       strict=True):
        out[a].append((k, y))
    return out


def _blank_frames(beams: dict, log_blank: float) -> dict:
    """Frames treated as pure blank: all of a prefix's mass ends in blank, times their blank
    probability. Ranking is unchanged, and a repeat after them is a new character."""
    return {node: (_lae(pb, pnb) + log_blank, NEG_INF, fr)
            for node, (pb, pnb, fr) in beams.items()}


def beam_search(log_probs: np.ndarray, alphabet: Alphabet, beam_width: int = 16,
                lm: CharNgramLM | None = None, lm_weight: float = 0.5,
                insertion_bonus: float = 1.0, lexicon: Lexicon | None = None, nbest: int = 5,
                prune_threshold: float | None = math.log(1e-4),
                blank_skip: float | None = 0.999, max_candidates: int | None = None,
                complete: bool = True, word_lm: WordLM | None = None, word_weight: float = 0.0,
                oov_penalty: float = 0.0, word_bonus: float = 0.0) -> list[Hypothesis]:
    """CTC prefix beam search (Graves et al. 2009; Hannun et al. 2014) over (T, K)
    natural-log posteriors, best first, at most `nbest` distinct texts.

    Each prefix l keeps ln p_b(l) and ln p_nb(l), the probability of the frames so far over
    alignments collapsing to l and ending in blank / in l's last character, so that
    p(l|x) = p_b(l) + p_nb(l) at the last frame is summed over alignments, not maximized.
    Ranking adds shallow fusion: `lm_weight` * ln P_LM(l) + `insertion_bonus` * |l| (both
    only with `lm`), and at the end of a `complete` line the LM's end-of-line term. With a
    `lexicon`, characters that leave no lexicon-conforming token are never appended, and a
    complete line's hypotheses must end in a complete token (if any does).
    With a `word_lm` (and `lm`), each finished token adds `word_weight` * ln P_word(word |
    previous word) if it is a vocabulary word, else `oov_penalty` (charged as soon as the
    token can no longer become one), so out-of-vocabulary words stay possible; and every
    finished word adds `word_bonus`, which balances the word LM's cost per word.
    Set `complete=False` for a line still being written (last word may be unfinished).

    Approximations, for speed (both off with None; exact with a wide beam):
    - frames whose blank probability exceeds `blank_skip` count as pure blank: all mass moves
      to p_b. That drops at most 1 - blank_skip of each prefix's mass, equally for all, and
      keeps CTC's repeat rule (a repeated character across such a frame is a new one).
    - per frame only the `max_candidates` (default `beam_width`) most probable characters
      with ln y > `prune_threshold` extend prefixes.
    """
    lp = np.asarray(log_probs, dtype=np.float64)  # (T, K)
    _check(lp, alphabet)
    if beam_width < 1 or nbest < 1:
        raise ValueError(f"beam_width and nbest must be >= 1, got {beam_width} and {nbest}")
    if lm is not None and lm.alphabet != alphabet:
        raise ValueError("the language model was trained for a different alphabet")
    if word_weight < 0 or oov_penalty > 0 or word_bonus < 0:
        # the pruning bound below needs word terms <= word_bonus
        raise ValueError(f"word_weight and word_bonus must be >= 0 and oov_penalty <= 0, got "
                         f"{word_weight}, {word_bonus} and {oov_penalty}")
    bonus = insertion_bonus if lm is not None else 0.0
    word_lm = word_lm if lm is not None else None
    fusion = _Fusion(alphabet.chars, lm, lexicon, lm_weight, bonus, word_lm, word_weight,
                     oov_penalty, word_bonus)
    # the most a character can add to a prefix's fusion term (its LM log-probability is <= 0)
    gain = bonus + (word_bonus if word_lm is not None else 0.0)
    root = _Prefix("", 0, lm.initial_state() if lm is not None else None, 0.0,
                   lexicon.initial_state() if lexicon is not None else None, 0.0)
    # prefix -> (ln p_b, ln p_nb, frames): frames is a cons list (t, rest) of emission frames
    beams: dict[_Prefix, tuple] = {root: (0.0, NEG_INF, None)}

    T = lp.shape[0]
    skip = np.zeros(T, bool) if blank_skip is None else lp[:, 0] > math.log(blank_skip)
    active = np.flatnonzero(~skip)  # (A,)
    blank_sums = np.concatenate([[0.0], np.cumsum(lp[:, 0])])  # (T+1,) for skipped runs
    limit = max_candidates if max_candidates is not None else beam_width
    threshold = NEG_INF if prune_threshold is None else prune_threshold
    cands = _candidates(lp[active], threshold, limit)
    rows = lp[active].tolist()
    done = 0  # frames consumed so far
    for a, t in enumerate(active.tolist()):
        if t > done:
            beams = _blank_frames(beams, float(blank_sums[t] - blank_sums[done]))
        done = t + 1
        row, frame_cands = rows[a], cands[a]
        yb = row[0]
        nxt: dict[_Prefix, list] = {}  # prefix -> [ln p_b, ln p_nb, frames, best term]
        for node, (pb, pnb, fr) in beams.items():
            # l stays l: a blank frame (p_b <- p(l) y_blank), or its last character repeated
            # without a blank between (p_nb <- p_nb y_last), Hannun et al. 2014, Alg. 1.
            spb = _lae(pb, pnb) + yb
            spnb = pnb + row[node.last] if node.last else NEG_INF
            nxt[node] = [spb, spnb, fr, _lae(spb, spnb)]
        # No new prefix scoring below the beam_width-th best of these can survive this frame:
        # a new l + k has no other parent, and its fusion term is at most l's + gain.
        # (nxt holds at most beam_width prefixes here, so the beam_width-th best is the least)
        cutoff = NEG_INF
        if len(nxt) >= beam_width:
            cutoff = min([e[3] + node.fusion for node, e in nxt.items()])
        for node, (pb, pnb, fr) in beams.items():
            if not frame_cands:
                break
            ptot = _lae(pb, pnb)
            children, last = node.children, node.last
            bound = cutoff - node.fusion - gain
            for k, y in frame_cands:
                # l + k: a repeat of l's last character needs a blank between (p_b only).
                term = (pb if k == last else ptot) + y
                if k in children:
                    child = children[k]
                    if child is None:
                        continue
                    e = nxt.get(child)
                    if e is None and term + child.fusion < cutoff:
                        continue
                else:
                    if term < bound:
                        continue
                    child = fusion.child(node, k)
                    if child is None:
                        continue
                    e = nxt.get(child)
                if e is None:
                    nxt[child] = [NEG_INF, term, (t, fr), term]
                else:
                    e[1] = _lae(e[1], term)
                    if term > e[3]:  # char_frames follow the most probable contribution
                        e[2], e[3] = (t, fr), term
        scored = [(_lae(e[0], e[1]) + node.fusion, node, e) for node, e in nxt.items()]
        if len(scored) > beam_width:  # what heapq.nlargest returns, faster for short lists
            scored = sorted(scored, key=itemgetter(0), reverse=True)[:beam_width]
        beams = {node: (e[0], e[1], e[2]) for _, node, e in scored}
    if T > done:
        beams = _blank_frames(beams, float(blank_sums[T] - blank_sums[done]))
    return _finish(beams, fusion, nbest, complete)


def _finish(beams: dict, fusion: _Fusion, nbest: int, complete: bool) -> list[Hypothesis]:
    lm, lexicon = fusion.lm, fusion.lexicon
    out = []
    for node, (pb, pnb, fr) in beams.items():
        ctc = _lae(pb, pnb)
        lm_lp, score = node.lm_logprob, ctc + node.fusion
        if lm is not None and complete:
            end = lm.advance(node.lm_state, lm.END)[1]
            lm_lp, score = lm_lp + end, score + fusion.lm_weight * end
            token = node.text[node.text.rfind(" ") + 1:]
            if fusion.word_lm is not None and not token.endswith("-"):  # "-": word goes on
                score += fusion.word_end(token, node.word_prev, node.oov)[0]
        final = lexicon is None or not complete or lexicon.is_final(node.lex_state)
        frames = []
        while fr is not None:
            frames.append(fr[0])
            fr = fr[1]
        out.append((final, score, Hypothesis(node.text, score, ctc, lm_lp, tuple(frames[::-1]))))
    if any(f for f, _, _ in out):
        out = [o for o in out if o[0]]
    out.sort(key=itemgetter(1), reverse=True)
    return [h for _, _, h in out[:nbest]]


# ---------------------------------------------------------------------- benchmark


def synthetic_log_probs(text: str, alphabet: Alphabet, frames: int,
                        rng: np.random.Generator, blank_logit: float = 12.0,
                        confusion: float = 0.3) -> np.ndarray:
    """Peaky CTC-like (frames, K) log-posteriors spelling `text`, for tests and benchmarks:
    characters at evenly spaced frames (some over two frames, some with a confusable runner-up),
    blank elsewhere with noisy non-blank tails."""
    K = len(alphabet)
    logits = rng.normal(0.0, 1.0, (frames, K))  # (T, K)
    logits[:, 0] += rng.normal(blank_logit, 1.5, frames)
    labels = alphabet.encode(text)
    at = np.linspace(0, frames - 1, len(labels) + 2)[1:-1].astype(int)
    for t, k in zip(at.tolist(), labels.tolist(), strict=True):
        logits[t, k] = logits[t, 0] + 4.0
        if rng.random() < 0.3 and t + 1 < frames:
            logits[t + 1, k] = logits[t + 1, 0] + 3.0
        if rng.random() < confusion:
            other = rng.integers(1, K)
            if other != k:
                logits[t, other] = logits[t, 0] + rng.uniform(1.0, 3.5)
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def bench_beam(frames: int = 250, beam_width: int = 8, repeats: int = 20,
               lm: CharNgramLM | None = None, lexicon: Lexicon | None = None,
               alphabet: Alphabet | None = None, seed: int = 0) -> dict[str, float]:
    """Median milliseconds per line on synthetic peaky posteriors: greedy, beam search, and
    with `lm` / `lm` + `lexicon` when given (`*_cold_ms`: first call, empty LM caches)."""
    alphabet = alphabet or (lm.alphabet if lm is not None else Alphabet())
    rng = np.random.default_rng(seed)
    text = "The quick brown fox jumps over the lazy dog, said Mr. Foot."
    lp = synthetic_log_probs(text, alphabet, frames, rng)

    def ms(fn) -> tuple[float, float]:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return times[0], float(np.median(times))

    out = {"frames": float(frames), "beam_width": float(beam_width),
           "skipped_frames": float((lp[:, 0] > math.log(0.999)).sum())}
    out["greedy_ms"] = ms(lambda: greedy_hypothesis(lp, alphabet))[1]
    out["beam_ms"] = ms(lambda: beam_search(lp, alphabet, beam_width))[1]
    if lm is not None:
        out["beam_lm_cold_ms"], out["beam_lm_ms"] = ms(
            lambda: beam_search(lp, alphabet, beam_width, lm=lm))
        if lexicon is not None:
            out["beam_lm_lexicon_cold_ms"], out["beam_lm_lexicon_ms"] = ms(
                lambda: beam_search(lp, alphabet, beam_width, lm=lm, lexicon=lexicon))
    return out
