"""The synthesizer's training task: IAM-OnDB trainset -> Graves (2013) network, validated by
NLL in nats per point and per line on testset_v."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.data.datasets import SynthesizerDataset, collate_synthesizer
from handwriting.features import SynthesisFeatureConfig
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.mdn import mixture_log_likelihood
from handwriting.models.synthesizer import SynthesizerNet


def sequence_nll(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed NLL (nats) over valid points and the number of points. The input at step t
    is the offset at t-1 (a zero offset starts every line); the target is the offset at t."""
    x = batch["x"]
    inputs = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)
    params, _ = model(inputs, batch["text"], batch["text_mask"])
    ll = mixture_log_likelihood(params, x) * batch["point_mask"]
    return -ll.sum(), batch["point_mask"].sum()


class SynthesizerTask:
    kind = "synthesizer"

    def __init__(self, train_lines, val_lines, model_cfg: SynthesizerConfig | None = None,
                 feature_cfg: SynthesisFeatureConfig | None = None,
                 alphabet: Alphabet = DEFAULT_ALPHABET, offset_scale: float | None = None,
                 data_info: dict | None = None):
        self.alphabet = alphabet
        self.feature_cfg = feature_cfg or SynthesisFeatureConfig()
        self.model_cfg = model_cfg or SynthesizerConfig(n_chars=len(alphabet))
        if self.model_cfg.n_chars != len(alphabet):
            raise ValueError(f"model has {self.model_cfg.n_chars} character inputs, the alphabet "
                             f"needs {len(alphabet)} (characters + padding)")
        self.train_set = SynthesizerDataset(train_lines, alphabet, self.feature_cfg, offset_scale)
        self.offset_scale = self.train_set.offset_scale
        self.val_set = (SynthesizerDataset(val_lines, alphabet, self.feature_cfg,
                                           self.offset_scale) if val_lines else None)
        self.model = SynthesizerNet(self.model_cfg)
        self.data_info = data_info or {}

    def collate(self, items):
        return collate_synthesizer(items, self.model_cfg.n_chars)

    def loss(self, model, batch):
        nll, n = sequence_nll(model, batch)
        return nll / n.clamp(min=1)  # nats per point

    @torch.no_grad()
    def validate(self, model, batch_size: int = 32) -> dict:
        if self.val_set is None:
            return {"metric": 0.0}
        model.eval()
        total, points, lines = 0.0, 0.0, 0
        order = np.argsort(self.val_set.lengths())
        for i in range(0, len(order), batch_size):
            b = self.collate([self.val_set[j] for j in order[i:i + batch_size]])
            nll, n = sequence_nll(model, b)
            total, points, lines = total + float(nll), points + float(n), lines + len(b["index"])
        model.train()
        # NLL of the scaled offsets; + log(scale^2) per point gives nats in writing-height units
        per_point = total / max(points, 1)
        return {"metric": per_point, "val_nll_per_point": per_point,
                "val_nll_per_line": total / max(lines, 1), "val_lines": lines}

    def describe(self) -> dict:
        return {
            "model_config": asdict(self.model_cfg),
            "feature_config": self.feature_cfg.to_dict(),
            "offset_scale": self.offset_scale,
            "alphabet": self.alphabet.chars,
            "data": self.data_info,
        }
