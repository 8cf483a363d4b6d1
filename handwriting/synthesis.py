"""Sampling handwriting from the Graves (2013) network: bias (§5.4), priming with a style
(§5.5), end of text from the attention window, several lines sampled as one batch, and a
streaming generator so a canvas can draw points as they are sampled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from handwriting.alphabet import Alphabet
from handwriting.ink import Ink, Stroke, offsets_to_coords
from handwriting.models.mdn import sample_mixture
from handwriting.models.synthesizer import SynthesizerNet, SynthState

POINT_SECONDS = 0.02  # synthetic pen timing: one resampled point every 20 ms
PEN_UP_SECONDS = 0.12
STEPS_PER_CHAR_LIMIT = 40  # bounded sampling: at most this many points per character


@dataclass(frozen=True)
class Style:
    """A priming sample: its offsets (N, 3) in writing heights and its text (Graves §5.5)."""

    name: str
    offsets: np.ndarray
    text: str


@dataclass
class SynthesisFrame:
    """One sampling step for every line of the batch. Offsets are in writing heights."""

    step: int
    offsets: np.ndarray  # (B, 3) dx, dy, pen_up of the new point
    active: np.ndarray  # (B,) bool: line still being written (its point is real)
    phi: np.ndarray  # (B, U + 1) attention over each line's characters (+ the end slot)
    kappa: np.ndarray  # (B, K) window positions, in characters
    eos: np.ndarray  # (B,) end-of-stroke probability of this point
    log_pi: np.ndarray  # (B, M) mixture weights (log) of this point's distribution
    mu: np.ndarray  # (B, M, 2) component means, relative to the previous pen position
    sigma: np.ndarray  # (B, M, 2) component standard deviations
    rho: np.ndarray  # (B, M) correlations
    text_offset: int  # characters of priming text before each line's own text


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


def offsets_to_line_ink(offsets: np.ndarray, text: str = "") -> Ink:
    """Sampled offsets (N, 3) in writing heights -> `Ink` with synthetic pen timing."""
    coords = offsets_to_coords(offsets)
    ends = np.flatnonzero(coords[:, 2] > 0.5) + 1
    if len(ends) == 0 or ends[-1] != len(coords):
        ends = np.append(ends, len(coords))
    strokes, start, t0 = [], 0, 0.0
    for end in ends:
        if end > start:
            n = end - start
            t = t0 + POINT_SECONDS * np.arange(n)
            strokes.append(Stroke(coords[start:end, :2], t))
            t0 = float(t[-1]) + PEN_UP_SECONDS
        start = end
    return Ink(tuple(strokes), {"text": text, "format": "synthesized"})


def _encode_batch(texts: list[str], alphabet: Alphabet, n_chars: int):
    """One-hot (B, U + 1, C) with an empty end slot after each text, mask (B, U + 1)."""
    idx = [alphabet.encode(t) for t in texts]
    u = max(len(i) for i in idx) + 1
    one_hot = torch.zeros(len(texts), u, n_chars)
    mask = torch.zeros(len(texts), u)
    for b, ids in enumerate(idx):
        one_hot[b, torch.arange(len(ids)), torch.from_numpy(ids)] = 1.0
        mask[b, : len(ids) + 1] = 1.0
    return one_hot, mask, torch.tensor([len(i) for i in idx])


@torch.no_grad()
def sample_stream(net: SynthesizerNet, alphabet: Alphabet, lines: list[str], offset_scale: float,
                  bias: float = 0.75, style: Style | None = None, seed: int | None = None,
                  should_stop=None) -> Iterator[SynthesisFrame]:
    """Yield one `SynthesisFrame` per step while sampling all `lines` as one batch. A line
    ends when the window passes its last character: phi over the end slot exceeds phi over
    every character (Graves 2013, §5.3). `should_stop()` cancels between steps."""
    gen = torch.Generator().manual_seed(seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63))
    prefix = (style.text.strip() + " ") if style is not None else ""
    texts = [prefix + ln for ln in lines]
    text, mask, lens = _encode_batch(texts, alphabet, net.cfg.n_chars)
    B = len(lines)
    state: SynthState = net.initial_state(B, text.shape[1])
    x = torch.zeros(B, 3)
    if style is not None and len(style.offsets):
        prime = torch.from_numpy(style.offsets.astype(np.float32)).clone()
        prime[:, :2] /= offset_scale
        for t in range(len(prime)):  # teacher-forced priming (Graves §5.5)
            _, state = net.step(x, state, text, mask, bias)
            x = prime[t].expand(B, 3)
        x = x.clone()
    active = torch.ones(B, dtype=torch.bool)
    end_slot = lens  # index of each line's end slot
    max_steps = STEPS_PER_CHAR_LIMIT * int(max(len(t) for t in lines)) + 20
    for step in range(max_steps):
        if should_stop is not None and should_stop():
            return
        params, state = net.step(x, state, text, mask, bias)
        x = sample_mixture(params, gen)
        phi = state.window.phi  # (B, U + 1)
        before = phi.masked_fill(torch.arange(phi.shape[1])[None] >= end_slot[:, None], -1.0)
        finished = phi.gather(1, end_slot[:, None]).squeeze(1) > before.max(1).values
        frame_active = active.clone()
        x_out = x.clone()
        x_out[:, :2] *= offset_scale
        yield SynthesisFrame(
            step=step, offsets=x_out.numpy(), active=frame_active.numpy(), phi=phi.numpy(),
            kappa=state.window.kappa.numpy(), eos=params.eos.numpy(),
            log_pi=params.log_pi.numpy(),
            mu=torch.stack([params.mu1, params.mu2], -1).numpy() * offset_scale,
            sigma=torch.stack([params.log_sigma1, params.log_sigma2], -1).exp().numpy() * offset_scale,
            rho=params.rho.numpy(), text_offset=len(prefix))
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
