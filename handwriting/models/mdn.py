"""Mixture density output for pen offsets (Graves 2013, eq. 18-26): M bivariate Gaussians for
(dx, dy) plus a Bernoulli end-of-stroke, with a numerically stable log-likelihood."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from handwriting.models.configs import RHO_LIMIT

LOG_2PI = math.log(2 * math.pi)


@dataclass
class MixtureParams:
    """Mixture of the next pen offset. Shapes: (..., M) except `eos` (...,)."""

    log_pi: torch.Tensor  # log mixture weights (eq. 19)
    mu1: torch.Tensor
    mu2: torch.Tensor  # means (eq. 20)
    log_sigma1: torch.Tensor
    log_sigma2: torch.Tensor  # log standard deviations (eq. 21)
    rho: torch.Tensor  # correlations (eq. 22)
    eos_logit: torch.Tensor  # end-of-stroke logit (eq. 18, before the sigmoid)

    @property
    def eos(self) -> torch.Tensor:
        return torch.sigmoid(self.eos_logit)


class MixtureHead(nn.Module):
    """Linear map to 6M + 1 outputs, split into `MixtureParams` with bias b (Graves §5.4:
    pi = softmax(pi_hat (1 + b)), sigma = exp(sigma_hat - b))."""

    def __init__(self, n_in: int, mixtures: int):
        super().__init__()
        self.mixtures = mixtures
        self.linear = nn.Linear(n_in, 6 * mixtures + 1)

    def forward(self, h: torch.Tensor, bias: float = 0.0) -> MixtureParams:
        y = self.linear(h)
        m = self.mixtures
        pi_hat, mu1, mu2, s1, s2, rho_hat = y[..., :6 * m].split(m, dim=-1)
        return MixtureParams(
            log_pi=torch.log_softmax(pi_hat * (1 + bias), dim=-1),
            mu1=mu1, mu2=mu2,
            log_sigma1=s1 - bias, log_sigma2=s2 - bias,
            rho=torch.tanh(rho_hat).clamp(-RHO_LIMIT, RHO_LIMIT),
            eos_logit=y[..., 6 * m],
        )


def mixture_log_likelihood(p: MixtureParams, x: torch.Tensor) -> torch.Tensor:
    """log Pr(x | y) of offsets x (..., 3) = (dx, dy, eos) under `p` (eq. 23-26), per point."""
    dx, dy, eos = x[..., 0:1], x[..., 1:2], x[..., 2]
    z1 = (dx - p.mu1) * torch.exp(-p.log_sigma1)
    z2 = (dy - p.mu2) * torch.exp(-p.log_sigma2)
    one_m_rho2 = 1 - p.rho**2
    z = z1**2 + z2**2 - 2 * p.rho * z1 * z2  # eq. 25
    log_n = (-LOG_2PI - p.log_sigma1 - p.log_sigma2 - 0.5 * torch.log(one_m_rho2)
             - z / (2 * one_m_rho2))  # log of eq. 24
    log_mix = torch.logsumexp(p.log_pi + log_n, dim=-1)  # log sum_j pi_j N_j, stable
    # Bernoulli end of stroke: log e if eos else log(1 - e), via logits for stability.
    log_eos = -nn.functional.binary_cross_entropy_with_logits(p.eos_logit, eos, reduction="none")
    return log_mix + log_eos


@torch.no_grad()
def sample_mixture(p: MixtureParams, generator: torch.Generator | None = None) -> torch.Tensor:
    """One offset (B, 3) from mixture params of shape (B, M)."""
    comp = torch.multinomial(p.log_pi.exp(), 1, generator=generator)  # (B, 1)

    def pick(t):
        return t.gather(-1, comp).squeeze(-1)

    mu1, mu2 = pick(p.mu1), pick(p.mu2)
    s1, s2, rho = pick(p.log_sigma1).exp(), pick(p.log_sigma2).exp(), pick(p.rho)
    n = torch.randn(2, *mu1.shape, generator=generator)
    dx = mu1 + s1 * n[0]
    dy = mu2 + s2 * (rho * n[0] + torch.sqrt(1 - rho**2) * n[1])
    eos = (torch.rand(mu1.shape, generator=generator) < p.eos).float()
    return torch.stack([dx, dy, eos], dim=-1)
