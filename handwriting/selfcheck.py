"""Self-checking synthesis (issue 14): sample K candidates of every line in one batch, read
each back with a recognizer, keep the one whose reading is closest to the intended text (ties:
the higher likelihood under the synthesizer), and replay the kept candidates' own frames, so
a view still draws the pen moving with each line's sampled timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from handwriting.ink import Ink, offsets_to_line_ink
from handwriting.results import SynthesisFrame

DEFAULT_CANDIDATES = 3  # the CLI's and the app's default: measured, see models/synthesizer.md
MAX_CANDIDATES = 16  # a batch of lines x candidates; beyond this the cost outgrows the gain
GROUP_ROWS = 32  # lines x candidates sampled at once: bounds the frames kept for choosing

Reader = Callable[[list[Ink]], list[str]]  # inks -> what a recognizer reads in each


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


def choose(texts: Sequence[str], readings: Sequence[Sequence[str]],
           log_likelihoods: np.ndarray) -> np.ndarray:
    """For each line, the index of the candidate whose reading has the fewest character errors
    against its text; ties go to the higher log-likelihood. readings[i][k] is what was read in
    candidate k of line i; log_likelihoods (n_lines, K)."""
    out = np.zeros(len(texts), np.int64)
    for i, text in enumerate(texts):
        errors = np.array([Levenshtein.distance(text, r) for r in readings[i]], np.float64)
        # lexicographic: errors first, then -log-likelihood
        out[i] = int(np.lexsort((-np.asarray(log_likelihoods[i], np.float64), errors))[0])
    return out


def kept_frames(frames: Sequence[SynthesisFrame], rows: np.ndarray) -> Iterator[SynthesisFrame]:
    """The frames of batch `rows` only (one per line), renumbered, up to the last step any of
    them is still being written."""
    step = 0
    for f in frames:
        active = f.active[rows]
        if not active.any():
            continue
        yield SynthesisFrame(
            step=step, offsets=f.offsets[rows], active=active, phi=f.phi[rows],
            kappa=f.kappa[rows], eos=f.eos[rows], log_pi=f.log_pi[rows], mu=f.mu[rows],
            sigma=f.sigma[rows], rho=f.rho[rows], text_offset=f.text_offset)
        step += 1


def self_checked(frames: Iterator[SynthesisFrame], lines: Sequence[str], candidates: int,
                 read: Reader, report: list | None = None, should_stop=None
                 ) -> Iterator[SynthesisFrame]:
    """From the frames of `lines` each repeated `candidates` times (see `candidate_rows`), the
    frames of the best-reading candidate of each line. The whole batch is sampled before the
    first frame comes out; cancelled (`should_stop()`), nothing does. `report`, when given,
    receives one dict per line: the readings, character errors, log-likelihoods and the
    kept index."""
    from handwriting.synthesis import collect_lines

    n = len(lines)
    grid = candidate_rows(n, candidates)
    kept: list[SynthesisFrame] = []
    ll = np.zeros(n * candidates)
    for f in frames:
        kept.append(f)
        ll += np.where(f.active, point_log_likelihood(f), 0.0)
    if not kept or (should_stop is not None and should_stop()):
        return
    offsets = collect_lines(iter(kept), n * candidates)
    inks = [offsets_to_line_ink(o, lines[r // candidates]) for r, o in enumerate(offsets)]
    readable = [r for r, o in enumerate(offsets) if len(o) > 1]
    read_out = dict(zip(readable, read([inks[r] for r in readable]), strict=True))
    readings = [[read_out.get(int(r), "") for r in grid[i]] for i in range(n)]
    best = choose(lines, readings, ll[grid])
    if report is not None:
        for i in range(n):
            report.append({"text": lines[i], "readings": readings[i],
                           "errors": [Levenshtein.distance(lines[i], r) for r in readings[i]],
                           "log_likelihood": [round(float(v), 2) for v in ll[grid[i]]],
                           "kept": int(best[i])})
    yield from kept_frames(kept, grid[np.arange(n), best])


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


def self_checked_groups(sample: Callable[[list[str], int], Iterator[SynthesisFrame]],
                        lines: Sequence[str], candidates: int, read: Reader,
                        rows: int | None = None, should_stop=None
                        ) -> Iterator[SynthesisFrame]:
    """`self_checked` a group of lines at a time, at most `rows` lines x candidates per batch,
    so that a long text keeps a bounded number of frames in memory; each group's frames come
    out as frames of all lines (see `_padded`), group after group. `sample(group, g)` samples
    the lines of group g, each repeated `candidates` times."""
    per = max(1, (rows or GROUP_ROWS) // candidates)
    longest = max(len(t) for t in lines)
    step = 0
    for g, first in enumerate(range(0, len(lines), per)):
        group = list(lines[first:first + per])
        reps = [t for t in group for _ in range(candidates)]
        idx = np.arange(first, first + len(group))
        for f in self_checked(sample(reps, g), group, candidates, read,
                              should_stop=should_stop):
            f = _padded(f, idx, len(lines), f.text_offset + longest + 1)
            f.step = step
            step += 1
            yield f
