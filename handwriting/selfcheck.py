"""Self-checking synthesis (issue 14): sample K candidates of every line in one batch, read
each back with a recognizer, keep the one whose reading is closest to the intended text (ties:
the one whose ink gives the intended text the higher probability under the reader, then the
higher likelihood under the synthesizer), and replay the kept candidates' own frames, so a
view still draws the pen moving with each line's sampled timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from rapidfuzz.distance import Levenshtein

from handwriting.ink import Ink, offsets_to_line_ink
from handwriting.results import SynthesisFrame

DEFAULT_CANDIDATES = 3  # the CLI's and the app's default: measured, see models/synthesizer.md
MAX_CANDIDATES = 16  # a batch of lines x candidates; beyond this the cost outgrows the gain
GROUP_ROWS = 32  # lines x candidates sampled at once: bounds the frames kept for choosing


class Reading(NamedTuple):
    """What a scoring reader gives for one candidate: the text it reads, and ln p(intended
    text | ink) summed over all CTC alignments (the intended text is the ink's
    `meta["text"]`)."""

    text: str
    text_logprob: float


# inks -> what a recognizer reads in each: plain strings, or `Reading`s from a reader that
# also scores the text each ink was meant to write
Reader = Callable[[list[Ink]], list[str] | list[Reading]]


def candidate_rows(n_lines: int, candidates: int) -> np.ndarray:
    """(n_lines, candidates) batch rows: line i's candidates are rows i*K .. i*K + K - 1."""
    return np.arange(n_lines * candidates).reshape(n_lines, candidates)


def point_log_likelihood(frame: SynthesisFrame) -> np.ndarray:
    """log p(sampled offset) (B,) under the frame's own mixture (Graves 2013, eq. 23-26): the
    bivariate normal mixture of (dx, dy) times the Bernoulli end of stroke."""
    d = frame.offsets[:, None, :2] - frame.mu  # (B, M, 2)
    z1, z2 = d[..., 0] / frame.sigma[..., 0], d[..., 1] / frame.sigma[..., 1]
    rho = frame.rho
    one_minus = np.maximum(1.0 - rho * rho, 1e-6)
    z = z1 * z1 + z2 * z2 - 2.0 * rho * z1 * z2  # eq. 25
    log_n = (-z / (2.0 * one_minus) - np.log(2.0 * np.pi * frame.sigma[..., 0]
                                            * frame.sigma[..., 1] * np.sqrt(one_minus)))
    a = frame.log_pi + log_n  # (B, M)
    top = a.max(1)
    log_mix = top + np.log(np.exp(a - top[:, None]).sum(1))
    eos = np.clip(frame.eos, 1e-6, 1 - 1e-6)
    return log_mix + np.where(frame.offsets[:, 2] > 0.5, np.log(eos), np.log1p(-eos))


def batch_log_likelihood(frames: Sequence[SynthesisFrame]) -> np.ndarray:
    """Each row's log-likelihood (B,): `point_log_likelihood` summed over the frames where the
    row is active, computed for all frames at once (one set of array operations, not one per
    step). An ended row's mixture may be all zeros; its terms are left out."""
    none = np.zeros(0, np.float32)  # the window is not part of the likelihood
    stacked = SynthesisFrame(
        step=0, text_offset=0, phi=none, kappa=none,
        **{name: np.concatenate([getattr(f, name) for f in frames])
           for name in ("offsets", "active", "eos", "log_pi", "mu", "sigma", "rho")})
    with np.errstate(all="ignore"):
        per_point = point_log_likelihood(stacked).reshape(len(frames), -1)
    return np.where(stacked.active.reshape(per_point.shape), per_point, 0.0).sum(0)


def choose(texts: Sequence[str], readings: Sequence[Sequence[str]],
           log_likelihoods: np.ndarray, text_logprobs: np.ndarray | None = None) -> np.ndarray:
    """For each line, the index of the candidate whose reading has the fewest character errors
    against its text; ties go to the higher ln p(text | ink) under the reader
    (`text_logprobs`, when the reader gives it), then to the higher log-likelihood under the
    synthesizer. readings[i][k] is what was read in candidate k of line i; log_likelihoods
    and text_logprobs (n_lines, K).

    Why the reader's probability of the text before the synthesizer's likelihood: among
    candidates read with the same number of errors (most often none), the one whose ink the
    reader finds most like the intended text is the one least likely to be misread; the
    synthesizer's likelihood favours its most ordinary strokes instead (measured in
    models/synthesizer.md)."""
    out = np.zeros(len(texts), np.int64)
    for i, text in enumerate(texts):
        errors = np.array([Levenshtein.distance(text, r) for r in readings[i]], np.float64)
        ll = -np.asarray(log_likelihoods[i], np.float64)
        scored = (np.zeros_like(ll) if text_logprobs is None
                  else -np.asarray(text_logprobs[i], np.float64))
        # lexicographic (np.lexsort sorts by its last key first): errors, then -ln p(text |
        # ink), then -log-likelihood
        out[i] = int(np.lexsort((ll, scored, errors))[0])
    return out


