"""What a model process does before Numba's first compile or cache load, to start faster. Kept
apart from the engines so that the process that runs it (`remote._serve`) imports nothing else
of theirs first."""

from __future__ import annotations

import sys


def skip_blas_probe() -> None:
    """Numba's first compile or cache load imports its array registries, whose module
    `numba.np.arraymath` probes for BLAS by importing `scipy.linalg` (~0.4 s and ~20 MB in a
    model process, a third of its start). BLAS serves only `np.dot`-style calls inside compiled
    code, which these kernels do not make (their products are plain loops, the large ones run
    in NumPy outside Numba), so a model process imports the registries here with the probe
    answered "no BLAS". A no-op when the registries or SciPy are already loaded, or Numba is
    missing or laid out differently."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        from numba.np import linalg
    except ImportError:  # no Numba: the NumPy engines run, nothing to skip
        return
    real = getattr(linalg, "ensure_blas", None)
    if real is None:
        return

    def no_blas() -> None:
        raise ImportError("BLAS is not used by handwriting's compiled kernels")

    linalg.ensure_blas = no_blas
    try:
        from numba.np import arraymath
    finally:
        linalg.ensure_blas = real
    arraymath.ensure_blas = real  # a later caller that needs BLAS still imports SciPy
