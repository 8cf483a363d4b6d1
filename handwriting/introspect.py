"""Looking inside the networks: records the gates and cell states of every LSTM step and the
input-gradient saliency of the recognizer (Graves 2013, fig. 3-4; Karpathy et al. 2015).
The records themselves are plain data in `handwriting.traces`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from handwriting.models.recognizer import RecognizerNet, reverse_padded

# The plain results, drawn without torch, live in `traces` (import them from there).
from handwriting.traces import CellTrace, LayerTrace, RecognizerTrace, Saliency

# --------------------------------------------------------------------------- LSTM internals


@dataclass(frozen=True)
class LSTMTrace:
    """A `CellTrace` for a batch, as differentiable tensors, each (B, T, H)."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor
    c: torch.Tensor
    h: torch.Tensor

    def map(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> LSTMTrace:
        return LSTMTrace(*(fn(getattr(self, k.name)) for k in fields(self)))

    def line(self, b: int = 0, length: int | None = None) -> CellTrace:
        """Sequence `b` of the batch, cut to `length`, as numpy arrays (T, H)."""
        return CellTrace(*(getattr(self, k.name)[b, :length].detach().cpu().numpy()
                           for k in fields(self)))


class InstrumentedLSTM:
    """Runs a single-layer, unidirectional, batch-first `nn.LSTM` step by step with its own
    weight tensors (no copies), recording every gate. Autograd flows through it."""

    def __init__(self, lstm: nn.LSTM):
        if (lstm.num_layers != 1 or lstm.bidirectional or not lstm.batch_first
                or lstm.proj_size):
            raise ValueError("InstrumentedLSTM needs a single-layer, unidirectional, "
                             "batch-first nn.LSTM without projection")
        self.lstm = lstm

    def __call__(self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor] | None = None):
        """x (B, T, I); hc optional (h0, c0), each (1, B, H). Returns like `nn.LSTM` the
        outputs (B, T, H) and (h_n, c_n), each (1, B, H), plus an `LSTMTrace`."""
        lstm = self.lstm
        B, T, _ = x.shape
        h = x.new_zeros(B, lstm.hidden_size) if hc is None else hc[0][0]
        c = x.new_zeros(B, lstm.hidden_size) if hc is None else hc[1][0]
        xw = x @ lstm.weight_ih_l0.T  # (B, T, 4H): the input part of all steps at once
        if lstm.bias:
            xw = xw + (lstm.bias_ih_l0 + lstm.bias_hh_l0)
        steps = []
        for t in range(T):
            z = xw[:, t] + h @ lstm.weight_hh_l0.T  # (B, 4H), PyTorch's gate order i, f, g, o
            zi, zf, zg, zo = z.chunk(4, -1)
            i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
            c = f * c + i * g
            h = o * torch.tanh(c)
            steps.append((i, f, g, o, c, h))
        if T == 0:
            empty = x.new_zeros(B, 0, lstm.hidden_size)
            trace = LSTMTrace(*([empty] * 6))
        else:
            trace = LSTMTrace(*(torch.stack(s, 1) for s in zip(*steps, strict=True)))
        return trace.h, (h[None], c[None]), trace


# --------------------------------------------------------------------------- recognizer


@contextmanager
def _eval_mode(net: nn.Module) -> Iterator[None]:
    was_training = net.training
    net.eval()
    try:
        yield
    finally:
        net.train(was_training)


def _check_line(x: torch.Tensor, lengths) -> torch.Tensor:
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"expected features of shape (1, T, F), got {tuple(x.shape)}")
    if lengths is None:
        return torch.tensor([x.shape[1]])
    lengths = torch.as_tensor(lengths).reshape(-1)
    if lengths.shape != (1,) or not 1 <= int(lengths[0]) <= x.shape[1]:
        raise ValueError(f"lengths must hold one length in 1..{x.shape[1]}, got {lengths.tolist()}")
    return lengths


