"""Sampling handwriting from the Graves (2013) network: bias (§5.4), priming with a style
(§5.5), end of text from the attention window, several lines sampled as one batch, and a
streaming generator so a canvas can draw points as they are sampled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from handwriting.alphabet import Alphabet
from handwriting.ink import PEN_UP_SECONDS, POINT_SECONDS, offsets_to_line_ink
from handwriting.models.fast_sampler import FastWeights, fast_weights
from handwriting.results import Style, SynthesisChunk, SynthesisFrame

if TYPE_CHECKING:  # torch is imported only by the "torch" engine
    from handwriting.models.synthesizer import SynthesizerNet

# The pen timing and `offsets_to_line_ink` live in the torch-free `ink` module (the GUI
# places sampled points without torch); they are re-exported here for older callers.
__all__ = ["PEN_UP_SECONDS", "POINT_SECONDS", "ENGINES", "Style", "SynthesisChunk",
           "SynthesisFrame", "choose_engine", "chunk_stream", "collect_lines", "load_styles", "offsets_to_line_ink", "sample_stream",
           "save_styles", "split_lines"]

STEPS_PER_CHAR_LIMIT = 40  # bounded sampling: at most this many points per character
END_TAIL_STEPS = 20  # points a line may take to finish its last stroke after the text ends


def split_lines(text: str, max_chars: int = 40) -> list[str]:
    """Split text into lines at word boundaries (explicit newlines kept); a word longer
    than `max_chars` is cut."""
    lines: list[str] = []
    for para in text.splitlines():
        cur = ""
        for word in para.split():
            while len(word) > max_chars:
                if cur:
                    lines.append(cur)
                    cur = ""
                lines.append(word[:max_chars])
                word = word[max_chars:]
            if cur and len(cur) + 1 + len(word) > max_chars:
                lines.append(cur)
                cur = word
            else:
                cur = f"{cur} {word}" if cur else word
        if cur:
            lines.append(cur)
    return lines


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
JIT_MAX_LINES = 8
# A prime longer than this (characters of text) is cut to its last words. A whole IAM line as
# prime puts the new text where lines end (40+ characters in) and its first word after
# another writer's last one: first words came out garbled (issue 14); see `trim_style`.
PRIME_MAX_CHARS = 16


def trim_style(style: Style, max_chars: int = PRIME_MAX_CHARS) -> Style:
    """`style` cut to its last words (at most `max_chars` characters of text, at least one
    word) and the ink of exactly those words. The ink is cut at word gaps found in the pen
    itself: the widest forward jumps between strokes, one fewer than the text has words (the
    attention window lags the pen by about a character, too much to cut by). A style whose
    ink does not show one gap per word space is kept whole."""
    text = style.text.strip()
    words = text.split()
    keep = 0
    while keep < len(words) and len(" ".join(words[len(words) - keep - 1:])) <= max_chars:
        keep += 1
    keep = max(keep, 1)
    if keep >= len(words):
        return style
    off = style.offsets
    starts = np.flatnonzero(off[:-1, 2] > 0.5) + 1  # rows that jump to a new stroke
    if len(starts) < len(words) - 1:
        return style
    gaps = np.sort(starts[np.argsort(-off[starts, 0], kind="stable")[: len(words) - 1]])
    out = off[int(gaps[len(words) - keep - 1]):].copy()
    out[0, :2] = 0.0  # the first point of a line: no jump into it
    return Style(style.name, out, " ".join(words[len(words) - keep:]))


def choose_engine(engine: str, n_lines: int) -> str:
    """The engine `engine="auto"` means: the compiled step (a matrix-vector product per
    line) for up to `JIT_MAX_LINES` lines when Numba is installed; for more lines the NumPy
    engine, whose products run as one matrix product in PyTorch (measured faster there)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    if engine != "auto":
        return engine
    from handwriting.models import jit_sampler

    return "jit" if n_lines <= JIT_MAX_LINES and jit_sampler.available() else "numpy"


def sample_stream(net: SynthesizerNet | FastWeights, alphabet: Alphabet, lines: list[str], offset_scale: float,
                  bias: float = 0.75, style: Style | None = None, seed: int | None = None,
                  should_stop=None, engine: str = "auto") -> Iterator[SynthesisFrame]:
    """Yield one `SynthesisFrame` per step while sampling all `lines` as one batch. A line
    ends when the window passes its last character: phi over the end slot exceeds phi over
    every character (Graves 2013, §5.3). `should_stop()` cancels between steps.

    `engine="numpy"` runs the float32 NumPy re-implementation of the step
    (`models.fast_sampler`), `"jit"` the same step compiled with Numba
    (`models.jit_sampler`, one call per step), `"torch"` `SynthesizerNet.step`; `"auto"`
    (default) is `choose_engine`'s pick. All sample the same distribution (their steps agree
    to ~1e-6); "jit" and "numpy" also make the same draws for one seed, "torch" others.
    `net` is the network, or for the NumPy and Numba engines its `FastWeights` (what the
    model processes hold: they never load torch)."""
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
               text_offset=len(prefix))
    if engine == "torch":
        return _stream_torch(net, job)
    return _stream_numpy(net, job, compiled=engine == "jit")


class _LineEnds:
    """When each line of a batch ends. Graves (2013, §5.3) stops when the window has passed
    the last character (phi over the end slot exceeds phi over every character); by then the
    pen is often still inside the last letter, so a line goes on to its next pen-up, or at
    most `END_TAIL_STEPS` points more (without it, last letters lose their final stroke)."""

    def __init__(self, n_lines: int):
        self.passed_at = np.full(n_lines, -1)

    def update(self, step: int, passed: np.ndarray, pen_up: np.ndarray) -> np.ndarray:
        """passed, pen_up (B,) bool for this step -> (B,) bool: lines whose last point this is."""
        self.passed_at[(self.passed_at < 0) & passed] = step
        done = self.passed_at >= 0
        return done & (pen_up | (step - self.passed_at >= END_TAIL_STEPS))


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


