"""Self-describing checkpoints (nanoGPT stores `model_args`): weights plus everything needed
to use them (config, alphabet, feature normalization, format version, data, metrics).
Written atomically; read with `weights_only=True`; every failure is one line naming the file.

Two readers: `load_checkpoint` (torch tensors, for training and the torch models) and
`read_checkpoint` (NumPy arrays, without importing torch: what the model processes use, so
that they start in a fraction of torch's ~2 s import and ~220 MB; see `handwriting.ptfile`).
This module imports torch only inside the functions that need it."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import os
import tempfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1

# What each kind of checkpoint must hold besides its weights, so a crafted or truncated
# file fails at load with a line naming the file, not later with a KeyError.
REQUIRED_KEYS = {
    "recognizer": ("model_config", "feature_config", "standardizer", "alphabet"),
    "synthesizer": ("model_config", "feature_config", "offset_scale", "alphabet"),
}
MAX_CONFIG_INT = 1_000_000  # no size, count or length in any config comes near this


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or of the wrong kind or version."""


def weights_digest(state_dict: dict) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order: stored at
    save and checked at load, so flipped bytes inside the weights are found."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}|{t.dtype}|{tuple(state_dict[name].shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def array_digest(state: dict[str, np.ndarray]) -> str:
    """`weights_digest` of the same weights held as NumPy arrays (`read_checkpoint`)."""
    from handwriting.ptfile import torch_dtype_name

    h = hashlib.sha256()
    for name in sorted(state):
        a = state[name]
        h.update(f"{name}|{torch_dtype_name(a.dtype)}|{tuple(a.shape)}|".encode())
        h.update(a.tobytes())  # C order, as torch's contiguous copy
    return h.hexdigest()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temps(path: str | Path) -> None:
    """Delete temporary files a killed save of `path` left behind (they can be 100s of MB)."""
    path = Path(path)
    for tmp in path.parent.glob(f"{path.name}*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def save_checkpoint(payload: dict, path: str | Path) -> None:
    """Write `payload` atomically and durably: the data is fsynced before the rename and
    the folder after it, so a crash or power cut leaves the old file or the new one, never
    a truncated one. The weights' digest is stored beside them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    payload = {k: v for k, v in payload.items() if k not in ("format_version", "weights_sha256")}
    if "state_dict" in payload:
        payload["weights_sha256"] = weights_digest(payload["state_dict"])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        import torch

        with os.fdopen(fd, "wb") as fh:
            torch.save({"format_version": FORMAT_VERSION, **payload}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; weights are meant to be shared
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, kind: str | None = None, map_location="cpu") -> dict:
    """Load a checkpoint dict safely; check its `kind` ('recognizer' or 'synthesizer')."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({msg[:120]})") from None
    _check_structure(ckpt, path, kind)
    _check_weights(ckpt, path)
    return ckpt


def read_checkpoint(path: str | Path, kind: str | None = None) -> dict:
    """`load_checkpoint` without torch: the same checks (kind, version, keys, checksum,
    finite weights), with the weights as NumPy arrays of their stored dtype."""
    from handwriting.ptfile import PtFileError, read_pt

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = read_pt(path)
    except PtFileError as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    _check_structure(ckpt, path, kind)
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise CheckpointError(f"{path}: weights are not a dict of tensors")
    expected = ckpt.get("weights_sha256")
    if expected is not None and array_digest(state) != expected:
        raise CheckpointError(f"{path}: weights do not match their checksum (corrupt file?)")
    for name, a in state.items():
        if a.dtype.kind == "f" and not bool(np.isfinite(a).all()):
            raise CheckpointError(f"{path}: weight {name} holds NaN or infinite values")
    return ckpt


def _check_structure(ckpt, path: Path, kind: str | None) -> None:
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{path}: not a handwriting checkpoint (no weights)")
    version = ckpt.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, expected {FORMAT_VERSION}")
    if kind is not None and ckpt.get("kind") != kind:
        raise CheckpointError(f"{path}: a {ckpt.get('kind')!r} checkpoint, expected {kind!r}")
    missing = [k for k in REQUIRED_KEYS.get(ckpt.get("kind"), ()) if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(missing)}")


def _check_weights(ckpt: dict, path: Path) -> None:
    import torch

    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: weights are not a dict of tensors")
    expected = ckpt.get("weights_sha256")  # absent in checkpoints saved before it existed
    if expected is not None and weights_digest(state) != expected:
        raise CheckpointError(f"{path}: weights do not match their checksum (corrupt file?)")
    for name, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: weight {name} holds NaN or infinite values")


def config_from(path, cls, values, section: str = "model_config"):
    """`cls(**values)` for a config dataclass read from checkpoint `path`, with every value
    checked first: a missing section, an unknown key, a value of the wrong type, NaN, or an
    absurd size (`hidden=1e9`) is a `CheckpointError` naming the file and the key. Keys the
    checkpoint lacks take the class defaults (older checkpoints predate them)."""
    if not isinstance(values, dict):
        raise CheckpointError(f"{path}: {section} must be a dict, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise CheckpointError(f"{path}: {section} has unknown keys {', '.join(unknown)}")
    for key, value in values.items():
        default = fields[key].default
        where = f"{path}: {section}.{key} = {value!r}"
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise CheckpointError(f"{where} is not true/false")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise CheckpointError(f"{where} is not an integer")
            if not 0 <= value <= MAX_CONFIG_INT:
                raise CheckpointError(f"{where} is out of range (0 to {MAX_CONFIG_INT})")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CheckpointError(f"{where} is not a number")
            if not math.isfinite(value) or abs(value) > MAX_CONFIG_INT:
                raise CheckpointError(f"{where} is not a finite number in range")
    return cls(**values)


def export_weights(ckpt: dict, path: str | Path, half: bool = True) -> None:
    """Strip training state (optimizer, RNG, trainer) and optionally store weights in fp16."""
    keep = {k: v for k, v in ckpt.items()
            if k not in ("optimizer", "rng", "rng_per_rank", "trainer", "format_version")}
    if half:
        keep["state_dict"] = {
            k: v.half() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    save_checkpoint(keep, path)  # the digest is recomputed over the fp16 weights
