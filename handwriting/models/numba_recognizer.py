"""The recognizer's forward pass (`models.recognizer.RecognizerNet` in eval mode) in NumPy,
with its LSTM recurrences compiled by Numba: what the model processes run, without torch.

Why: a process that imports torch to recognize pays ~2 s and ~220 MB before its first line;
this engine needs NumPy and Numba only (~0.6 s, ~90 MB), and at batch 1 it is also faster
than `nn.LSTM` (~15 us instead of ~25 us a step on this CPU: the step below fuses the
recurrent product, the gates and the cell update, and streams each weight once).
Its log-posteriors agree with the torch network's to ~1e-5 (tests/handwriting/
test_numba_recognizer.py); torch stays the reference, and what training, adaptation,
introspection and saliency run.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from handwriting.models.halves import half_if_exact
from handwriting.models.numba_sampler import HALF, _matvec, _njit, _tanh, numba
from handwriting.models.threads import NUMPY_ONE_THREAD

BN_EPS = 1e-5  # nn.BatchNorm1d's default


class WeightsError(ValueError):
    """Weights that do not fit the recognizer's config."""


@dataclass(frozen=True)
class RecognizerWeights:
    """float32 layouts: conv blocks with their batch norm folded in, per LSTM layer and
    direction the input matrix (I, 4H), the summed bias (4H,) and the recurrent matrix
    transposed (H, 4H), gates in PyTorch's i, f, g, o order; the head (2H, K) and (K,). The
    recurrent matrices are IEEE halves (uint16 bits, `halves.half_if_exact`) when the
    checkpoint's weights are: what the step streams every frame, at half the bytes."""

    conv: tuple[tuple[np.ndarray, np.ndarray], ...]  # (C_out, C_in * k), (C_out,)
    kernel: int
    lstm: tuple[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...], ...]
    head: tuple[np.ndarray, np.ndarray]

    @classmethod
    def from_state(cls, state: dict, cfg) -> RecognizerWeights:
        """From a `RecognizerNet` state dict (NumPy arrays or tensors) and its config;
        shapes are checked against the config (`WeightsError` naming the first mismatch)."""
        expected = expected_shapes(cfg)
        theirs = {k: tuple(np.shape(v)) for k, v in state.items()}
        if theirs != expected:
            bad = sorted(k for k in expected.keys() | theirs.keys()
                         if expected.get(k) != theirs.get(k))
            raise WeightsError(f"weights do not match the config (first mismatch: {bad[0]}, "
                               f"config {expected.get(bad[0])}, weights {theirs.get(bad[0])})")

        def f32(name: str) -> np.ndarray:
            v = state[name]
            v = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
            return v.astype(np.float32)

        conv = []
        for i in range(cfg.conv_layers):
            w, b = f32(f"frontend.net.{3 * i}.weight"), f32(f"frontend.net.{3 * i}.bias")
            bn = f"frontend.net.{3 * i + 1}"
            scale = f32(f"{bn}.weight") / np.sqrt(f32(f"{bn}.running_var") + BN_EPS)
            w = w * scale[:, None, None]
            b = (b - f32(f"{bn}.running_mean")) * scale + f32(f"{bn}.bias")
            conv.append((np.ascontiguousarray(w.reshape(len(w), -1)), b))
        lstm = []
        for i in range(cfg.layers):
            dirs = []
            for d in ("fwd", "bwd"):
                p = f"layers.{i}.{d}"
                dirs.append((np.ascontiguousarray(f32(f"{p}.weight_ih_l0").T),
                             f32(f"{p}.bias_ih_l0") + f32(f"{p}.bias_hh_l0"),
                             half_if_exact(np.ascontiguousarray(f32(f"{p}.weight_hh_l0").T))))
            lstm.append(tuple(dirs))
        head = (np.ascontiguousarray(f32("head.weight").T), f32("head.bias"))
        return cls(tuple(conv), cfg.kernel, tuple(lstm), head)