def kept_frame(f: SynthesisFrame, rows: np.ndarray) -> SynthesisFrame:
    """Frame `f` for batch `rows` only."""
    return SynthesisFrame(
        step=f.step, offsets=f.offsets[rows], active=f.active[rows], phi=f.phi[rows],
        kappa=f.kappa[rows], eos=f.eos[rows], log_pi=f.log_pi[rows], mu=f.mu[rows],
        sigma=f.sigma[rows], rho=f.rho[rows], text_offset=f.text_offset)


def kept_frames(frames: Sequence[SynthesisFrame], rows: np.ndarray) -> Iterator[SynthesisFrame]:
    """The frames of batch `rows` only (one per line), renumbered, up to the last step any of
    them is still being written."""
    step = 0
    for f in frames:
        if not f.active[rows].any():
            continue
        out = kept_frame(f, rows)
        out.step = step
        yield out
        step += 1


RETRY_CER = 0.09  # a line whose best candidate reads worse than this is retried, once
# A line with a digit is retried unless one candidate reads exactly: digits are what the
# synthesizer writes worst ("24" -> "2L") and one wrong digit is a wrong number, yet it is a
# few per cent of a line's characters, under RETRY_CER (measured in models/synthesizer.md).
RETRY_CER_DIGITS = 0.0
RETRY_SEED = 10_000  # the retry samples with seed + RETRY_SEED + group: other draws
# The retry also writes neater: its bias is this much higher (Graves 2013, §5.4: a higher bias
# draws from the likelier, tidier part of the distribution, in the same primed style). Chosen
# on the digits list, whose lines are the ones most often retried (models/synthesizer.md).
RETRY_NEATER = 3.0
# A line whose best candidate, retried, still reads worse than this (a prime that leads the
# model astray: d08-579z's "final revelation", 22.5 % CER with the retry, worse the higher
# the bias) is written once more without the prime, in the style's slant and letter width
# (`self_checked`'s `fallback`; in any style, a writer's or a preset: unprimed text has
# nothing to fall back from).
FALLBACK_CER = 0.09
# The retry draws this many times `candidates` more for each line it writes again: the lines
# retried are the few the hand finds hardest, so more draws there cost little time in all.
RETRY_MORE = 6


def retry_cer(text: str) -> float:
    """The read-back CER above which a line's best candidate is written again (`self_checked`):
    `RETRY_CER_DIGITS` for a line with a digit, else `RETRY_CER`."""
    return RETRY_CER_DIGITS if any(c.isdigit() for c in text) else RETRY_CER


def _as_reading(read) -> Reading:
    """A plain reader's string as a `Reading` without a score (every candidate ties there)."""
    return read if isinstance(read, Reading) else Reading(read, 0.0)


