"""What the networks did, as plain numpy data, and the blue-white-red scale to draw it:
LSTM gates and cell states, the recognizer's trace and saliency, the synthesizer's window
and next-point mixture (Graves 2013, fig. 3-4). No torch: the app's process draws these
(`introspect` records them, in the model's process)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------- LSTM internals


@dataclass(frozen=True)
class CellTrace:
    """One LSTM over one sequence, each (T, H): input, forget and output gates, cell
    candidate, cell state and hidden state (Graves 2013, eq. 7-11)."""

    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray


# --------------------------------------------------------------------------- recognizer


@dataclass(frozen=True)
class LayerTrace:
    """One bidirectional layer; the backward direction is in forward time order too."""

    fwd: CellTrace
    bwd: CellTrace


@dataclass(frozen=True)
class RecognizerTrace:
    """Everything the recognizer computed for one line of T' frames."""

    log_probs: np.ndarray  # (T', K), K = alphabet + blank (index 0)
    layers: tuple[LayerTrace, ...]
    stride: int  # input points per frame

    def direction(self, layer: int, direction: str) -> CellTrace:
        if direction not in ("fwd", "bwd"):
            raise ValueError(f"direction must be 'fwd' or 'bwd', got {direction!r}")
        return getattr(self.layers[layer], direction)


@dataclass(frozen=True)
class Saliency:
    """Gradient of one output with respect to the input features (Simonyan et al. 2014)."""

    gradient: np.ndarray  # (T, F) d target / d x
    magnitude: np.ndarray  # (T,) L2 norm over features: how much each input point matters
    frame: int
    target: float  # the differentiated value, e.g. log p(label at frame)
    label: int = -1  # the class, for output saliency


# --------------------------------------------------------------------------- synthesizer


@dataclass(frozen=True)
class PointMixture:
    """The predicted next pen offset: M bivariate Gaussians (Graves 2013, eq. 23-25)."""

    log_pi: np.ndarray  # (M,)
    mu: np.ndarray  # (M, 2) relative to the pen tip
    sigma: np.ndarray  # (M, 2)
    rho: np.ndarray  # (M,)
    eos: float

    @classmethod
    def from_frame(cls, frame, line: int = 0) -> PointMixture:
        """From a `SynthesisFrame` (one line of its batch)."""
        return cls(frame.log_pi[line], frame.mu[line], frame.sigma[line], frame.rho[line],
                   float(frame.eos[line]))


def mixture_density_grid(mix: PointMixture, center, extent, n: int = 64,
                         tip=None) -> np.ndarray:
    """Density of the next pen point on an (n, n) grid [row = y, column = x] tiling
    center ± extent (a number or (ex, ey)): cell (r, c) covers x in
    center_x - ex + [c, c + 1] * 2 ex / n, likewise y. The means are relative to `tip`
    (default: `center`). Sum times the cell area is ~1 when the grid holds the mixture."""
    cx, cy = np.asarray(center, np.float64).reshape(2)
    ex, ey = np.broadcast_to(np.asarray(extent, np.float64), (2,))
    tx, ty = (cx, cy) if tip is None else np.asarray(tip, np.float64).reshape(2)
    xs = cx - ex + (np.arange(n) + 0.5) * 2 * ex / n  # (n,) cell centres
    ys = cy - ey + (np.arange(n) + 0.5) * 2 * ey / n
    s1, s2 = mix.sigma[:, 0, None, None], mix.sigma[:, 1, None, None]  # (M, 1, 1)
    rho = np.asarray(mix.rho, np.float64)[:, None, None]
    z1 = (xs[None, None, :] - tx - mix.mu[:, 0, None, None]) / s1  # (M, 1, n)
    z2 = (ys[None, :, None] - ty - mix.mu[:, 1, None, None]) / s2  # (M, n, 1)
    one_m_rho2 = 1 - rho**2
    z = z1**2 + z2**2 - 2 * rho * z1 * z2  # (M, n, n), eq. 25
    dens = np.exp(-z / (2 * one_m_rho2)) / (2 * np.pi * s1 * s2 * np.sqrt(one_m_rho2))  # eq. 24
    weights = np.exp(np.asarray(mix.log_pi, np.float64))[:, None, None]
    return (weights * dens).sum(0)  # (n, n), eq. 23 without the end-of-stroke term


@dataclass(frozen=True)
class SynthesisTrace:
    """One sampled line, step by step: what the window read and what the net predicted."""

    offsets: np.ndarray  # (T, 3) sampled dx, dy, pen_up, in writing heights
    phi: np.ndarray  # (T, U + 1) window weights over the characters (+ the end slot), eq. 46
    kappa: np.ndarray  # (T, K) window positions, in characters, eq. 51
    eos: np.ndarray  # (T,) end-of-stroke probability
    pi: np.ndarray  # (T, M) mixture weights
    mu: np.ndarray  # (T, M, 2) relative to the pen tip
    sigma: np.ndarray  # (T, M, 2)
    rho: np.ndarray  # (T, M)
    text_offset: int  # characters of priming text before the line's own text

    @classmethod
    def from_frames(cls, frames: Iterable, line: int = 0) -> SynthesisTrace:
        """Collect the active steps of `line` from `SynthesisFrame`s (e.g. `sample_stream`)."""
        rows = [f for f in frames if f.active[line]]
        if not rows:
            raise ValueError(f"no active step for line {line}")

        def stack(name):
            return np.stack([getattr(f, name)[line] for f in rows])

        return cls(stack("offsets"), stack("phi"), stack("kappa"), stack("eos"),
                   np.exp(stack("log_pi")), stack("mu"), stack("sigma"), stack("rho"),
                   rows[0].text_offset)

    def __len__(self) -> int:
        return len(self.offsets)

    def tips(self) -> np.ndarray:
        """(T, 2) pen position each step's mixture is relative to (the previous point)."""
        return np.concatenate([np.zeros((1, 2)), np.cumsum(self.offsets[:-1, :2], 0)])

    def mixture(self, t: int) -> PointMixture:
        return PointMixture(np.log(np.maximum(self.pi[t], 1e-30)), self.mu[t], self.sigma[t],
                            self.rho[t], float(self.eos[t]))


# --------------------------------------------------------------------------- colour


_BLUE = np.array([0.0, 0.0, 255.0])
_WHITE = np.array([255.0, 255.0, 255.0])
_RED = np.array([255.0, 0.0, 0.0])


def diverging_rgb(values) -> np.ndarray:
    """Values in [-1, 1] -> uint8 RGB (..., 3): -1 blue, 0 white, 1 red (clipped; NaN white)."""
    v = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), -1.0, 1.0)[..., None]
    rgb = np.where(v < 0, _WHITE + (_WHITE - _BLUE) * v, _WHITE + (_RED - _WHITE) * v)
    return np.round(rgb).astype(np.uint8)