def expected_shapes(cfg) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes `RecognizerNet(cfg)` has, computed without building it."""
    out: dict[str, tuple[int, ...]] = {}
    c_in = cfg.n_features
    for i in range(cfg.conv_layers):
        c = cfg.conv_channels
        out[f"frontend.net.{3 * i}.weight"] = (c, c_in, cfg.kernel)
        out[f"frontend.net.{3 * i}.bias"] = (c,)
        for name in ("weight", "bias", "running_mean", "running_var"):
            out[f"frontend.net.{3 * i + 1}.{name}"] = (c,)
        out[f"frontend.net.{3 * i + 1}.num_batches_tracked"] = ()
        c_in = c
    H = cfg.hidden
    for i in range(cfg.layers):
        n_in = cfg.conv_channels if i == 0 else 2 * H
        for d in ("fwd", "bwd"):
            p = f"layers.{i}.{d}"
            out |= {f"{p}.weight_ih_l0": (4 * H, n_in), f"{p}.weight_hh_l0": (4 * H, H),
                    f"{p}.bias_ih_l0": (4 * H,), f"{p}.bias_hh_l0": (4 * H,)}
    out |= {"head.weight": (cfg.n_classes, 2 * H), "head.bias": (cfg.n_classes,)}
    return out


@_njit
def _gelu(y):
    """GELU, exact (erf) form, as `nn.GELU()`; in place on a 2-D array."""
    rows, cols = y.shape
    for r in range(rows):
        for c in range(cols):
            v = y[r, c]
            y[r, c] = HALF * v * (np.float32(1.0) + np.float32(math.erf(v * 0.7071067811865476)))


@_njit
def _lstm(xp, w_hh, reverse, out):
    """One direction of an LSTM layer over a whole sequence (Graves et al. 2009's BLSTM):
    xp (T, 4H) is the input product plus bias, w_hh (H, 4H); writes h_t into out (T, H).
    The recurrent product is the synthesizer's `_matvec` (four weight rows at a time): the
    step is bound by streaming w_hh from the cache, and reading and writing the gates once
    per four rows instead of once per row made it ~20 % faster (12.5 -> 10 us at H = 192)."""
    T, G4 = xp.shape
    H = G4 // 4
    h = np.zeros(H, np.float32)
    c = np.zeros(H, np.float32)
    g = np.empty(G4, np.float32)
    for s in range(T):
        t = T - 1 - s if reverse else s
        _matvec(h, w_hh, g)
        for j in range(G4):
            g[j] += xp[t, j]
        for j in range(H):  # sigmoid(z) = (1 + tanh(z / 2)) / 2
            i = HALF + HALF * _tanh(HALF * g[j])
            f = HALF + HALF * _tanh(HALF * g[H + j])
            o = HALF + HALF * _tanh(HALF * g[3 * H + j])
            c[j] = f * c[j] + i * _tanh(g[2 * H + j])
            h[j] = o * _tanh(c[j])
            out[t, j] = h[j]


def available() -> bool:
    """Whether this engine can run (Numba is importable)."""
    return numba is not None


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _backward_thread() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="lstm-backward")
        return _pool


def default_parallel(threads: int | None) -> bool:
    """Whether `forward` runs a layer's two directions side by side: with `threads` >= 2, or
    unset on a machine with two cores or more."""
    return (threads if threads is not None else (os.cpu_count() or 1)) >= 2


def forward(weights: RecognizerWeights, x: np.ndarray, parallel: bool = False) -> np.ndarray:
    """Standardized features x (T, F) of one line -> log-posteriors (T', K). With `parallel`,
    each layer's backward direction runs in a second thread beside the forward one (the
    compiled loop releases the GIL), which nearly halves the time on two free cores.
    NumPy's own products run single-threaded here: at these sizes a second BLAS thread
    gains nothing, and one waiting for a core another process holds made a 25 ms line take
    175 ms on a busy machine."""
    NUMPY_ONE_THREAD.enter()
    try:
        return _forward(weights, np.asarray(x, np.float32), parallel)
    finally:
        NUMPY_ONE_THREAD.exit()


def _direction(h: np.ndarray, w: np.ndarray, b: np.ndarray, u: np.ndarray, reverse: bool,
               out: np.ndarray) -> None:
    """One direction of a layer: its input product (T, 4H), then its recurrence into out."""
    _lstm(np.ascontiguousarray(h @ w + b), u, reverse, out)


def _forward(weights: RecognizerWeights, h: np.ndarray, parallel: bool) -> np.ndarray:
    k = weights.kernel
    for w, b in weights.conv:  # stride 2, padding k // 2, as ConvFrontEnd
        pad = np.pad(h, ((k // 2, k // 2), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(pad, k, axis=0)[::2]  # (T', C, k)
        h = windows.reshape(len(windows), -1) @ w.T + b
        _gelu(h)
    T = len(h)
    for layer in weights.lstm:
        out = np.empty((T, 2 * len(layer[0][1]) // 4), np.float32)
        H = out.shape[1] // 2
        (wf, bf, uf), (wb, bb, ub) = layer
        fwd, bwd = np.empty((T, H), np.float32), np.empty((T, H), np.float32)
        if parallel:  # each thread its direction's input product too (BLAS frees the GIL)
            done = _backward_thread().submit(_direction, h, wb, bb, ub, True, bwd)
            _direction(h, wf, bf, uf, False, fwd)
            done.result()
        else:
            _direction(h, wf, bf, uf, False, fwd)
            _direction(h, wb, bb, ub, True, bwd)
        out[:, :H], out[:, H:] = fwd, bwd
        h = out
    logits = h @ weights.head[0] + weights.head[1]
    top = logits.max(axis=1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))


def warm_up(weights: RecognizerWeights) -> None:
    """Compile (or load from Numba's on-disk cache) the kernels for these weights' dtypes."""
    forward(weights, np.zeros((16, weights.conv[0][0].shape[1] // weights.kernel), np.float32))
