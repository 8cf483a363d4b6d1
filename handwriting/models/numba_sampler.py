"""The synthesizer's sampling step compiled with Numba: the whole Graves (2013) §5 step (three
LSTM layers, soft window, mixture head) plus the mixture read-out and the draw of the next
pen offset in ONE compiled call, and a chunk of such steps in one call (`sample_steps`): what
`engine="auto"` runs when Numba is installed (`synthesis.choose_engine`). For many rows (over
`ROW_KERNEL_MAX_ROWS`: a self-checked paragraph's lines x candidates) each product is instead
one matrix product of all rows, the NumPy engine's, and the rest of the step stays compiled
(`JitSynthesisStep._run_products`).

Why: at batch 1 the NumPy engine (`numpy_sampler`) spends about half of each step in ~90
ufunc calls of ~1 us each, on vectors of a few hundred numbers; here that overhead is gone
and what is left is streaming the float32 weights once per step. The layout, weights and
random draws are `NumpySynthesisStep`'s, so both engines sample the same offsets for one
seed (up to float rounding). Compiled code is cached on disk (`cache=True`), so only the
first use on a machine pays the ~5-10 s compile; `warm_up()` does it ahead of time.

Half-precision weights: the LSTM layers' matrices of an fp16 checkpoint are streamed as IEEE
halves, widened in the product (`halves`): half the bytes, the same products.
"""

from __future__ import annotations

import numpy as np

from handwriting.models.configs import RHO_LIMIT, SynthesizerConfig
from handwriting.models.halves import as_f32, unhalved
from handwriting.models.numpy_sampler import (
    FastWeights,
    NumpyMixture,
    NumpySynthesisStep,
    random_draws,
    synthesizer_shapes,
)
from handwriting.models.threads import NUMPY_ONE_THREAD

try:
    import numba
except ImportError:  # an optional speed-up: the NumPy engine does the same work
    numba = None


def available() -> bool:
    """Whether this engine can run (Numba is importable)."""
    return numba is not None


def _njit(fn):
    # error_model="numpy": no zero-division checks, which would stop LLVM from vectorizing
    return numba.njit(fn, cache=True, fastmath=True, boundscheck=False, error_model="numpy",
                      nogil=True) if numba is not None else fn


# float32 tanh as a rational function (Eigen's `generic_fast_tanh_float`, within 3e-7 of
# tanh): unlike libm's tanhf it vectorizes, and it is most of a step's arithmetic.
A1, A3, A5, A7, A9, A11, A13 = (np.float32(v) for v in (
    4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
    -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16))
B0, B2, B4, B6 = (np.float32(v) for v in (
    4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06))
TANH_CLAMP = np.float32(7.90531110763549805)
HALF = np.float32(0.5)