def _instrumented_forward(net: RecognizerNet, x: torch.Tensor, lengths: torch.Tensor):
    """`RecognizerNet.forward` (eval mode) with instrumented LSTMs: log-probs (B, T', K),
    output lengths (B,), and per layer the (forward, backward) `LSTMTrace`s."""
    h, out_lens = net.encode(x, lengths)  # (B, T', C)
    traces = []
    for layer in net.layers:
        out_f, _, tr_f = InstrumentedLSTM(layer.fwd)(h)  # (B, T', H)
        out_b, _, tr_b = InstrumentedLSTM(layer.bwd)(reverse_padded(h, out_lens))
        h = torch.cat([out_f, reverse_padded(out_b, out_lens)], -1)  # (B, T', 2H)
        traces.append((tr_f, tr_b.map(lambda t: reverse_padded(t, out_lens))))
    return net.head(h).log_softmax(-1), out_lens, traces


@torch.no_grad()
def record_recognizer(net: RecognizerNet, x: torch.Tensor, lengths=None) -> RecognizerTrace:
    """Gates and states of every layer and direction for one line: x (1, T, F) standardized
    features, lengths (1,) or None for all T. The log-probs equal `net(x, lengths)`'s."""
    lengths = _check_line(x, lengths)
    with _eval_mode(net):
        lp, out_lens, traces = _instrumented_forward(net, x, lengths)
    n = int(out_lens[0])
    layers = tuple(LayerTrace(f.line(0, n), b.line(0, n)) for f, b in traces)
    return RecognizerTrace(lp[0, :n].numpy(), layers, net.cfg.stride)


def _input_gradient(net: RecognizerNet, x: torch.Tensor, lengths, frame: int,
                    target: Callable) -> tuple[np.ndarray, np.ndarray, float]:
    """d target(log_probs (T', K), traces) / d x for one line x (1, T, F), by autograd."""
    lengths = _check_line(x, lengths)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), _eval_mode(net):
        lp, out_lens, traces = _instrumented_forward(net, x, lengths)
        if not 0 <= frame < int(out_lens[0]):
            raise ValueError(f"frame {frame} outside 0..{int(out_lens[0]) - 1}")
        value = target(lp[0], traces)
        (grad,) = torch.autograd.grad(value, x)  # parameters' .grad stay untouched
    g = grad[0].numpy()
    return g, np.linalg.norm(g, axis=-1), value.item()


def most_active_label(log_probs, frame: int) -> int:
    """The most probable non-blank class at `frame` of log-probs (T', K)."""
    return int(np.argmax(np.asarray(log_probs)[frame, 1:])) + 1


def saliency(net: RecognizerNet, x: torch.Tensor, lengths, frame: int,
             label: int | None = None) -> Saliency:
    """Which input points drive log p(label at frame); x (1, T, F) standardized features.
    Without a label: the most active character there (argmax over non-blank classes)."""
    if label is not None and not 0 <= label < net.cfg.n_classes:
        raise ValueError(f"label {label} outside 0..{net.cfg.n_classes - 1}")

    def target(lp, _):
        nonlocal label
        if label is None:
            label = most_active_label(lp.detach(), frame)
        return lp[frame, label]

    g, mag, value = _input_gradient(net, x, lengths, frame, target)
    return Saliency(g, mag, frame, value, label)


def char_saliency(net: RecognizerNet, x: torch.Tensor, lengths, labels, char_frames,
                  index: int) -> Saliency:
    """Saliency of character `index` of a decoded result given its class `labels` (1..K-1)
    and the frames it was emitted at (`Hypothesis.char_frames`)."""
    if not 0 <= index < len(labels) or len(labels) != len(char_frames):
        raise ValueError(f"character index {index} outside 0..{len(labels) - 1} "
                         f"(or {len(labels)} labels but {len(char_frames)} frames)")
    return saliency(net, x, lengths, int(char_frames[index]), int(labels[index]))


def cell_saliency(net: RecognizerNet, x: torch.Tensor, lengths, layer: int, direction: str,
                  unit: int, frame: int) -> Saliency:
    """Which input points drive the cell state c of one unit at `frame`."""
    if direction not in ("fwd", "bwd"):
        raise ValueError(f"direction must be 'fwd' or 'bwd', got {direction!r}")
    d = 0 if direction == "fwd" else 1
    g, mag, value = _input_gradient(net, x, lengths, frame,
                                    lambda _, tr: tr[layer][d].c[0, frame, unit])
    return Saliency(g, mag, frame, value)


# --------------------------------------------------------------------------- synthesizer


# --------------------------------------------------------------------------- colour


