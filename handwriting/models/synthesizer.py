"""Graves (2013) §5 handwriting synthesis network: three stacked LSTMs with skip connections
(input to every layer, every layer to the output), a soft window over the text read by the
first layer, and a mixture density output for the next pen offset.

Training runs only the first layer step by step (it alone feeds the window); the layers
above see the whole sequence at once and run as fused `nn.LSTM`s. Sampling steps all layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from handwriting.models.attention import SoftWindow, WindowState
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.mdn import MixtureHead, MixtureParams


@dataclass
class SynthState:
    """Recurrent state for step-by-step sampling."""

    hc: list[tuple[torch.Tensor, torch.Tensor]]  # per layer (h, c), each (B, H)
    window: WindowState


class SynthesizerNet(nn.Module):
    def __init__(self, cfg: SynthesizerConfig):
        super().__init__()
        self.cfg = cfg
        h, c = cfg.hidden, cfg.n_chars
        self.cell1 = nn.LSTMCell(3 + c, h)
        self.window = SoftWindow(h, cfg.window_gaussians, cfg.kappa_scale)
        self.upper = nn.ModuleList(nn.LSTM(3 + c + h, h, batch_first=True)
                                   for _ in range(cfg.layers - 1))
        self.head = MixtureHead(cfg.layers * h, cfg.mixtures)

    def initial_state(self, batch: int, text_len: int) -> SynthState:
        z = torch.zeros(batch, self.cfg.hidden)
        win = WindowState(torch.zeros(batch, self.cfg.window_gaussians),
                          torch.zeros(batch, self.cfg.n_chars), torch.zeros(batch, text_len))
        return SynthState([(z, z) for _ in range(self.cfg.layers)], win)

    def forward(self, x: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
                bias: float = 0.0):
        """Teacher-forced pass. x (B, T, 3) offsets (inputs are the previous points);
        text (B, U, C) one-hot; text_mask (B, U). Returns MixtureParams (B, T, ·) and the
        window weights phi (B, T, U)."""
        B, T, _ = x.shape
        state = self.initial_state(B, text.shape[1])
        h1, c1 = state.hc[0]
        win = state.window
        h1s, ws, phis = [], [], []
        for t in range(T):  # layer 1 + window, step by step
            h1, c1 = self.cell1(torch.cat([x[:, t], win.w], -1), (h1, c1))
            win = self.window(h1, win.kappa, text, text_mask)
            h1s.append(h1)
            ws.append(win.w)
            phis.append(win.phi)
        h1 = torch.stack(h1s, 1)  # (B, T, H)
        w = torch.stack(ws, 1)  # (B, T, C)
        outs, h = [h1], h1
        for lstm in self.upper:  # fused layers over the whole sequence, with skips
            h, _ = lstm(torch.cat([x, w, h], -1))
            outs.append(h)
        return self.head(torch.cat(outs, -1), bias), torch.stack(phis, 1)

    def step(self, x: torch.Tensor, state: SynthState, text: torch.Tensor,
             text_mask: torch.Tensor, bias: float = 0.0) -> tuple[MixtureParams, SynthState]:
        """One sampling step: x (B, 3) the previous offset."""
        h1, c1 = self.cell1(torch.cat([x, state.window.w], -1), state.hc[0])
        win = self.window(h1, state.window.kappa, text, text_mask)
        hc, outs, h = [(h1, c1)], [h1], h1
        for i, lstm in enumerate(self.upper):
            hi, ci = state.hc[i + 1]
            # nn.LSTM weights used as a cell: gates = W_ih [x, w, h_below] + W_hh h + b
            gates = (torch.cat([x, win.w, h], -1) @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
                     + hi @ lstm.weight_hh_l0.T + lstm.bias_hh_l0)
            i_g, f_g, g_g, o_g = gates.chunk(4, -1)
            ci = torch.sigmoid(f_g) * ci + torch.sigmoid(i_g) * torch.tanh(g_g)
            h = torch.sigmoid(o_g) * torch.tanh(ci)
            hc.append((h, ci))
            outs.append(h)
        return self.head(torch.cat(outs, -1), bias), SynthState(hc, win)
