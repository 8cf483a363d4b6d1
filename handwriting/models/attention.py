"""Graves (2013) soft window over the one-hot text (eq. 46-51): K Gaussians whose position
kappa only moves forward, read by the first LSTM layer at every pen step."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class WindowState:
    kappa: torch.Tensor  # (B, K) positions, in characters
    w: torch.Tensor  # (B, C) the window vector w_t (eq. 47)
    phi: torch.Tensor  # (B, U) window weights over characters (eq. 46)


class SoftWindow(nn.Module):
    def __init__(self, n_in: int, gaussians: int, kappa_scale: float = 1.0):
        super().__init__()
        self.linear = nn.Linear(n_in, 3 * gaussians)
        self.kappa_scale = kappa_scale

    def forward(self, h1: torch.Tensor, kappa_prev: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor) -> WindowState:
        """h1 (B, H); kappa_prev (B, K); text one-hot (B, U, C); text_mask (B, U)."""
        a_hat, b_hat, k_hat = self.linear(h1).chunk(3, dim=-1)  # eq. 48
        alpha, beta = torch.exp(a_hat), torch.exp(b_hat)  # eq. 49-50
        kappa = kappa_prev + self.kappa_scale * torch.exp(k_hat)  # eq. 51: only forward
        u = torch.arange(text.shape[1], device=text.device, dtype=h1.dtype)  # (U,)
        # phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)   (eq. 46)
        phi = (alpha[:, :, None] * torch.exp(-beta[:, :, None] * (kappa[:, :, None] - u) ** 2)
               ).sum(1) * text_mask  # (B, U)
        w = torch.bmm(phi[:, None, :], text).squeeze(1)  # (B, C)   eq. 47
        return WindowState(kappa, w, phi)
