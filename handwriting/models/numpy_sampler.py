"""Fast inference for `SynthesizerNet.step`: the same Graves (2013) §5 step in float32 NumPy
(the engine of `synthesis.sample_stream` for many lines, or without Numba; `numba_sampler`
compiles this same layout into one call per step). At batch 1 PyTorch spends most of a step
dispatching ~40 small ops; here a step is one matrix product per layer, window and head plus
~70 NumPy ufunc calls on preallocated buffers (about half of its time), the rest streaming
the ~5.7 MB of weights from the L3 cache, which every product reads exactly once.

Layout. All inputs of all layers live in one row buffer per line,
``S = [h1 | 1 | x | w | h2 | ... | hL]`` (B, ·), so each layer's gates are ONE product of a
contiguous span of S with pre-stacked weights (the constant 1 picks up the pre-summed
biases b_ih + b_hh): layer 1 reads [h1_prev, 1, x, w_prev], layer 2 [h1, 1, x, w, h2_prev],
layer 3 [1, x, w, h2, h3_prev]; the head reads [h1, 1, (x, w as zero rows), h2, ..., hL].
Only the window-vector rows of characters present in the text are kept (the others are
exactly zero), and gates are reordered to i, f, o, g with the i, f, o rows halved, so one
tanh gives every gate: sigmoid(z) = (1 + tanh(z / 2)) / 2.
"""

from __future__ import annotations

import functools
import math
import sys
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from handwriting.models.configs import RHO_LIMIT, SynthesizerConfig
from handwriting.models.threads import NUMPY_ONE_THREAD, torch_one_thread

if TYPE_CHECKING:
    from handwriting.models.synthesizer import SynthesizerNet


