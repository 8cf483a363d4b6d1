"""The recognizer's training task: IAM-OnDB trainset -> BiLSTM-CTC, validated by greedy CER."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from handwriting.alphabet import DEFAULT_ALPHABET, Alphabet
from handwriting.data.datasets import Augment, RecognizerDataset, collate_recognizer
from handwriting.decoding import greedy_decode
from handwriting.features import FeatureConfig, Standardizer
from handwriting.metrics import ErrorCounts
from handwriting.models.configs import RecognizerConfig
from handwriting.models.recognizer import RecognizerNet, ctc_loss


class RecognizerTask:
    kind = "recognizer"

    def __init__(self, train_lines, val_lines, model_cfg: RecognizerConfig | None = None,
                 feature_cfg: FeatureConfig | None = None, alphabet: Alphabet = DEFAULT_ALPHABET,
                 augment: Augment | None = None, seed: int = 0,
                 standardizer: Standardizer | None = None, data_info: dict | None = None,
                 detokenized: bool = False):
        """`detokenized`: train and validate on detokenized transcriptions
        (`RecognizerDataset`); recorded in the checkpoint's `data`."""
        self.alphabet = alphabet
        self.feature_cfg = feature_cfg or FeatureConfig()
        self.model_cfg = model_cfg or RecognizerConfig(n_classes=len(alphabet))
        if self.model_cfg.n_classes != len(alphabet):
            raise ValueError(f"model has {self.model_cfg.n_classes} classes, the alphabet needs "
                             f"{len(alphabet)} (characters + blank)")
        self.train_set = RecognizerDataset(train_lines, alphabet, self.feature_cfg,
                                           standardizer, augment, seed, detokenized)
        self.standardizer = self.train_set.standardizer
        self.val_set = RecognizerDataset(val_lines, alphabet, self.feature_cfg,
                                         self.standardizer, None,
                                         detokenized=detokenized) if val_lines else None
        self.model = RecognizerNet(self.model_cfg)
        self.data_info = {**(data_info or {}), "targets": "detokenized" if detokenized
                          else "transcriptions"}

    def collate(self, items):
        return collate_recognizer(items)

    def loss(self, model, batch):
        log_probs, out_lens = model(batch["x"], batch["x_lens"])
        return ctc_loss(log_probs, out_lens, batch["targets"], batch["target_lens"])

    @torch.no_grad()
    def validate(self, model, batch_size: int = 64) -> dict:
        if self.val_set is None:
            return {"metric": 0.0}
        model.eval()
        device = next(model.parameters()).device
        counts, total_loss, n = ErrorCounts(), 0.0, 0
        order = np.argsort(self.val_set.lengths())
        for i in range(0, len(order), batch_size):
            b = collate_recognizer([self.val_set[j] for j in order[i:i + batch_size]])
            log_probs, out_lens = model(b["x"].to(device), b["x_lens"].to(device))
            loss = ctc_loss(log_probs, out_lens, b["targets"].to(device),
                            b["target_lens"].to(device))
            total_loss += float(loss) * len(b["x_lens"])
            n += len(b["x_lens"])
            lp = log_probs.transpose(0, 1).cpu().numpy()
            for k, idx in enumerate(b["index"].tolist()):
                hyp = greedy_decode(lp[k, : int(out_lens[k])], self.alphabet)
                counts.add(self.val_set.texts[idx], hyp)
        model.train()
        return {"metric": counts.cer, "val_cer": counts.cer, "val_wer": counts.wer,
                "val_loss": total_loss / max(n, 1), "val_lines": counts.lines}

    def describe(self) -> dict:
        return {
            "model_config": asdict(self.model_cfg),
            "feature_config": self.feature_cfg.to_dict(),
            "standardizer": self.standardizer.to_dict(),
            "alphabet": self.alphabet.chars,
            "data": self.data_info,
        }