def _stream_numpy(net: SynthesizerNet | FastWeights, job: _Job, compiled: bool = False
                  ) -> Iterator[SynthesisFrame]:
    """The NumPy engine, or with `compiled` its Numba-compiled step (`models.jit_sampler`):
    the same layout, arithmetic and random draws."""
    from handwriting.models.fast_sampler import NumpySynthesisStep
    from handwriting.models.jit_sampler import JitSynthesisStep

    rng = np.random.default_rng(job.seed)
    weights = net if isinstance(net, FastWeights) else fast_weights(net)
    sampler = (JitSynthesisStep if compiled else NumpySynthesisStep)(
        weights, job.text, job.mask, job.bias)
    B, U = job.mask.shape
    lens, prime, should_stop, offset_scale = job.lens, job.prime, job.should_stop, job.offset_scale
    x = np.zeros((B, 3), np.float32)
    if prime is not None:
        for t in range(len(prime)):  # teacher-forced priming (Graves §5.5)
            sampler.step(x, head=False)
            x = np.broadcast_to(prime[t], (B, 3))
    rows = np.arange(B)
    before = np.arange(U)[None] < lens[:, None]  # (B, U): each line's own characters
    scale = np.array([offset_scale, offset_scale, 1.0], np.float32)
    active, ends = np.ones(B, bool), _LineEnds(B)
    for step in range(job.max_steps):
        if should_stop is not None and should_stop():
            return
        if compiled:
            x = sampler.step_sample(rng, x)
            mix = sampler.mixture()
        else:
            sampler.step(x)
            mix = sampler.mixture()
            x = sampler.sample(mix, rng)
        phi = sampler.phi.copy()  # (B, U)
        finished = ends.update(step, phi[rows, lens] > np.where(before, phi, -1.0).max(1),
                               x[:, 2] > 0.5)
        yield SynthesisFrame(
            step=step, offsets=x * scale, active=active.copy(), phi=phi,
            kappa=sampler.kappa.copy(), eos=mix.eos, log_pi=mix.log_pi,
            mu=mix.mu * offset_scale, sigma=mix.sigma * offset_scale, rho=mix.rho,
            text_offset=job.text_offset)
        active &= ~finished
        if not active.any():
            return


def _stream_torch(net: SynthesizerNet, job: _Job) -> Iterator[SynthesisFrame]:
    """`SynthesizerNet.step` in torch: the reference engine."""
    import torch

    return torch.no_grad()(_torch_frames)(net, job)


def _torch_frames(net: SynthesizerNet, job: _Job) -> Iterator[SynthesisFrame]:
    import torch

    from handwriting.models.mdn import sample_mixture

    gen = torch.Generator().manual_seed(job.seed)
    text, mask, lens = (torch.from_numpy(a) for a in (job.text, job.mask, job.lens))
    prime, bias, should_stop, offset_scale = job.prime, job.bias, job.should_stop, job.offset_scale
    B = text.shape[0]
    state = net.initial_state(B, text.shape[1])  # SynthState
    x = torch.zeros(B, 3)
    if prime is not None:
        prime = torch.from_numpy(prime)
        for t in range(len(prime)):  # teacher-forced priming (Graves §5.5)
            _, state = net.step(x, state, text, mask, bias)
            x = prime[t].expand(B, 3)
        x = x.clone()
    active, ends = torch.ones(B, dtype=torch.bool), _LineEnds(B)
    end_slot = lens  # index of each line's end slot
    for step in range(job.max_steps):
        if should_stop is not None and should_stop():
            return
        params, state = net.step(x, state, text, mask, bias)
        x = sample_mixture(params, gen)
        phi = state.window.phi  # (B, U + 1)
        before = phi.masked_fill(torch.arange(phi.shape[1])[None] >= end_slot[:, None], -1.0)
        passed = phi.gather(1, end_slot[:, None]).squeeze(1) > before.max(1).values
        finished = torch.from_numpy(ends.update(step, passed.numpy(), (x[:, 2] > 0.5).numpy()))
        frame_active = active.clone()
        x_out = x.clone()
        x_out[:, :2] *= offset_scale
        yield SynthesisFrame(
            step=step, offsets=x_out.numpy(), active=frame_active.numpy(), phi=phi.numpy(),
            kappa=state.window.kappa.numpy(), eos=params.eos.numpy(),
            log_pi=params.log_pi.numpy(),
            mu=torch.stack([params.mu1, params.mu2], -1).numpy() * offset_scale,
            sigma=torch.stack([params.log_sigma1, params.log_sigma2], -1).exp().numpy() * offset_scale,
            rho=params.rho.numpy(), text_offset=job.text_offset)
        active &= ~finished
        if not active.any():
            return


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


def save_styles(styles: list[Style], path) -> None:
    """Store style presets in one .npz (offsets per style, names and texts as JSON)."""
    import json
    import os
    from pathlib import Path

    path = Path(path)
    arrays = {f"offsets_{i}": s.offsets.astype(np.float32) for i, s in enumerate(styles)}
    meta = json.dumps([{"name": s.name, "text": s.text} for s in styles])
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, meta=np.array(meta), **arrays)
    os.replace(tmp, path)


def load_styles(path) -> dict[str, Style]:
    import json

    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return {m["name"]: Style(m["name"], z[f"offsets_{i}"], m["text"])
                for i, m in enumerate(meta)}