def _read_batch(frames: Iterator[SynthesisFrame], lines: Sequence[str], candidates: int,
                read: Reader, should_stop=None):
    """Sample a whole batch (`lines` x `candidates` rows), read every candidate: (frames,
    readings [line][candidate], errors (n, K), log-likelihoods (n, K), the reader's ln p(text |
    ink) (n, K); -inf for a candidate too short to read, 0 from a plain reader), or None if it
    was cancelled or empty.

    A candidate is read as soon as it is finished, in a second thread, while the others are
    still being sampled (the reader's compiled LSTM and the sampler's products release the
    GIL): on two cores the read-back then costs little more than the last lines' reading."""
    n = len(lines)
    grid = candidate_rows(n, candidates)
    kept: list[SynthesisFrame] = []
    points: list[list[np.ndarray]] = [[] for _ in range(n * candidates)]
    readings: dict[int, Future] = {}
    pool = ThreadPoolExecutor(1, thread_name_prefix="selfcheck-read")

    def submit(row: int) -> None:
        if len(points[row]) > 1:  # a single point is no line to read
            ink = offsets_to_line_ink(np.stack(points[row]), lines[row // candidates])
            readings[row] = pool.submit(lambda ink=ink: _as_reading(read([ink])[0]))

    try:
        was = None
        for f in frames:
            kept.append(f)
            live = np.flatnonzero(f.active)
            for r in live:
                points[r].append(f.offsets[r])
            if was is not None:
                for r in np.flatnonzero(was & ~f.active):
                    submit(int(r))
            was = f.active
        if not kept or (should_stop is not None and should_stop()):
            return None
        for r in np.flatnonzero(was):
            submit(int(r))
        ll = batch_log_likelihood(kept)  # while the last candidates are being read
        read_out = {r: fut.result() for r, fut in readings.items()}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    unread = Reading("", -np.inf)
    got = [[read_out.get(int(r), unread) for r in grid[i]] for i in range(n)]
    texts = [[g.text for g in row] for row in got]
    scores = np.array([[g.text_logprob for g in row] for row in got], np.float64)
    errors = np.array([[Levenshtein.distance(lines[i], r) for r in texts[i]]
                       for i in range(n)], np.float64)
    return kept, texts, errors, ll[grid], scores


def self_checked(frames: Iterator[SynthesisFrame], lines: Sequence[str], candidates: int,
                 read: Reader, report: list | None = None, should_stop=None,
                 resample: Callable[[list[str]], Iterator[SynthesisFrame]] | None = None,
                 fallback: Callable[[list[str]], Iterator[SynthesisFrame]] | None = None
                 ) -> Iterator[SynthesisFrame]:
    """From the frames of `lines` each repeated `candidates` times (see `candidate_rows`), the
    frames of the best-reading candidate of each line. The whole batch is sampled before the
    first frame comes out; cancelled (`should_stop()`), nothing does.

    With `resample` (lines -> frames of a new batch, other draws), a line whose best candidate
    still reads with a character error rate above `retry_cer` (`RETRY_CER`; for a line with a
    digit, any error) gets `candidates` x `RETRY_MORE` more, once, and the best of all is
    kept: the rare line where every candidate collapsed is written again instead of shown as
    scribble. With `fallback` (the same, written another way: without the prime), a line
    whose best of all still reads above `FALLBACK_CER` gets as many again from it, once.
    `report`, when given, receives one dict per line: the readings, character errors,
    log-likelihoods, the reader's ln p(text | ink) (None for a candidate too short to read, 0
    from a reader that scores nothing), the kept index (into the first batch's candidates,
    then the retry's, then the fallback's), whether the line was retried and whether it fell
    back."""
    batch = _read_batch(frames, lines, candidates, read, should_stop)
    if batch is None:
        return
    kept, readings, errors, ll, scores = batch
    n = len(lines)
    best = choose(lines, readings, ll, scores)
    grid = candidate_rows(n, candidates)
    picks = [(0, int(grid[i, best[i]])) for i in range(n)]
    # per line, all its candidates so far (lists: a retry or fallback appends its own)
    readings, errors = [list(r) for r in readings], [list(e) for e in errors]
    ll, scores = [list(v) for v in ll], [list(v) for v in scores]
    batches, done = [kept], [set(), set()]  # the batches sampled; lines retried, fallen back
    lengths = np.array([max(len(t), 1) for t in lines], np.float64)
    limits = (np.array([retry_cer(t) for t in lines]), np.full(n, FALLBACK_CER))
    more = candidates * RETRY_MORE
    for stage, (again_of, limit) in enumerate(zip((resample, fallback), limits, strict=True)):
        cer = np.array([errors[i][best[i]] for i in range(n)]) / lengths  # each line's best
        bad = np.flatnonzero(cer > limit)
        if again_of is None or not len(bad):
            continue
        again = _read_batch(again_of([lines[i] for i in bad for _ in range(more)]),
                            [lines[i] for i in bad], more, read, should_stop)
        if again is None:
            return
        batches.append(again[0])
        grid2 = candidate_rows(len(bad), more)
        for j, i in enumerate(bad):  # the best of all the line's candidates so far
            before = len(readings[i])
            readings[i] += list(again[1][j])
            errors[i] += list(again[2][j])
            ll[i] += list(again[3][j])
            scores[i] += list(again[4][j])
            best[i] = choose([lines[i]], [readings[i]], np.array([ll[i]]),
                             np.array([scores[i]]))[0]
            if best[i] >= before:
                picks[i] = (len(batches) - 1, int(grid2[j, best[i] - before]))
        done[stage] = set(bad.tolist())
    _report(report, lines, readings, errors, ll, scores, best, *done)
    if len(batches) == 1:
        yield from kept_frames(kept, grid[np.arange(n), best])
    else:
        yield from merged_frames(batches, picks)


def _report(report, lines, readings, errors, ll, scores, best, retried: set,
            fell_back: set) -> None:
    if report is None:
        return
    for i in range(len(lines)):
        report.append({"text": lines[i], "readings": list(readings[i]),
                       "errors": [int(e) for e in errors[i]],
                       "log_likelihood": [round(float(v), 2) for v in ll[i]],
                       "text_logprob": [round(float(v), 2) if np.isfinite(v) else None
                                        for v in scores[i]],
                       "kept": int(best[i]), "retried": i in retried,
                       "fell_back": i in fell_back})


def merged_frames(batches: Sequence[Sequence[SynthesisFrame]],
                  picks: Sequence[tuple[int, int]]) -> Iterator[SynthesisFrame]:
    """Frames of lines taken from several batches: line i is row picks[i][1] of batch
    picks[i][0]; a line is inactive (zeros) past its batch's end. Numbered from 0, up to the
    last step any line is still being written. A batch sampled with a shorter prefix (the
    fallback, unprimed) has its window (phi, kappa) moved to the first batch's text offset."""
    n = len(picks)
    top = batches[0][0].text_offset
    shift = [top - b[0].text_offset for b in batches]
    width = max(d + b[0].phi.shape[1] for d, b in zip(shift, batches, strict=True))
    last = max(len(batches[b]) for b, _ in picks)
    out_step = 0
    for step in range(last):
        rows = [batches[b][step] if step < len(batches[b]) else None for b, _ in picks]
        live = [(i, f, r) for i, (f, (_, r)) in enumerate(zip(rows, picks, strict=True))
                if f is not None]
        if not any(f.active[r] for _, f, r in live):
            continue
        ref = live[0][1]

        def gather(name: str, live=live, ref=ref) -> np.ndarray:
            a = getattr(ref, name)
            out = np.zeros((n, *a.shape[1:]), a.dtype)
            for i, f, r in live:
                out[i] = getattr(f, name)[r]
            return out

        phi, kappa = np.zeros((n, width), ref.phi.dtype), gather("kappa")
        for i, f, r in live:
            d = shift[picks[i][0]]
            phi[i, d:d + f.phi.shape[1]] = f.phi[r]
            kappa[i] += d
        yield SynthesisFrame(step=out_step, offsets=gather("offsets"), active=gather("active"),
                             phi=phi, kappa=kappa, eos=gather("eos"),
                             log_pi=gather("log_pi"), mu=gather("mu"), sigma=gather("sigma"),
                             rho=gather("rho"), text_offset=top)
        out_step += 1


def _padded(f: SynthesisFrame, rows: np.ndarray, n: int, width: int) -> SynthesisFrame:
    """`f` of a group of lines as a frame of all `n` lines (the others inactive, zeros)."""

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.zeros((n, *a.shape[1:]), a.dtype)
        out[rows] = a
        return out

    phi = np.zeros((n, width), f.phi.dtype)
    phi[rows, :f.phi.shape[1]] = f.phi
    return SynthesisFrame(step=f.step, offsets=pad(f.offsets), active=pad(f.active), phi=phi,
                          kappa=pad(f.kappa), eos=pad(f.eos), log_pi=pad(f.log_pi),
                          mu=pad(f.mu), sigma=pad(f.sigma), rho=pad(f.rho),
                          text_offset=f.text_offset)


def self_checked_groups(sample: Callable[..., Iterator[SynthesisFrame]],
                        lines: Sequence[str], candidates: int, read: Reader,
                        rows: int | None = None, should_stop=None, resample: bool = True,
                        fallback: Callable[..., Iterator[SynthesisFrame]] | None = None
                        ) -> Iterator[SynthesisFrame]:
    """`self_checked` a group of lines at a time, at most `rows` lines x candidates per batch,
    so that a long text keeps a bounded number of frames in memory; each group's frames come
    out as frames of all lines (see `_padded`), group after group. `sample(group, g)` samples
    the lines of group g, each repeated `candidates` times; `resample` retries lines whose
    candidates all read badly (see `self_checked`) with `sample(lines, RETRY_SEED + g,
    RETRY_NEATER)`: other draws, the bias raised by the third argument; `fallback`, called
    the same way, writes those still bad after it (`self_checked`)."""
    per = max(1, (rows or GROUP_ROWS) // candidates)
    longest = max(len(t) for t in lines)
    step = 0
    for g, first in enumerate(range(0, len(lines), per)):
        group = list(lines[first:first + per])
        reps = [t for t in group for _ in range(candidates)]
        idx = np.arange(first, first + len(group))
        retry = ((lambda lines, g=g: sample(lines, RETRY_SEED + g, RETRY_NEATER)) if resample
                 else None)
        last = ((lambda lines, g=g: fallback(lines, 2 * RETRY_SEED + g, RETRY_NEATER))
                if resample and fallback is not None else None)
        for f in self_checked(sample(reps, g), group, candidates, read,
                              should_stop=should_stop, resample=retry, fallback=last):
            f = _padded(f, idx, len(lines), f.text_offset + longest + 1)
            f.step = step
            step += 1
            yield f
