"""Bidirectional LSTM + CTC recognizer (Graves et al. 2009) with a strided-convolution front-end.

The front-end shortens the sequence 4x (two stride-2 convolutions) before the LSTMs: the
~18 resampled points per character become ~4.5 frames, which is still enough for CTC's
blanks between repeated letters, and makes each step ~4x cheaper. Shorter sequences also
shorten the path gradients travel, which ends the long "blank only" plateau sooner.
"""

from __future__ import annotations

import torch
from torch import nn

from handwriting.models.configs import RecognizerConfig


class ConvFrontEnd(nn.Module):
    """Conv1d -> BatchNorm -> GELU, stride 2, `conv_layers` times: (B, T, F) -> (B, T/4, C)."""

    def __init__(self, cfg: RecognizerConfig):
        super().__init__()
        blocks, c_in = [], cfg.n_features
        for _ in range(cfg.conv_layers):
            blocks += [
                nn.Conv1d(c_in, cfg.conv_channels, cfg.kernel, stride=2, padding=cfg.kernel // 2),
                nn.BatchNorm1d(cfg.conv_channels),
                nn.GELU(),
            ]
            c_in = cfg.conv_channels
        self.net = nn.Sequential(*blocks)
        self.n_layers = cfg.conv_layers
        self.kernel = cfg.kernel

    def _next_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        pad = self.kernel // 2
        return torch.div(lengths + 2 * pad - self.kernel, 2, rounding_mode="floor") + 1

    def out_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for _ in range(self.n_layers):
            lengths = self._next_lengths(lengths)
        return lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, F) -> (B, T', C). With `lengths`, frames past each line's end are zeroed
        after every block, so a line's output never depends on what it is batched with."""
        h = x.transpose(1, 2)  # (B, F, T)
        for i in range(0, len(self.net), 3):
            h = self.net[i + 2](self.net[i + 1](self.net[i](h)))
            if lengths is not None:
                lengths = self._next_lengths(lengths)
                h = h * (torch.arange(h.shape[2], device=h.device)[None] < lengths[:, None])[:, None]
        return h.transpose(1, 2)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of x (B, T, C) within its own length; padding stays in place."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]  # (1, T)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, T)
    return x.gather(1, idx[:, :, None].expand(-1, -1, x.shape[2]))


class BiLSTMLayer(nn.Module):
    """One bidirectional LSTM layer on padded batches, as two unidirectional `nn.LSTM`s.

    The backward direction reads each sequence reversed within its own length, so padding
    never leaks into real frames. This avoids packed sequences, whose CPU backward pass
    slices per time step and costs O(T^2) (10x slower here), and gives the introspection
    code plain per-direction weights."""

    def __init__(self, n_in: int, hidden: int, forget_bias: float):
        super().__init__()
        self.fwd = nn.LSTM(n_in, hidden, batch_first=True)
        self.bwd = nn.LSTM(n_in, hidden, batch_first=True)
        with torch.no_grad():  # gate order i, f, g, o; b_ih + b_hh is the forget bias
            for lstm in (self.fwd, self.bwd):
                lstm.bias_ih_l0[hidden:2 * hidden] = forget_bias / 2
                lstm.bias_hh_l0[hidden:2 * hidden] = forget_bias / 2

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h_f, _ = self.fwd(x)  # (B, T, H)
        h_b, _ = self.bwd(reverse_padded(x, lengths))
        return torch.cat([h_f, reverse_padded(h_b, lengths)], dim=-1)  # (B, T, 2H)


class RecognizerNet(nn.Module):
    """x (B, T, F) standardized features -> log-probs (T', B, K) for CTC, and lengths T'."""

    def __init__(self, cfg: RecognizerConfig):
        super().__init__()
        self.cfg = cfg
        self.frontend = ConvFrontEnd(cfg)
        self.layers = nn.ModuleList(
            BiLSTMLayer(cfg.conv_channels if i == 0 else 2 * cfg.hidden, cfg.hidden,
                        cfg.forget_bias)
            for i in range(cfg.layers))
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.hidden, cfg.n_classes)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor):
        """Front-end features (B, T', C) and their lengths (B,)."""
        z = self.frontend(x, lengths)
        return z, self.frontend.out_lengths(lengths).clamp(min=1, max=z.shape[1])

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        h, out_lens = self.encode(x, lengths)  # (B, T', C)
        for i, layer in enumerate(self.layers):
            h = layer(self.dropout(h) if i > 0 else h, out_lens)  # (B, T', 2H)
        logits = self.head(self.dropout(h))  # (B, T', K)
        return logits.log_softmax(-1).transpose(0, 1), out_lens  # (T', B, K), (B,)


def ctc_loss(log_probs, out_lens, targets, target_lens) -> torch.Tensor:
    """Mean CTC loss per target character (Graves et al. 2009, eq. 14 summed over the batch)."""
    loss = nn.functional.ctc_loss(log_probs, targets, out_lens, target_lens, blank=0,
                                  reduction="sum", zero_infinity=True)
    return loss / target_lens.sum().clamp(min=1)