@_njit
def _tanh(x):
    x = min(max(x, -TANH_CLAMP), TANH_CLAMP)
    x2 = x * x
    p = ((((((x2 * A13 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x
    return p / (((x2 * B6 + B4) * x2 + B2) * x2 + B0)


@_njit
def _matvec(s, w, out):
    """out = s @ w for a row s (K,) and w (K, N), float32 or halves (`halves.half_if_exact`):
    rows four at a time, so `out` is loaded and stored once per four rows (the loop over N
    vectorizes)."""
    K, N = w.shape
    for n in range(N):
        out[n] = 0.0
    K4 = K - K % 4
    for k in range(0, K4, 4):
        s0, s1, s2, s3 = s[k], s[k + 1], s[k + 2], s[k + 3]
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        for n in range(N):
            out[n] += ((s0 * as_f32(w0[n]) + s1 * as_f32(w1[n]))
                       + (s2 * as_f32(w2[n]) + s3 * as_f32(w3[n])))
    for k in range(K4, K):
        sk, wk = s[k], w[k]
        for n in range(N):
            out[n] += sk * as_f32(wk[n])


@_njit
def _cell(G, c, h, gate_scale):
    """An LSTM cell update from its gate pre-activations G (4H,) in i, f, o, g order, i, f, o
    multiplied by `gate_scale` first (1/2 where they are not halved yet):
    sigmoid(z) = (1 + tanh(z / 2)) / 2 (Graves 2013, eq. 7-11); c and h (H,) in place."""
    H = len(c)
    for n in range(H):
        i = HALF + HALF * _tanh(gate_scale * G[n])
        f = HALF + HALF * _tanh(gate_scale * G[H + n])
        o = HALF + HALF * _tanh(gate_scale * G[2 * H + n])
        c[n] = f * c[n] + i * _tanh(G[3 * H + n])  # eq. 9
        h[n] = o * _tanh(c[n])  # eq. 11


@_njit
def _attend(z, kappa, phi, text, mask, w):
    """The soft window from its parameters z (3K,) (eq. 48, exponentiated here in place,
    eq. 49-51): kappa (K,) moves on, phi (U,) and the window vector w (C,) written (eq. 46-47)."""
    K = len(kappa)
    for k in range(3 * K):
        z[k] = np.exp(z[k])
    for k in range(K):
        kappa[k] += z[2 * K + k]
    for u in range(len(phi)):
        acc = np.float32(0.0)
        for k in range(K):
            d = kappa[k] - np.float32(u)
            acc += z[k] * np.exp(-z[K + k] * d * d)
        phi[u] = acc * mask[u]
    for m in range(len(w)):
        acc = np.float32(0.0)
        for u in range(len(phi)):
            acc += phi[u] * text[u, m]
        w[m] = acc


@_njit
def _mix_draw(y, log_pi, mu, sigma, rho, cdf, uniform, normal, x, draw):
    """The mixture of one row from the head's output y (6M + 1,) (eq. 18-22, bias applied, the
    eos column halved) into log_pi, mu, sigma, rho, cdf; returns eos; with `draw`, the
    sampled offset written into x (3,)."""
    M = len(log_pi)
    top = y[0]
    for m in range(1, M):
        top = max(top, y[m])
    total = np.float32(0.0)
    for m in range(M):
        total += np.exp(y[m] - top)
        cdf[m] = total
    log_total = np.log(total)
    for m in range(M):
        log_pi[m] = y[m] - top - log_total
        rho[m] = min(max(_tanh(y[5 * M + m]), -RHO_LIMIT), RHO_LIMIT)
        for d in range(2):
            mu[m, d] = y[M + d * M + m]
            sigma[m, d] = np.exp(y[3 * M + d * M + m])
    eos = HALF + HALF * _tanh(y[6 * M])
    if draw:
        comp = 0  # the component: first m whose cumulative weight passes u * total
        while comp < M - 1 and cdf[comp] < uniform[0] * total:
            comp += 1
        r = rho[comp]
        n0, n1 = normal[0], normal[1]
        n1 = n1 * np.sqrt(np.float32(1.0) - r * r) + r * n0
        x[0] = sigma[comp, 0] * n0 + mu[comp, 0]
        x[1] = sigma[comp, 1] * n1 + mu[comp, 1]
        x[2] = np.float32(1.0) if uniform[1] < eos else np.float32(0.0)
    return eos


@_njit
def _kernel(S, spans, layer_w, layer_b, window_w, head_w, h_at, w_at, c, kappa, phi, text,
            mask, G, z, y, log_pi, mu, sigma, rho, eos, cdf, uniform, normal, x_at, mode):
    """One step for every row b of S, a matrix-vector product per row; mode 0: network only
    (priming), 1: + mixture, 2: + mixture and the sampled offset written into S's x slot
    (the next input).

    S (B, width) = [h1 | 1 | x | w | h2 | ... | hL]; spans (L + 2, 2) the S columns each
    product reads (layers, window, head); layer_w the layers' (span, 4H) matrices (float32 or
    halves) with their bias rows zero and layer_b (L, 4H) those biases; window_w and head_w
    the window's and head's float32 matrices, biases in their rows."""
    L, _, H = c.shape
    n_w = text.shape[2]
    for b in range(S.shape[0]):
        s = S[b]
        for j in range(L):
            _matvec(s[spans[j, 0]:spans[j, 1]], layer_w[j], G)  # gates (Graves 2013, eq. 7-10)
            for n in range(4 * H):
                G[n] += layer_b[j, n]
            _cell(G, c[j, b], s[h_at[j]:h_at[j] + H], HALF)
            if j == 0:  # the window reads the first layer (eq. 46-51)
                _matvec(s[spans[L, 0]:spans[L, 1]], window_w, z)
                _attend(z, kappa[b], phi[b], text[b], mask[b], s[w_at:w_at + n_w])
        if mode == 0:
            continue
        _matvec(s[spans[L + 1, 0]:spans[L + 1, 1]], head_w, y)  # eq. 17, bias applied
        eos[b] = _mix_draw(y, log_pi[b], mu[b], sigma[b], rho[b], cdf[b], uniform[b],
                           normal[b], s[x_at:x_at + 3], mode == 2)


@_njit
def _kernel_steps(S, spans, layer_w, layer_b, window_w, head_w, h_at, w_at, c, kappa, phis,
                  text, mask, G, z, y, log_pi, mu, sigma, rho, eos, cdf, uniform, normal, x_at,
                  xs, kappas):
    """`_kernel` in mode 2 for each step t of a chunk, with step t's draws and its own output
    rows (phis, log_pi, ..., eos [t]); the offsets and window positions copied to xs, kappas."""
    for t in range(xs.shape[0]):
        _kernel(S, spans, layer_w, layer_b, window_w, head_w, h_at, w_at, c, kappa, phis[t],
                text, mask, G, z, y, log_pi[t], mu[t], sigma[t], rho[t], eos[t], cdf,
                uniform[t], normal[t], x_at, 2)
        for b in range(S.shape[0]):
            xs[t, b, :] = S[b, x_at:x_at + 3]
            kappas[t, b, :] = kappa[b]


@_njit
def _cells(G, c, S, h_at):
    """`_cell` for every row: G (B, 4H) with i, f, o already halved (the NumPy layout)."""
    H = c.shape[1]
    for b in range(S.shape[0]):
        _cell(G[b], c[b], S[b, h_at:h_at + H], np.float32(1.0))


@_njit
def _attend_rows(z, kappa, phi, text, mask, S, w_at):
    """`_attend` for every row, the window vectors written into S at column `w_at`."""
    n_w = text.shape[2]
    for b in range(S.shape[0]):
        _attend(z[b], kappa[b], phi[b], text[b], mask[b], S[b, w_at:w_at + n_w])


@_njit
def _mix_draw_rows(y, log_pi, mu, sigma, rho, eos, cdf, uniform, normal, S, x_at, draw):
    """`_mix_draw` for every row, the offsets drawn written into S at column `x_at`."""
    for b in range(S.shape[0]):
        eos[b] = _mix_draw(y[b], log_pi[b], mu[b], sigma[b], rho[b], cdf[b], uniform[b],
                           normal[b], S[b, x_at:x_at + 3], draw)


# Up to this many rows a step is a matrix-vector product per row (`_kernel`); more rows share
# each weight in one matrix product (`JitSynthesisStep._run_products`). Measured per step on
# this CPU (fp16 weights): 3 rows 0.49 ms one by one; 9 rows 0.83 ms one by one, ~0.68 ms in
# the products alone; 18 rows 1.84 ms one by one, 1.22 ms in the products.
ROW_KERNEL_MAX_ROWS = 8


def _layer_weights(layer_runs, one: int, halves: bool) -> tuple[tuple[np.ndarray, ...],
                                                                  np.ndarray]:
    """The layers' matrices as the kernel reads them: the i, f, o halving undone (`unhalved`:
    the kernel halves in its sigmoid, and the checkpoint's halves stay halves) and the bias
    row (S column `one`) taken out, as halves when `halves` (`FastWeights.half_exact`) else
    float32; and the biases (L, 4H), float32 (each a sum of two fp16 biases: seldom a half)."""
    mats, biases = [], []
    for runs in layer_runs:
        a, b, w = runs[0]
        if not a <= one < b:
            raise ValueError("every layer's span must read the constant 1 (its bias row)")
        w = unhalved(w)
        biases.append(w[one - a].copy())
        w[one - a] = 0.0
        mats.append(w.astype(np.float16).view(np.uint16) if halves else w)
    return tuple(mats), np.stack(biases)


class JitSynthesisStep(NumpySynthesisStep):
    """`NumpySynthesisStep` whose `step`, `mixture` and `sample` run as one compiled call."""

    def __init__(self, weights: FastWeights, text: np.ndarray, mask: np.ndarray,
                 bias: float = 0.0, chars: np.ndarray | None = None, layer_weights=None,
                 runs: tuple | None = None):
        if numba is None:
            raise RuntimeError("the 'jit' engine needs Numba: pip install numba")
        super().__init__(weights, text, mask, bias, backend="numpy", chars=chars, runs=runs)
        B, M, L = self.B, self.M, self.L
        products = [*self._layer_runs, self._window_runs, self._head_runs]
        if any(len(runs) != 1 for runs in products):
            raise ValueError("every product must read one contiguous span of S")
        self._spans = np.array([runs[0][:2] for runs in products], np.int64)
        # the row kernel's layer matrices (`_layer_weights`, ~4 ms): made when first needed,
        # and shared with the narrowed steps of the same text (`layer_weights`)
        self._layer_wb = layer_weights
        self._window_w, self._head_w = self._window_runs[0][2], self._head_runs[0][2]
        self._h_at = np.array([self._pos[f"h{j + 1}"][0] for j in range(L)], np.int64)
        self._w_at = self._pos["w"][0]
        self._x_at = self._pos["x"][0]
        self._mask_full = (np.ones((B, self.U), np.float32) if self._mask is None
                           else np.ascontiguousarray(self._mask[:, 0]))
        self._out = (np.zeros((B, M), np.float32), np.zeros((B, M, 2), np.float32),
                     np.zeros((B, M, 2), np.float32), np.zeros((B, M), np.float32),
                     np.zeros(B, np.float32), np.zeros((B, M), np.float32))
        self._no_draw = np.zeros((B, 2), np.float32)

    def _run(self, mode: int, uniform=None, normal=None) -> None:
        uniform = self._no_draw if uniform is None else uniform
        normal = self._no_draw if normal is None else normal
        if self.B > ROW_KERNEL_MAX_ROWS:
            self._run_products(mode, uniform, normal)
            return
        # phi is the base class's buffer (so `phi` reads it); row 0 of G, z, y is scratch
        layer_w, layer_b = self.layer_weights()
        _kernel(self.S, self._spans, layer_w, layer_b, self._window_w, self._head_w,
                self._h_at, self._w_at, self.c, self.kappa, self._phi[:, 0], self._text,
                self._mask_full, self._G[0], self._z[0], self.y[0], *self._out, uniform,
                normal, self._x_at, mode)

    def _run_products(self, mode: int, uniform, normal) -> None:
        """The step for many rows: each product one matrix product of all rows (BLAS, the
        NumPy engine's, which reads each weight once for all of them), the rest compiled."""
        NUMPY_ONE_THREAD.enter()
        try:
            for j in range(self.L):
                self._layers[j]()  # the NumPy layout: i, f, o halved, biases in the product
                _cells(self._G, self.c[j], self.S, self._h_at[j])
                if j == 0:
                    self._window()
                    _attend_rows(self._z, self.kappa, self._phi[:, 0], self._text,
                                 self._mask_full, self.S, self._w_at)
            if mode:
                self._head()
                log_pi, mu, sigma, rho, eos, cdf = self._out
                _mix_draw_rows(self.y, log_pi, mu, sigma, rho, eos, cdf, uniform, normal,
                               self.S, self._x_at, mode == 2)
        finally:
            NUMPY_ONE_THREAD.exit()

    def step(self, x: np.ndarray | None = None, head: bool = True) -> None:
        if x is not None:
            self._x[...] = x
        self._run(1 if head else 0)

    def layer_weights(self) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """The row kernel's layer matrices and biases (`_layer_weights`)."""
        if self._layer_wb is None:
            self._layer_wb = _layer_weights(self._layer_runs, self._pos["one"][0],
                                            self._args[0].half_exact)
        return self._layer_wb

    def _narrow_kwargs(self) -> dict:
        kwargs = super()._narrow_kwargs() | {"layer_weights": self._layer_wb}
        del kwargs["backend"]  # always NumPy's products here
        return kwargs

    def step_sample(self, rng: np.random.Generator | None, x: np.ndarray | None = None,
                    draws: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """`step(x)` + `sample` in one call, with the NumPy engine's draws (or `draws`, as
        `NumpySynthesisStep.sample` takes them): the next offset (B, 3), also left in place as
        the next step's input (x None: the last one)."""
        if x is not None:
            self._x[...] = x
        uniform, normal = random_draws(rng, self.B) if draws is None else draws
        self._run(2, np.ascontiguousarray(uniform, np.float32),
                  np.ascontiguousarray(normal, np.float32))
        return self._x.copy()

    def sample_steps(self, uniform: np.ndarray, normal: np.ndarray,
                     x: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """`step_sample` for n steps at once, step t with the draws uniform[t], normal[t]
        (n, B, 2), from the offset x (B, 3) (None: the last one): what each step gave, as
        arrays (n, B, ...): the offsets, phi, kappa, eos, log_pi, mu, sigma, rho. Up to
        `ROW_KERNEL_MAX_ROWS` rows one compiled call, so a step costs no Python at all."""
        if x is not None:
            self._x[...] = x
        n, B = uniform.shape[:2]
        uniform, normal = (np.ascontiguousarray(a, np.float32) for a in (uniform, normal))
        xs, phis, kappas = (np.empty((n, B, k), np.float32) for k in (3, self.U, self.K))
        log_pi, mu, sigma, rho = (np.empty((n, *a.shape), np.float32) for a in self._out[:4])
        eos = np.empty((n, B), np.float32)
        if B > ROW_KERNEL_MAX_ROWS:
            for t in range(n):
                self._run(2, uniform[t], normal[t])
                xs[t], phis[t], kappas[t] = self._x, self._phi[:, 0], self.kappa
                for out, a in zip((log_pi, mu, sigma, rho, eos), self._out[:5], strict=True):
                    out[t] = a
        else:
            layer_w, layer_b = self.layer_weights()
            _kernel_steps(self.S, self._spans, layer_w, layer_b, self._window_w, self._head_w,
                          self._h_at, self._w_at, self.c, self.kappa, phis, self._text,
                          self._mask_full, self._G[0], self._z[0], self.y[0], log_pi, mu, sigma,
                          rho, eos, self._out[5], uniform, normal, self._x_at, xs, kappas)
            self._phi[:, 0] = phis[-1]  # the last step's, as `step` leaves them
            for a, out in zip(self._out[:5], (log_pi, mu, sigma, rho, eos), strict=True):
                a[...] = out[-1]
        return xs, phis, kappas, eos, log_pi, mu, sigma, rho

    def mixture(self) -> NumpyMixture:
        log_pi, mu, sigma, rho, eos, cdf = (a.copy() for a in self._out)
        return NumpyMixture(log_pi, mu, np.log(sigma), sigma, rho, eos, cdf)


def warm_up(weights: FastWeights | None = None) -> None:
    """Compile (or load from the on-disk cache) the kernel for these weights' shapes (default:
    a tiny network of the default depth), so the first real sampling call does not pay."""
    if numba is None:
        return
    if weights is None:
        weights = _tiny_weights()
    text = np.zeros((1, 2, weights.n_chars), np.float32)
    text[0, 0, 1] = 1
    step = JitSynthesisStep(weights, text, np.ones((1, 2), np.float32))
    step.step(None, head=False)  # priming; sampling runs in chunks (`sample_steps`)
    step.sample_steps(np.full((2, 1, 2), 0.5), np.zeros((2, 1, 2)))


def _tiny_weights() -> FastWeights:
    cfg = SynthesizerConfig(n_chars=4, hidden=4, mixtures=2, window_gaussians=2)
    rng = np.random.default_rng(0)
    return FastWeights.from_state({k: rng.normal(0, 0.1, v).astype(np.float32)
                                   for k, v in synthesizer_shapes(cfg).items()}, cfg)
