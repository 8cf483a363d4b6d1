"""The torch side of a service: its network built from a checkpoint's weights, on first use
(`service.Recognizer.net`, `service.Synthesizer.net`). Imports torch only when called, so
that the services themselves load and run without it."""

from __future__ import annotations

import numpy as np

from handwriting.checkpoint import CheckpointError


def _torch_state(state: dict) -> dict:
    """A state dict of NumPy arrays or tensors as float32 (or integer) tensors."""
    import torch

    out = {}
    for k, v in state.items():
        t = v if isinstance(v, torch.Tensor) else torch.from_numpy(np.array(v))
        out[k] = t.float() if t.is_floating_point() else t
    return out


def load_torch_net(make_net, state: dict, path):
    """The network `make_net()` builds, with the checkpoint's (possibly fp16) weights, in eval
    mode. Its shapes are compared on torch's "meta" device first, which allocates nothing,
    so a config that does not fit its weights (say `hidden=100000`) is a one-line
    `CheckpointError` naming the file, not gigabytes allocated and then a traceback."""
    import torch

    state = _torch_state(state)
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in make_net().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    if shapes != theirs:
        bad = sorted(k for k in shapes.keys() | theirs.keys() if shapes.get(k) != theirs.get(k))
        raise CheckpointError(f"{path}: weights do not match the config (first mismatch: "
                              f"{bad[0]}, config {shapes.get(bad[0])}, weights "
                              f"{theirs.get(bad[0])})")
    net = make_net()
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not match the config ({first})") from None
    return net.eval()


def set_torch_threads(threads: int | None) -> None:
    """torch's intra-op threads for this process (None: torch's default)."""
    if threads:
        import torch

        torch.set_num_threads(threads)
