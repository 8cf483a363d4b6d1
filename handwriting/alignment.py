"""Forced alignment of a known text to ink (CTC Viterbi, Graves et al. 2006 §4.1 / 2009):
which frames, and so which ink points, write each character. Used to cut a priming style at
a word boundary the pen really made (`word_start_strokes`), where gaps in the pen alone
mislead: cursive writers leave wider gaps inside words than between them. `ctc_logprob`
scores a text on frames over every alignment (the word fix after the beam search,
`handwriting.wordfix`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NEG_INF = -np.inf


def _ctc_states(targets: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """CTC's states for `targets` (U >= 1): the labels blank, c1, blank, c2, ..., cU, blank,
    and where a path may skip from s - 2 to s (onto a character that differs from the one two
    back, over the blank between them)."""
    labels = np.zeros(2 * len(targets) + 1, np.int64)
    labels[1::2] = targets
    skip = np.zeros(len(labels), bool)
    skip[3::2] = labels[3::2] != labels[1:-2:2]
    return labels, skip


def ctc_align(log_probs: np.ndarray, targets: Sequence[int]) -> np.ndarray | None:
    """The most likely CTC alignment of `targets` (label indices, 0 = blank never among them)
    to log-posteriors (T, K): for each target character the frame that first emits it, as an
    (U,) int array, or None when T frames cannot hold the text (too short for its repeats)."""
    lp = np.asarray(log_probs, np.float64)
    t_len, u = len(lp), len(targets)
    if u == 0:
        return np.zeros(0, np.int64)
    labels, skip = _ctc_states(targets)
    s_len = len(labels)
    score = np.full(s_len, NEG_INF)
    score[0] = lp[0, 0]
    score[1] = lp[0, labels[1]]
    back = np.zeros((t_len, s_len), np.int8)  # 0: stay, 1: from s-1, 2: from s-2
    for t in range(1, t_len):
        stay = score
        step = np.concatenate(([NEG_INF], score[:-1]))
        jump = np.where(skip, np.concatenate(([NEG_INF, NEG_INF], score[:-2])), NEG_INF)
        cand = np.stack([stay, step, jump])
        back[t] = cand.argmax(0)
        score = cand.max(0) + lp[t, labels]
    end = s_len - 1 if score[-1] >= score[-2] else s_len - 2
    if not np.isfinite(score[end]):
        return None
    first = np.full(u, -1, np.int64)
    s = end
    for t in range(t_len - 1, -1, -1):
        if s % 2 == 1:
            first[s // 2] = t  # walking back: the last write is the first emission
        s -= int(back[t, s])
    return first


def ctc_logprob(log_probs: np.ndarray, targets: np.ndarray) -> float:
    """ln p(targets | frames) summed over every CTC alignment (Graves et al. 2006, the forward
    variables), blanks allowed at both ends; -inf when the frames cannot hold the targets."""
    lp = np.asarray(log_probs, np.float64)
    u = len(targets)
    if u == 0:
        return float(lp[:, 0].sum())
    if len(lp) == 0:
        return NEG_INF
    labels, skip = _ctc_states(targets)
    alpha = np.full(len(labels), NEG_INF)
    alpha[0], alpha[1] = lp[0, 0], lp[0, labels[1]]
    pad1, pad2 = np.full(1, NEG_INF), np.full(2, NEG_INF)
    for t in range(1, len(lp)):
        step = np.concatenate((pad1, alpha[:-1]))
        jump = np.where(skip, np.concatenate((pad2, alpha[:-2])), NEG_INF)
        alpha = np.logaddexp(np.logaddexp(alpha, step), jump) + lp[t, labels]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


def word_start_strokes(char_frames: np.ndarray, text: str,
                       frame_points: Sequence[np.ndarray], stroke_starts: np.ndarray,
                       stroke_left: np.ndarray, ink_right: np.ndarray) -> dict[int, int]:
    """Where each word after the first begins in the ink: {index of the word's first
    character in `text`: index of the stroke that starts it}, for the words whose start the
    alignment pins to a stroke boundary.

    The boundary lies between the previous word's last emission and this word's first one
    (`char_frames`, from `ctc_align`); among the strokes starting there, the one that jumps
    furthest right of the ink before it (`stroke_left[s] - ink_right[s - 1]`) is the gap.
    `stroke_starts` (S,) is the first point index of each stroke, `frame_points` the ink points
    of each frame (`features.frame_points_of`)."""
    out: dict[int, int] = {}
    for i, ch in enumerate(text):
        if ch != " " or i == 0 or i + 1 >= len(text) or text[i + 1] == " ":
            continue
        a, b = int(char_frames[i - 1]), int(char_frames[i + 1])
        lo = int(frame_points[a].min()) if len(frame_points[a]) else -1
        hi = int(frame_points[b].max()) if len(frame_points[b]) else len(frame_points)
        inside = np.flatnonzero((stroke_starts > lo) & (stroke_starts <= hi))
        if not len(inside):
            continue
        jumps = stroke_left[inside] - ink_right[inside - 1]
        best = int(inside[int(np.argmax(jumps))])
        if jumps.max() > 0:  # a word starts right of everything before it
            out[i + 1] = best
    return out


def ink_word_starts(recognizer, ink, text: str) -> dict[int, int]:
    """`word_start_strokes` for `ink` written with `text`, aligned by `recognizer` (a
    `service.Recognizer`); {} when the text does not fit the ink (characters the recognizer
    does not know, or too few frames)."""
    from handwriting.features import encode

    if ink.is_empty or any(c not in recognizer.alphabet.chars for c in text):
        return {}
    ids = recognizer.alphabet.encode(text)
    enc = encode(ink, recognizer.feature_config, recognizer.standardizer)
    log_probs = recognizer.log_posteriors([ink])[0]
    frames = ctc_align(log_probs, ids)
    if frames is None:
        return {}
    sizes = np.array([len(s.xy) for s in ink.strokes])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    left = np.array([float(s.xy[:, 0].min()) for s in ink.strokes])
    right = np.maximum.accumulate(np.array([float(s.xy[:, 0].max()) for s in ink.strokes]))
    return word_start_strokes(frames, text, enc.frame_points(recognizer.config.stride,
                                                             len(log_probs)),
                              starts, left, right)
