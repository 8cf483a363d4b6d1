"""Read a file written by `torch.save` into NumPy arrays, without importing torch.

Why: the model processes only run the networks forward, in NumPy/Numba
(`models.numba_recognizer`, `models.numba_sampler`); importing torch just to read their weights
costs ~2 s and ~220 MB per process. A `torch.save` file is a zip: `<name>/data.pkl` (a
pickle whose tensors are persistent references to storages) and `<name>/data/<key>` (each
storage's raw little-endian bytes). The unpickler below allows only what our checkpoints hold
(dicts, lists, numbers, strings, `OrderedDict`, tensors rebuilt by `_rebuild_tensor_v2` from
typed storages), as `torch.load(weights_only=True)` does; anything else is refused."""

from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path

import numpy as np

# torch's storage classes and the dtypes they hold (what `torch.save` writes for each)
_STORAGES = {
    "HalfStorage": np.float16, "FloatStorage": np.float32, "DoubleStorage": np.float64,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_TORCH_NAMES = {np.dtype(np.float16): "torch.float16", np.dtype(np.float32): "torch.float32",
                np.dtype(np.float64): "torch.float64", np.dtype(np.int64): "torch.int64",
                np.dtype(np.int32): "torch.int32", np.dtype(np.int16): "torch.int16",
                np.dtype(np.int8): "torch.int8", np.dtype(np.uint8): "torch.uint8",
                np.dtype(np.bool_): "torch.bool"}


class PtFileError(ValueError):
    """Not a file `torch.save` wrote, or one holding more than plain data and tensors."""


def torch_dtype_name(dtype) -> str:
    """How torch prints the dtype these arrays hold ("torch.float16"): part of the digest."""
    try:
        return _TORCH_NAMES[np.dtype(dtype)]
    except KeyError:
        raise PtFileError(f"no torch dtype for {np.dtype(dtype)}") from None


class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None,
                       metadata=None):
    if not isinstance(storage, np.ndarray):
        raise PtFileError("a tensor without its storage")
    size, stride = tuple(size), tuple(stride)
    if not size:
        return storage[offset:offset + 1].reshape(()).copy()
    item = storage.itemsize
    extent = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) + 1
    if min(size) > 0 and extent > len(storage):
        raise PtFileError("a tensor reaches past its storage")
    view = np.lib.stride_tricks.as_strided(storage[offset:], size, [s * item for s in stride])
    return np.array(view)  # its own contiguous copy


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, archive: zipfile.ZipFile, prefix: str):
        super().__init__(fh)
        self._archive, self._prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGES:
            return _Storage(_STORAGES[name])
        raise PtFileError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Storage)):
            raise PtFileError(f"unknown persistent reference {str(pid)[:60]}")
        _, storage, key, _location, numel = pid
        try:
            raw = self._archive.read(f"{self._prefix}data/{key}")
        except KeyError:
            raise PtFileError(f"storage {key} is missing") from None
        data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
        if len(data) < numel:
            raise PtFileError(f"storage {key} is truncated")
        return data[:numel]


def read_pt(path: str | Path) -> object:
    """The object `torch.save` wrote to `path`, tensors as NumPy arrays."""
    try:
        with zipfile.ZipFile(path) as archive:
            pkl = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if len(pkl) != 1:
                raise PtFileError("no data.pkl inside")
            prefix = pkl[0][: -len("data.pkl")]
            order = f"{prefix}byteorder"
            if order in archive.namelist() and archive.read(order).strip() != b"little":
                raise PtFileError("big-endian tensors are not supported")
            with archive.open(pkl[0]) as fh:
                return _Unpickler(fh, archive, prefix).load()
    except PtFileError:
        raise
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, OSError, ValueError,
            TypeError, AttributeError, IndexError, KeyError, RecursionError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PtFileError(msg[:120]) from None
