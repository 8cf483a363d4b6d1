"""Self-describing checkpoints (nanoGPT stores `model_args`): weights plus everything needed
to use them (config, alphabet, feature normalization, format version, data, metrics).
Written atomically; read with `weights_only=True`; every failure is one line naming the file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or of the wrong kind or version."""


def save_checkpoint(payload: dict, path: str | Path) -> None:
    """Write `payload` atomically: a crash mid-write never leaves a truncated file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format_version": FORMAT_VERSION, **payload}, fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; weights are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path, kind: str | None = None,
                    map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint dict safely; check its `kind` ('recognizer' or 'synthesizer')."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({msg[:120]})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{path}: not a handwriting checkpoint (no weights)")
    version = ckpt.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, expected {FORMAT_VERSION}")
    if kind is not None and ckpt.get("kind") != kind:
        raise CheckpointError(f"{path}: a {ckpt.get('kind')!r} checkpoint, expected {kind!r}")
    return ckpt


def export_weights(ckpt: dict, path: str | Path, half: bool = True) -> None:
    """Strip training state (optimizer, RNG, trainer) and optionally store weights in fp16."""
    keep = {k: v for k, v in ckpt.items()
            if k not in ("optimizer", "rng", "rng_per_rank", "trainer", "format_version")}
    if half:
        keep["state_dict"] = {
            k: v.half() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    save_checkpoint(keep, path)
