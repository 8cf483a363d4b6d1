"""Sampling handwriting from the Graves (2013) network: bias (§5.4), priming with a style
(§5.5), end of text from the attention window, several lines sampled as one batch, and a
streaming generator so a canvas can draw points as they are sampled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.likeness import map_points
from handwriting.models.numpy_sampler import FastWeights, fast_weights, random_draws
from handwriting.priming import trim_style
from handwriting.results import Style, SynthesisChunk, SynthesisFrame

if TYPE_CHECKING:  # torch is imported only by the "torch" engine
    from handwriting.models.synthesizer import SynthesizerNet


STEPS_PER_CHAR_LIMIT = 40  # bounded sampling: at most this many points per character
END_TAIL_STEPS = 20  # points a line may take to finish its last stroke after the text ends
# Steps an engine samples per call (`_stream`): the compiled engine runs them in one call, with
# no Python between steps; the first call samples one, so the first point shows at once, and
# `should_stop` is asked between calls (16 steps: ~2.5 ms at batch 1).
CHUNK_STEPS = 16


def _encode_batch(texts: list[str], alphabet: Alphabet, n_chars: int):
    """One-hot (B, U + 1, C) with an empty end slot after each text, mask (B, U + 1), and the
    text lengths (B,), as float32 / int64 NumPy arrays."""
    idx = [alphabet.encode(t) for t in texts]
    u = max(len(i) for i in idx) + 1
    one_hot = np.zeros((len(texts), u, n_chars), np.float32)
    mask = np.zeros((len(texts), u), np.float32)
    for b, ids in enumerate(idx):
        one_hot[b, np.arange(len(ids)), ids] = 1.0
        mask[b, : len(ids) + 1] = 1.0
    return one_hot, mask, np.array([len(i) for i in idx], np.int64)


ENGINES = ("auto", "jit", "numpy", "torch")
def choose_engine(engine: str, n_lines: int) -> str:  # noqa: ARG001 - the same for any count
    """The engine `engine="auto"` means: the compiled step when Numba is installed (a
    matrix-vector product per line for a few lines, one matrix product for many: see
    `numba_sampler.ROW_KERNEL_MAX_ROWS`), else the NumPy engine."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    if engine != "auto":
        return engine
    from handwriting.models import numba_sampler

    return "jit" if numba_sampler.available() else "numpy"


def sample_stream(net: SynthesizerNet | FastWeights, alphabet: Alphabet, lines: list[str], offset_scale: float,
                  bias: float = 0.75, style: Style | None = None, seed: int | None = None,
                  should_stop=None, engine: str = "auto",
                  hand_map: np.ndarray | None = None) -> Iterator[SynthesisFrame]:
    """Yield one `SynthesisFrame` per step while sampling all `lines` as one batch. A line
    ends when the window passes its last character: phi over the end slot exceeds phi over
    every character (Graves 2013, §5.3). `should_stop()` cancels between chunks of steps
    (`CHUNK_STEPS`). `hand_map` (2, 2) maps the points and mixtures (`likeness.map_points`).

    `engine="numpy"` runs the float32 NumPy step (`models.numpy_sampler`), `"jit"` the same
    step compiled with Numba (`models.numba_sampler`, one call per `CHUNK_STEPS` steps),
    `"torch"` `SynthesizerNet.step`; `"auto"` (default) is `choose_engine`'s pick. All sample
    the same distribution (steps agree to ~1e-6); "jit" and "numpy" make the same draws for
    one seed. `net` is the network, or for the NumPy and Numba engines its `FastWeights`
    (what the model processes hold: they never load torch)."""
    engine = choose_engine(engine, len(lines))
    if engine == "torch" and isinstance(net, FastWeights):
        raise ValueError("the 'torch' engine needs the network, not its FastWeights")
    n_chars = net.n_chars if isinstance(net, FastWeights) else net.cfg.n_chars
    if style is not None:
        style = trim_style(style)
    prefix = (style.text.strip() + " ") if style is not None else ""
    texts = [prefix + ln for ln in lines]
    text, mask, lens = _encode_batch(texts, alphabet, n_chars)
    prime = None
    if style is not None and len(style.offsets):
        prime = style.offsets.astype(np.float32)  # a copy
        prime[:, :2] /= offset_scale
    seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    job = _Job(text, mask, lens, prime, offset_scale, bias, seed, should_stop,
               max_steps=STEPS_PER_CHAR_LIMIT * int(max(len(t) for t in lines)) + 20,
               text_offset=len(prefix), hand_map=hand_map)
    return _stream(_TorchEngine(net, job) if engine == "torch"
                   else _NumpyEngine(net, job, compiled=engine == "jit"), job)


