"""Weights as IEEE halves in the compiled steps (`numba_sampler`, `numba_recognizer`).

The shipped checkpoints store fp16 weights. Widened to float32 on load they cost 4 bytes a
weight every time a step streams them; kept as halves (their bits, uint16) and widened inside
the product (`as_f32`: LLVM's `fpext half`, one F16C `vcvtph2ps` per 8 weights on x86) they
cost 2, for exactly the same products: a widened half is the float32 it stood for.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # the compiled steps are optional; so is this
    numba = None


def _define_as_f32():
    """`as_f32(w)`: a weight as float32; float32 as it is, uint16 as the bits of an IEEE half
    (LLVM's `fpext half to float`, which vectorizes into F16C's `vcvtph2ps`)."""
    if numba is None:
        return np.float32  # the pure-Python fallback never sees halves (`half_if_exact`)
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _as_f32(typingctx, w):  # noqa: ARG001 - numba's signature
        if isinstance(w, types.Float) and w.bitwidth == 32:
            return types.float32(w), lambda context, builder, sig, args: args[0]
        if isinstance(w, types.Integer) and w.bitwidth == 16 and not w.signed:
            def codegen(context, builder, sig, args):
                return builder.fpext(builder.bitcast(args[0], ir.HalfType()), ir.FloatType())

            return types.float32(w), codegen
        return None

    return _as_f32


as_f32 = _define_as_f32()


def halves_supported() -> bool:
    """Whether this CPU widens halves in one instruction (x86 with F16C; ARM64 always). Where
    it does not, LLVM would call a runtime helper Numba may not link: float32 it is."""
    import platform

    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return True
    if machine not in ("x86_64", "amd64"):
        return False
    from llvmlite import binding

    return bool(binding.get_host_cpu_features().get("f16c", False))


_HALVES = numba is not None and halves_supported()


def half_if_exact(w: np.ndarray) -> np.ndarray:
    """`w` (float32) as IEEE halves (their bits, uint16; what `_matvec` reads as halves) when
    every value is exactly a half, as in weights from an fp16 checkpoint, and the CPU widens
    halves (`halves_supported`); else `w` itself. The products are then the same as with `w`,
    from half the bytes."""
    if numba is None or w.dtype != np.float32 or not _HALVES:
        return w
    with np.errstate(over="ignore"):
        h = w.astype(np.float16)
    return h.view(np.uint16) if np.array_equal(h.astype(np.float32), w) else w


def unhalved(w: np.ndarray) -> np.ndarray:
    """A copy of gate columns (n, 4H) in i, f, o, g order with the i, f, o halving undone (x2,
    exact): the layout the compiled step reads (it halves inside its sigmoid)."""
    out = w.copy()
    out[:, : 3 * (w.shape[1] // 4)] *= 2
    return out
