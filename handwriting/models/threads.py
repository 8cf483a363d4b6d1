"""Scoped single-threaded matrix products, for NumPy's bundled OpenBLAS and for torch: what
the sampling and recognition engines run their small products under (see `_SingleThread`)."""

from __future__ import annotations

import ctypes
import glob
import os
import threading

import numpy as np


class _SingleThread:
    """Scoped single-threaded matrix products: at these sizes (a gemv, or a gemm with a few
    rows) one thread is as fast as several, and a second thread fighting other processes for
    a core costs 3-5x. Re-entrant and shared between threads: the first user saves the
    thread count, the last one restores it, so the global setting never stays changed."""

    def __init__(self, get, set_):
        self._get, self._set = get, set_
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 1

    def enter(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = self._get()
                if self._saved != 1:
                    self._set(1)
            self._users += 1

    def exit(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._saved != 1:
                self._set(self._saved)

    def current(self) -> int:
        return self._get()


def _numpy_openblas() -> tuple | None:
    """get/set thread count of NumPy's bundled OpenBLAS (what threadpoolctl would find), or
    None for another BLAS (then NumPy's threads are left alone)."""
    here = os.path.dirname(np.__file__)
    for path in glob.glob(os.path.join(here, "..", "numpy.libs", "*openblas*")) + glob.glob(
            os.path.join(here, ".dylibs", "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for pre, suf in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                         ("openblas", "")):
            get = getattr(lib, f"{pre}_get_num_threads{suf}", None)
            set_ = getattr(lib, f"{pre}_set_num_threads{suf}", None)
            if get is not None and set_ is not None:
                get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                return get, set_
    return None


_blas = _numpy_openblas()
NUMPY_ONE_THREAD = _SingleThread(*_blas) if _blas else _SingleThread(lambda: 1, lambda n: None)
_torch_one_thread: _SingleThread | None = None


def torch_one_thread() -> _SingleThread:
    """`_SingleThread` for torch's threads (imported on first use: the model processes, which
    sample with NumPy and Numba only, never load it)."""
    global _torch_one_thread
    if _torch_one_thread is None:
        import torch

        _torch_one_thread = _SingleThread(torch.get_num_threads, torch.set_num_threads)
    return _torch_one_thread