class _LineEnds:
    """When each line of a batch ends. Graves (2013, §5.3) stops when the window has passed
    the last character (phi over the end slot exceeds phi over every character); the pen is
    then often inside the last letter, so a line goes on to its next pen-up, or at most
    `END_TAIL_STEPS` points more."""

    def __init__(self, n_lines: int):
        self.passed_at = np.full(n_lines, -1)

    def update(self, step: int, passed: np.ndarray, pen_up: np.ndarray) -> np.ndarray:
        """passed, pen_up (n, B) bool for the steps step .. step + n - 1 -> (n, B) bool: the
        lines whose last point each step is."""
        first = np.where(passed.any(0), step + passed.argmax(0), -1)
        self.passed_at = np.where(self.passed_at < 0, first, self.passed_at)
        since = step + np.arange(len(passed))[:, None] - self.passed_at
        return (self.passed_at >= 0) & (since >= 0) & (pen_up | (since >= END_TAIL_STEPS))


@dataclass(frozen=True)
class _Job:
    """A validated sampling request, as the engines take it."""

    text: np.ndarray  # (B, U + 1, C) one-hot, empty end slot after each line
    mask: np.ndarray  # (B, U + 1)
    lens: np.ndarray  # (B,) characters per line = index of its end slot
    prime: np.ndarray | None  # (N, 3) style offsets in model units
    offset_scale: float
    bias: float
    seed: int
    should_stop: object
    max_steps: int
    text_offset: int
    hand_map: np.ndarray | None = None  # (2, 2) the writer's slant and width (`likeness`)


class _Step(NamedTuple):
    """What an engine's steps give the loop, NumPy (model units); `steps`: a leading axis."""

    x: np.ndarray  # (B, 3) the sampled offset, also the next step's input
    phi: np.ndarray  # (B, U) window weights over each line's characters and end slot
    kappa: np.ndarray  # (B, K)
    eos: np.ndarray  # (B,)
    log_pi: np.ndarray  # (B, M)
    mu: np.ndarray  # (B, M, 2)
    sigma: np.ndarray  # (B, M, 2)
    rho: np.ndarray  # (B, M)


class _NumpyEngine:
    """The NumPy step (`models.numpy_sampler`), or with `compiled` its Numba-compiled form
    (`models.numba_sampler`): the same layout, arithmetic and random draws. Lines end at
    different steps: once at most `NARROW_AT` of the rows the step computes are live, the
    step is narrowed to them (`NumpySynthesisStep.narrowed`), so a batch costs what its live
    lines need. The random numbers are drawn for the whole batch every step and each row takes
    its own, so a line samples the same offsets whichever other lines are still written."""

    NARROW_AT = 0.75

    def __init__(self, net: SynthesizerNet | FastWeights, job: _Job, compiled: bool):
        from handwriting.models.numba_sampler import JitSynthesisStep
        from handwriting.models.numpy_sampler import NumpySynthesisStep

        weights = net if isinstance(net, FastWeights) else fast_weights(net)
        self.sampler = (JitSynthesisStep if compiled else NumpySynthesisStep)(
            weights, job.text, job.mask, job.bias)
        self.compiled = compiled
        self.rng = np.random.default_rng(job.seed)
        self.B, self.U = job.mask.shape
        self.rows = np.arange(self.B)  # the batch rows the step computes

    def prime(self, x: np.ndarray) -> None:
        """One teacher-forced step on the previous offset x (B, 3), without a mixture."""
        self.sampler.step(x, head=False)

    def phi(self) -> np.ndarray:
        return self.sampler.phi.copy()

    def move_window(self, chars: np.ndarray) -> None:  # each row's by chars (B,), either way
        self.sampler.kappa += chars[self.rows, None]

    def steps(self, x: np.ndarray, active: np.ndarray, n: int) -> _Step:
        """n steps from the offset x (B, 3); the compiled engine samples them in one call."""
        live = np.flatnonzero(active)
        if len(live) <= self.NARROW_AT * len(self.rows):
            self.sampler = self.sampler.narrowed(np.searchsorted(self.rows, live))
            self.rows = live
        s, rows = self.sampler, self.rows
        draws = [random_draws(self.rng, self.B) for _ in range(n)]  # per step, in this order
        uniform, normal = (np.stack(d)[:, rows] for d in zip(*draws, strict=True))
        if self.compiled:
            return _Step(*(self._full(a) for a in s.sample_steps(uniform, normal, x[rows])))
        x, got = x[rows], []
        for t in range(n):
            s.step(x)
            mix = s.mixture()
            x = s.sample(mix, None, (uniform[t], normal[t]))
            # x and the mixture are fresh arrays; phi and kappa are the step's own buffers
            got.append((x, s.phi.copy(), s.kappa.copy(), mix.eos, mix.log_pi, mix.mu,
                        mix.sigma, mix.rho))
        return _Step(*(self._full(np.stack(a)) for a in zip(*got, strict=True)))

    def _full(self, a: np.ndarray) -> np.ndarray:
        """Rows of the narrowed steps (n, rows, ...) as arrays of the whole batch (zeros for
        ended lines)."""
        if len(self.rows) == self.B:
            return a
        out = np.zeros((len(a), self.B, *a.shape[2:]), a.dtype)
        out[:, self.rows] = a
        return out