@dataclass(frozen=True)
class FastWeights:
    """Model-wide float32 weight layouts (built once per set of weights, see `fast_weights`).
    Matrices are transposed, (inputs, outputs), with gates in i, f, o, g order."""

    hidden: int
    layers: int
    mixtures: int
    gaussians: int
    n_chars: int
    lstm: tuple[dict[str, np.ndarray], ...]  # per layer: "one" (1, 4H), "x" (3, 4H), "w" (C, 4H),
    #                                          "below" (H, 4H) from layer 2 on, "prev" (H, 4H)
    window: dict[str, np.ndarray]  # "h1" (H, 3K), "one" (1, 3K); log(kappa_scale) folded in
    head: dict[str, np.ndarray]  # "h" (L*H, 6M+1), "one" (1, 6M+1)

    @functools.cached_property
    def half_exact(self) -> bool:
        """Whether every LSTM weight but the biases, with the i, f, o halving undone, is exactly
        an IEEE half (weights from an fp16 checkpoint): the compiled step then streams them as
        halves (`halves.half_if_exact`)."""
        from handwriting.models.halves import half_if_exact, unhalved

        return all(half_if_exact(unhalved(w)).dtype == np.uint16 for part in self.lstm
                   for name, w in part.items() if name != "one")

    @classmethod
    def from_net(cls, net: SynthesizerNet) -> FastWeights:
        return cls.from_state(net.state_dict(), net.cfg)

    @classmethod
    def from_state(cls, state: dict, cfg: SynthesizerConfig) -> FastWeights:
        """From a `SynthesizerNet` state dict, tensors or NumPy arrays (what
        `checkpoint.read_checkpoint` gives, without torch), and its config."""
        if cfg.kappa_scale <= 0:
            raise ValueError(f"kappa_scale must be positive, got {cfg.kappa_scale}")
        H, C = cfg.hidden, cfg.n_chars

        def np32(name: str) -> np.ndarray:
            v = state[name]
            v = v.detach().cpu().float().numpy() if hasattr(v, "detach") else np.asarray(v)
            return v.astype(np.float32)

        def gates(w: np.ndarray) -> np.ndarray:
            """(4H, n) in PyTorch's i, f, g, o order -> (n, 4H) in i, f, o, g, ifo halved."""
            i, f, g, o = np.split(w, 4, axis=0)
            return np.ascontiguousarray(np.concatenate([0.5 * i, 0.5 * f, 0.5 * o, g]).T)

        names = [("cell1.weight_ih", "cell1.weight_hh", "cell1.bias_ih", "cell1.bias_hh")]
        names += [tuple(f"upper.{j}.{n}_l0" for n in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh")) for j in range(cfg.layers - 1)]
        lstm = []
        for w_ih, w_hh, b_ih, b_hh in names:
            w_in = gates(np32(w_ih))  # rows: x (3), w (C), [h_below (H)]
            part = {"one": gates((np32(b_ih) + np32(b_hh))[:, None]), "x": w_in[:3],
                    "w": w_in[3:3 + C], "prev": gates(np32(w_hh))}
            if len(w_in) > 3 + C:
                part["below"] = w_in[3 + C:]
            lstm.append(part)
        K = cfg.window_gaussians
        wb = np32("window.linear.bias").copy()
        wb[2 * K:] += math.log(cfg.kappa_scale)  # kappa_scale * exp(k) = exp(k + log scale)
        window = {"h1": np.ascontiguousarray(np32("window.linear.weight").T), "one": wb[None]}
        head = {"h": np.ascontiguousarray(np32("head.linear.weight").T),
                "one": np32("head.linear.bias")[None].copy()}
        if any(p["prev"].shape != (H, 4 * H) for p in lstm):
            raise ValueError("weights do not match the config's hidden size")
        return cls(H, cfg.layers, cfg.mixtures, K, C, tuple(lstm), window, head)


def synthesizer_shapes(cfg: SynthesizerConfig) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes `SynthesizerNet(cfg)` has, computed without building it."""
    H, C, M, K = cfg.hidden, cfg.n_chars, cfg.mixtures, cfg.window_gaussians
    shapes = {"cell1.weight_ih": (4 * H, 3 + C), "cell1.weight_hh": (4 * H, H),
              "cell1.bias_ih": (4 * H,), "cell1.bias_hh": (4 * H,),
              "window.linear.weight": (3 * K, H), "window.linear.bias": (3 * K,),
              "head.linear.weight": (6 * M + 1, cfg.layers * H), "head.linear.bias": (6 * M + 1,)}
    for j in range(cfg.layers - 1):
        shapes |= {f"upper.{j}.weight_ih_l0": (4 * H, 3 + C + H),
                   f"upper.{j}.weight_hh_l0": (4 * H, H), f"upper.{j}.bias_ih_l0": (4 * H,),
                   f"upper.{j}.bias_hh_l0": (4 * H,)}
    return shapes


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fast_weights(net: SynthesizerNet) -> FastWeights:
    """`FastWeights` of `net`, cached until any of its parameters changes (in place or not)."""
    key = tuple((p.data_ptr(), p._version) for p in net.parameters())
    hit = _CACHE.get(net)
    if hit is None or hit[0] != key:
        hit = (key, FastWeights.from_net(net))
        _CACHE[net] = hit
    return hit[1]


# ------------------------------------------------------------------------------ the step


@dataclass
class NumpyMixture:
    """Mixture of the next offset as fresh arrays, bias applied (see `mdn.MixtureHead`)."""

    log_pi: np.ndarray  # (B, M)
    mu: np.ndarray  # (B, M, 2) in model units
    log_sigma: np.ndarray  # (B, M, 2)
    sigma: np.ndarray  # (B, M, 2)
    rho: np.ndarray  # (B, M)
    eos: np.ndarray  # (B,) end-of-stroke probability
    pi_cdf: np.ndarray  # (B, M) unnormalized cumulative mixture weights, for sampling


class NumpySynthesisStep:
    """Recurrent state and step of `SynthesizerNet` for one text batch and one bias.

    text: one-hot (B, U, C); mask (B, U). `step(x)` feeds the previous offset x (B, 3)."""

    def __init__(self, weights: FastWeights, text: np.ndarray, mask: np.ndarray,
                 bias: float = 0.0, backend: str | None = None, chars: np.ndarray | None = None,
                 runs: tuple | None = None):
        fw = weights
        self._args = (weights, bias)  # what `narrowed` builds its copy from
        B, U, C = text.shape
        if C != fw.n_chars:
            raise ValueError(f"text has {C} character columns, the model {fw.n_chars}")
        H, L, M, K = fw.hidden, fw.layers, fw.mixtures, fw.gaussians
        self.B, self.U, self.C, self.H, self.L, self.M, self.K = B, U, C, H, L, M, K
        # Batch 1 runs NumPy's gemv; a gemm of a few rows is ~2.5x faster in PyTorch's MKL,
        # when the process has torch loaded anyway (a model process does not: it stays NumPy).
        self.backend = backend or ("torch" if B > 1 and "torch" in sys.modules else "numpy")
        if self.backend not in ("numpy", "torch"):
            raise ValueError(f"unknown backend {self.backend!r}; expected 'numpy' or 'torch'")
        text = np.asarray(text, np.float32)
        self._full_text = text
        # window rows that can be nonzero (`chars`: kept from a wider batch, see `narrowed`)
        self.chars = np.flatnonzero(text.any(axis=(0, 1))) if chars is None else chars
        n = len(self.chars)
        self._text = np.ascontiguousarray(text[:, :, self.chars])  # (B, U, n)
        mask = np.asarray(mask, np.float32)
        self._full_mask = mask
        self._mask = None if mask.all() else mask[:, None, :]  # (B, 1, U)

        # S = [h1 | 1 | x | w | h2 | ... | hL]
        pos, at = {}, 0
        for name, size in [("h1", H), ("one", 1), ("x", 3), ("w", n)] + [
                (f"h{j + 1}", H) for j in range(1, L)]:
            pos[name] = (at, at + size)
            at += size
        self.S = np.zeros((B, at), np.float32)
        self.S[:, pos["one"][0]] = 1.0
        self._pos = pos
        self.c = np.zeros((L, B, H), np.float32)
        self.kappa = np.zeros((B, K), np.float32)
        self._phi = np.zeros((B, 1, U), np.float32)
        self.y = np.zeros((B, 6 * M + 1), np.float32)

        # scratch and views, made once
        self._G = np.empty((B, 4 * H), np.float32)
        self._tmp = np.empty((B, H), np.float32)
        self._z = np.empty((B, 3 * K), np.float32)
        self._d = np.empty((B, K, U), np.float32)
        self._u = np.arange(U, dtype=np.float32)[None, None, :]
        self._x = self.S[:, slice(*pos["x"])]
        self._w = self.S[:, None, slice(*pos["w"])]  # (B, 1, n)
        self._h = [self.S[:, slice(*pos[f"h{j + 1}"])] for j in range(L)]
        G = self._G
        self._gates = (G[:, :H], G[:, H:2 * H], G[:, 2 * H:3 * H], G[:, 3 * H:], G[:, :3 * H])
        self._alpha = self._z[:, None, :K]  # (B, 1, K)
        self._beta = self._z[:, K:2 * K, None]  # (B, K, 1)
        self._dkappa = self._z[:, 2 * K:]
        self._kappa3 = self.kappa[:, :, None]

        # one product per layer, window and head (`runs`: a narrowed copy's, the same text's)
        self._layer_runs, self._window_runs, self._head_runs = (runs or
                                                                self._weight_runs(fw, bias, n))
        self._layers = [self._product(r, self._G) for r in self._layer_runs]
        self._window = self._product(self._window_runs, self._z)
        self._head = self._product(self._head_runs, self.y)
        y = self.y
        self._pi_hat, self._rho_hat, self._eos_half = y[:, :M], y[:, 5 * M:6 * M], y[:, 6 * M]
        self._mu = y[:, M:3 * M].reshape(B, 2, M).transpose(0, 2, 1)  # (B, M, 2) views
        self._log_sigma = y[:, 3 * M:5 * M].reshape(B, 2, M).transpose(0, 2, 1)
        self._rows = np.arange(B)

    def _weight_runs(self, fw: FastWeights, bias: float, n: int) -> tuple:
        """The weight runs (`_runs`) of the layers', window's and head's products: the window
        vector's rows restricted to the text's `n` characters, the head's bias applied."""
        H, L, M, K = fw.hidden, fw.layers, fw.mixtures, fw.gaussians
        layer_runs = []
        for j, part in enumerate(fw.lstm):
            rows = {"one": part["one"], "x": part["x"], "w": part["w"][self.chars],
                    f"h{j + 1}": part["prev"]} | ({f"h{j}": part["below"]} if j else {})
            layer_runs.append(self._runs(rows, 4 * H))
        head = fw.head["h"].copy()
        head_one = fw.head["one"].copy()
        head[:, :M] *= 1 + bias  # pi = softmax(pi_hat (1 + b))   (Graves 2013, §5.4)
        head_one[:, :M] *= 1 + bias
        head_one[:, 3 * M:5 * M] -= bias  # sigma = exp(sigma_hat - b)
        head[:, 6 * M] *= 0.5  # eos = sigmoid(z) = (1 + tanh(z / 2)) / 2
        head_one[:, 6 * M] *= 0.5
        rows = {"one": head_one, "x": np.zeros((3, 6 * M + 1), np.float32),
                "w": np.zeros((n, 6 * M + 1), np.float32)}  # zero rows: one span for the head
        rows.update({f"h{j + 1}": head[j * H:(j + 1) * H] for j in range(L)})
        return layer_runs, self._runs(fw.window, 3 * K), self._runs(rows, 6 * M + 1)

    def _runs(self, rows: dict[str, np.ndarray], n_out: int) -> list[tuple[int, int, np.ndarray]]:
        """Group the inputs a product needs into contiguous spans of S: (first column, end
        column, weight rows stacked in S order) per span."""
        runs, cur, start = [], [], 0
        for name, (a, _b) in [*self._pos.items(), ("end", (self.S.shape[1], 0))]:
            if name in rows:
                start = a if not cur else start
                cur.append(rows[name])
            elif cur:
                runs.append((start, a, np.ascontiguousarray(np.concatenate(cur))))
                cur = []
        assert all(w.shape == (b - a, n_out) for a, b, w in runs)
        return runs

    def _product(self, spans: list[tuple[int, int, np.ndarray]], out: np.ndarray):
        """A function computing out = sum over spans of (S[:, a:b] @ W)."""
        runs = [(self.S[:, a:b], w) for a, b, w in spans]
        if self.backend == "torch":  # views sharing memory with the NumPy buffers
            import torch

            truns = [(torch.from_numpy(a), torch.from_numpy(w)) for a, w in runs]
            tout = torch.from_numpy(out)

            def product():
                torch.matmul(*truns[0], out=tout)
                for a, w in truns[1:]:
                    tout.add_(a @ w)
        else:
            def product():
                np.matmul(*runs[0], out=out)
                for a, w in runs[1:]:
                    np.add(out, a @ w, out=out)
        return product

    def _lstm(self, layer: int) -> None:
        G, tmp, c = self._G, self._tmp, self.c[layer]
        self._layers[layer]()  # gates, pre-activation (eq. 7-10)
        i, f, o, g, ifo = self._gates
        np.tanh(G, out=G)
        ifo *= 0.5
        ifo += 0.5  # sigmoid of the halved i, f, o pre-activations
        c *= f
        np.multiply(i, g, out=tmp)
        c += tmp  # c_t = f c_{t-1} + i g      (Graves 2013, eq. 9)
        np.tanh(c, out=tmp)
        np.multiply(o, tmp, out=self._h[layer])  # h_t = o tanh(c_t)   (eq. 11)

    def step(self, x: np.ndarray | None = None, head: bool = True) -> None:
        """Advance one pen step; x (B, 3) the previous offset (None: keep the last one, e.g.
        the one `sample` wrote). `head=False` skips the mixture output (priming)."""
        if x is not None:
            self._x[...] = x
        threads = NUMPY_ONE_THREAD if self.backend == "numpy" else torch_one_thread()
        threads.enter()
        try:
            self._lstm(0)
            z = self._z
            self._window()  # eq. 48
            np.exp(z, out=z)  # alpha, beta, kappa_scale * exp(k_hat)   (eq. 49-51)
            self.kappa += self._dkappa
            d = self._d
            np.subtract(self._kappa3, self._u, out=d)
            np.multiply(d, d, out=d)
            np.multiply(d, self._beta, out=d)
            np.negative(d, out=d)
            np.exp(d, out=d)
            np.matmul(self._alpha, d, out=self._phi)  # eq. 46: phi = sum_k alpha exp(-beta (kappa - u)^2)
            if self._mask is not None:
                self._phi *= self._mask
            np.matmul(self._phi, self._text, out=self._w)  # eq. 47: w = sum_u phi c_u
            for layer in range(1, self.L):
                self._lstm(layer)
            if head:
                self._head()
        finally:
            threads.exit()

    def narrowed(self, rows: np.ndarray) -> NumpySynthesisStep:
        """This step for batch rows `rows` only, state and all: the lines still being written,
        once others have ended, so that a step costs what the live lines need. Each row's
        arithmetic is its own, so the rows kept sample as they would have in the full batch."""
        rows = np.asarray(rows, np.int64)
        fw, bias = self._args
        out = type(self)(fw, self._full_text[rows], self._full_mask[rows], bias,
                         **self._narrow_kwargs())
        out.S[...] = self.S[rows]
        out.c[...] = self.c[:, rows]
        out.kappa[...] = self.kappa[rows]
        out._phi[...] = self._phi[rows]
        out.y[...] = self.y[rows]
        return out

    def _narrow_kwargs(self) -> dict:
        return {"backend": self.backend, "chars": self.chars,
                "runs": (self._layer_runs, self._window_runs, self._head_runs)}

    # ---------------------------------------------------------------- read-outs

    @property
    def phi(self) -> np.ndarray:
        return self._phi[:, 0]  # (B, U) view: copy before the next step

    def hidden(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """(h, c) of `layer` (0-based), copies, each (B, H)."""
        return self._h[layer].copy(), self.c[layer].copy()

    def window_vector(self) -> np.ndarray:
        """The window vector w_t (B, C) over the whole alphabet (eq. 47)."""
        out = np.zeros((self.B, self.C), np.float32)
        out[:, self.chars] = self._w[:, 0]
        return out

    def mixture(self) -> NumpyMixture:
        """The mixture of the next offset, from the last `step` (Graves 2013, eq. 18-22)."""
        pi_hat, rho_hat = self._pi_hat, self._rho_hat
        z = np.subtract(pi_hat, np.maximum.reduce(pi_hat, axis=1, keepdims=True))
        e = np.exp(z)
        cdf = np.add.accumulate(e, axis=1)
        log_pi = z
        log_pi -= np.log(cdf[:, -1:])  # log softmax
        log_sigma = self._log_sigma.copy()
        rho = np.tanh(rho_hat)
        np.minimum(rho, RHO_LIMIT, out=rho)
        np.maximum(rho, -RHO_LIMIT, out=rho)
        eos = np.tanh(self._eos_half)  # the eos column is halved: sigmoid(z) = (1 + tanh(z/2)) / 2
        eos *= 0.5
        eos += 0.5
        return NumpyMixture(log_pi, self._mu.copy(), log_sigma, np.exp(log_sigma), rho, eos, cdf)

    def sample(self, mix: NumpyMixture, rng: np.random.Generator | None,
               draws: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """One offset (B, 3) from `mix` (component, bivariate normal, Bernoulli end of stroke);
        it also becomes the input of the next `step`. `draws` (uniform (B, 2), standard normal
        (B, 2)) replaces the draws from `rng`: `random_draws`, of a wider batch."""
        rows, cdf = self._rows, mix.pi_cdf
        r, n = random_draws(rng, self.B) if draws is None else draws
        r, n = r.astype(np.float64), n.astype(np.float64)
        comp = np.add.reduce(cdf < r[:, :1] * cdf[:, -1:], axis=1)
        np.minimum(comp, self.M - 1, out=comp)
        rho = mix.rho[rows, comp]
        n[:, 1] *= np.sqrt(1 - rho * rho)
        n[:, 1] += rho * n[:, 0]
        out = np.empty((self.B, 3), np.float32)
        np.multiply(mix.sigma[rows, comp], n, out=out[:, :2], casting="same_kind")
        out[:, :2] += mix.mu[rows, comp]
        np.less(r[:, 1], mix.eos, out=out[:, 2], casting="unsafe")
        self._x[...] = out
        return out


def random_draws(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers one sampling step uses per row, in the order both engines draw them:
    uniform (rows, 2) for the mixture component and the end of stroke, standard normal
    (rows, 2) for the offset."""
    return rng.random((rows, 2)), rng.standard_normal((rows, 2))