class _TorchEngine:
    """`SynthesizerNet.step` in torch: the reference engine (its own random draws)."""

    def __init__(self, net: SynthesizerNet, job: _Job):
        import torch

        self.torch, self.net, self.bias = torch, net, job.bias
        self.gen = torch.Generator().manual_seed(job.seed)
        self.text, self.mask = torch.from_numpy(job.text), torch.from_numpy(job.mask)
        self.state = net.initial_state(*job.mask.shape)  # SynthState

    def prime(self, x: np.ndarray) -> None:
        with self.torch.no_grad():
            _, self.state = self.net.step(self.torch.from_numpy(np.array(x)), self.state,
                                          self.text, self.mask, self.bias)

    def phi(self) -> np.ndarray:  # the window weights of the last step (B, U), a copy
        return self.state.window.phi.numpy().copy()

    def move_window(self, chars: np.ndarray) -> None:
        self.state.window.kappa = self.state.window.kappa + self.torch.from_numpy(chars)[:, None]

    def steps(self, x: np.ndarray, active: np.ndarray, n: int) -> _Step:  # noqa: ARG002
        got = []  # all rows, a step at a time
        for _ in range(n):
            got.append(self._step(x))
            x = got[-1].x
        return _Step(*map(np.stack, zip(*got, strict=True)))

    def _step(self, x: np.ndarray) -> _Step:
        from handwriting.models.mdn import sample_mixture

        torch = self.torch
        with torch.no_grad():
            p, self.state = self.net.step(torch.from_numpy(np.array(x)), self.state, self.text,
                                          self.mask, self.bias)
            x = sample_mixture(p, self.gen)
        w = self.state.window
        return _Step(x.numpy(), w.phi.numpy().copy(), w.kappa.numpy().copy(), p.eos.numpy(),
                     p.log_pi.numpy(), torch.stack([p.mu1, p.mu2], -1).numpy(),
                     torch.stack([p.log_sigma1, p.log_sigma2], -1).exp().numpy(), p.rho.numpy())


def window_shift(phi: np.ndarray, at: int) -> np.ndarray:
    """(B, U) window weights -> (B,) whole characters to move each row's window by to put its
    peak on `at`, where its centre (phi-weighted position) lies over a character away; else 0."""
    phi = np.asarray(phi, np.float64)
    mass = phi.sum(1)
    d = at - (phi * np.arange(phi.shape[1])).sum(1) / np.where(mass > 0, mass, 1.0)
    return np.where((mass > 0) & (np.abs(d) > 1.0), at - phi.argmax(1), 0).astype(np.float32)


def _stream(engine, job: _Job) -> Iterator[SynthesisFrame]:
    """The one sampling loop over any engine's `prime` and `steps`: teacher-forced priming
    (Graves §5.5), then `CHUNK_STEPS` steps at a time until every line is past its end.

    After priming, a window over a character from the space after the prime is moved onto it
    (`window_shift`): a sparse prime (b05-465z: 6.3 points a character, training ink ~11) left
    it 1.3-3.4 short ("ful the quick" after "an awful"); 2-5 past, letters were lost ("uick").
    Within a character, as after the presets, moving it cost first letters."""
    B, U = job.mask.shape
    x = np.zeros((B, 3), np.float32)
    if job.prime is not None:
        for t in range(len(job.prime)):
            engine.prime(x)
            x = np.broadcast_to(job.prime[t], (B, 3))
        engine.move_window(window_shift(engine.phi(), job.text_offset - 1))
    rows, lens = np.arange(B), job.lens
    before = np.arange(U)[None] < lens[:, None]  # (B, U): each line's own characters
    scale = np.array([job.offset_scale, job.offset_scale, 1.0], np.float32)
    active, ends = np.ones(B, bool), _LineEnds(B)
    step, n = 0, 1
    while step < job.max_steps:
        if job.should_stop is not None and job.should_stop():
            return
        n = min(n, job.max_steps - step)
        s = engine.steps(x, active, n)
        finished = ends.update(step, s.phi[:, rows, lens] > np.where(before, s.phi, -1.0).max(2),
                               s.x[:, :, 2] > 0.5)
        alive = active & ~np.logical_or.accumulate(finished)  # (n, B): still active after each
        over = ~alive.any(1)
        last = int(over.argmax()) if over.any() else n - 1
        offsets, mu, sigma = s.x * scale, s.mu * job.offset_scale, s.sigma * job.offset_scale
        rho = s.rho
        if job.hand_map is not None:  # a chunk of steps at once: a step's Python costs ~0.1 ms
            offsets, mu, sigma, rho = map_points(job.hand_map, offsets, mu, sigma, rho)
        for t in range(last + 1):
            yield SynthesisFrame(
                step=step + t, offsets=offsets[t], active=active if t == 0 else alive[t - 1],
                phi=s.phi[t], kappa=s.kappa[t], eos=s.eos[t], log_pi=s.log_pi[t], mu=mu[t],
                sigma=sigma[t], rho=rho[t], text_offset=job.text_offset)
        if over[last]:
            return
        active, x, step, n = alive[-1], s.x[-1], step + n, CHUNK_STEPS


def collect_lines(frames: Iterator[SynthesisFrame], n_lines: int) -> list[np.ndarray]:
    """Offsets (N, 3) per line from a stream of frames (only the active steps)."""
    out: list[list[np.ndarray]] = [[] for _ in range(n_lines)]
    for f in frames:
        for b in np.flatnonzero(f.active):
            out[b].append(f.offsets[b])
    lines = []
    for pts in out:
        arr = np.array(pts, np.float32).reshape(-1, 3)
        if len(arr):
            arr[-1, 2] = 1.0  # the last point ends its stroke
        lines.append(arr)
    return lines


def chunk_stream(frames: Iterator[SynthesisFrame], n_lines: int, seconds: float = 1 / 60,
                 keep_frames: bool = True) -> Iterator[SynthesisChunk]:
    """Group a stream of frames into a `SynthesisChunk` about every `seconds` (a screen
    frame: a view draws each chunk at once), and a last one, all lines finished, when the
    stream ends or is cancelled."""
    pending: list[list[np.ndarray]] = [[] for _ in range(n_lines)]
    kept: list[SynthesisFrame] = []
    finished = np.zeros(n_lines, bool)
    started = np.zeros(n_lines, bool)  # self-checked text comes a group of lines at a time
    steps, last = 0, time.perf_counter()

    def chunk() -> SynthesisChunk:
        new = tuple(np.array(p, np.float32).reshape(-1, 3) for p in pending)
        for p in pending:
            p.clear()
        out = SynthesisChunk(new, finished.copy(), tuple(kept), steps)
        kept.clear()
        return out

    for frame in frames:
        steps += 1
        if keep_frames:
            kept.append(frame)
        for b in np.flatnonzero(frame.active):
            pending[b].append(frame.offsets[b])
        now = time.perf_counter()
        if now - last >= seconds:
            yield chunk()
            last = now
        # A line is done once its window has passed its last character (the stream marks
        # it inactive from the next step on; see `sample_stream`).
        started |= frame.active
        finished |= started & ~frame.active
    finished[:] = True
    yield chunk()
