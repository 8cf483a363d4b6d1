"""Torch datasets for both models, length-bucketed batching and augmentation.

Datasets take prepared `IamLine`-like records (anything with `.text` and `.ink`), do the
expensive geometry once up front, and apply cheap random augmentation per item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from handwriting.alphabet import Alphabet, detokenize
from handwriting.features import FeatureConfig, Standardizer, features_of, preprocess


@dataclass(frozen=True)
class Augment:
    """Random geometric variation of preprocessed points (x, y, stroke_start)."""

    scale: float = 0.10  # log-std of independent x and y scale
    shear: float = 0.15  # std of the added slant, radians
    rotate: float = 0.03  # std of a small rotation, radians
    jitter: float = 0.01  # std of per-point noise, in writing heights
    drop: float = 0.10  # fraction of points dropped at random (a crude time warp)

    def __call__(self, pts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        xy = pts[:, :2].astype(np.float64)
        sx, sy = np.exp(rng.normal(0, self.scale, 2))
        a, r = rng.normal(0, self.shear), rng.normal(0, self.rotate)
        m = np.array([[sx, 0.0], [0.0, sy]]) @ np.array([[1.0, -np.tan(a)], [0.0, 1.0]])
        m = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]]) @ m
        xy = xy @ m.T + rng.normal(0, self.jitter, xy.shape)
        out = np.column_stack([xy, pts[:, 2]]).astype(np.float32)
        if self.drop > 0 and len(out) > 10:
            keep = (rng.random(len(out)) >= self.drop) | (out[:, 2] > 0.5)
            # keep each stroke's last point too, so strokes keep their extent
            last = np.append(out[1:, 2] > 0.5, True)
            out = out[keep | last]
        return out


class RecognizerDataset(Dataset):
    """Items are (features (T, F) float32 standardized, target (L,) int64, index)."""

    def __init__(self, lines, alphabet: Alphabet, feature_cfg: FeatureConfig | None = None,
                 standardizer: Standardizer | None = None, augment: Augment | None = None,
                 seed: int = 0, detokenized: bool = False):
        """`detokenized`: targets with IAM's LOB tokenization undone ("Mr . Grey ," -> "Mr.
        Grey,"), the spacing the ink shows, instead of the transcriptions as they are."""
        self.texts = [detokenize(ln.text) if detokenized else ln.text for ln in lines]
        self.ids = [getattr(ln, "id", str(i)) for i, ln in enumerate(lines)]
        feature_cfg = feature_cfg or FeatureConfig()
        self.points = [preprocess(ln.ink, feature_cfg) for ln in lines]
        self.targets = [torch.from_numpy(alphabet.encode(t)) for t in self.texts]
        self.standardizer = standardizer or Standardizer.fit(
            [features_of(p) for p in self.points])
        self.augment = augment
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.points)

    def lengths(self) -> list[int]:
        return [len(p) for p in self.points]

    def __getitem__(self, i: int):
        pts = self.points[i]
        if self.augment is not None:
            # Seeded by (seed, epoch, item) so a resumed run sees the same augmentations.
            rng = np.random.default_rng((self.seed, self.epoch, i))
            pts = self.augment(pts, rng)
        x = features_of(pts, self.standardizer)
        return torch.from_numpy(x), self.targets[i], i


def collate_recognizer(batch):
    """Pad to the longest item: x (B, T, F), x_lens (B,), targets (sum L,), target_lens (B,)."""
    xs, ys, idx = zip(*batch, strict=True)
    x_lens = torch.tensor([len(x) for x in xs])
    x = torch.nn.utils.rnn.pad_sequence(xs, batch_first=True)
    return {
        "x": x,
        "x_lens": x_lens,
        "targets": torch.cat(ys),
        "target_lens": torch.tensor([len(y) for y in ys]),
        "index": torch.tensor(idx),
    }


def with_digits_oversampled(lines: list, times: int) -> list:
    """`lines` with every line whose text holds a digit repeated `times` times in all: digits
    are rare in IAM-OnDB (163 of 5293 trainset lines; '8' appears 22 times) and are what the
    synthesizer writes worst (issue 14). The order is kept; the copies follow the original."""
    if times < 1:
        raise ValueError(f"oversampling factor {times} must be at least 1")
    out = []
    for line in lines:
        out.extend([line] * (times if any(c.isdigit() for c in line.text) else 1))
    return out


def bucket_batches(lengths: list[int], batch_size: int, seed: int, epoch: int,
                   shuffle: bool = True) -> list[list[int]]:
    """Batches of similar length (less padding), in a random order fixed by (seed, epoch):
    sort by noisy length, cut into batches, shuffle the batches. Deterministic, so a resumed
    run can rebuild the epoch and skip the batches it has done."""
    rng = np.random.default_rng((seed, epoch))
    lengths = np.asarray(lengths, dtype=np.float64)
    key = lengths * (1 + 0.1 * rng.random(len(lengths))) if shuffle else lengths
    order = np.argsort(key, kind="stable")
    batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


class SynthesizerDataset(Dataset):
    """Items are (offsets (T, 3) scaled by `offset_scale`, text indices (U,), index). The text
    is IAM's transcription detokenized to match the ink ('Mr. Foot', not 'Mr . Foot')."""

    def __init__(self, lines, alphabet: Alphabet, feature_cfg=None,
                 offset_scale: float | None = None, max_points: int = 1000):
        from handwriting.features import SynthesisFeatureConfig, synthesis_offsets

        feature_cfg = feature_cfg or SynthesisFeatureConfig()
        self.offsets, self.texts, self.ids = [], [], []
        for i, ln in enumerate(lines):
            off = synthesis_offsets(ln.ink, feature_cfg)
            if len(off) > max_points:  # a handful of very long lines: skip, bounded memory
                continue
            self.offsets.append(off)
            self.texts.append(detokenize(ln.text))
            self.ids.append(getattr(ln, "id", str(i)))
        if offset_scale is None:
            d = np.concatenate([o[1:, :2] for o in self.offsets])
            offset_scale = float(d.std())
        self.offset_scale = offset_scale
        self.encoded = [torch.from_numpy(alphabet.encode(t)) for t in self.texts]
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.offsets)

    def lengths(self) -> list[int]:
        return [len(o) for o in self.offsets]

    def __getitem__(self, i: int):
        off = self.offsets[i].copy()
        off[:, :2] /= self.offset_scale
        return torch.from_numpy(off), self.encoded[i], i


def collate_synthesizer(batch, n_chars: int):
    """x (B, T, 3) offsets, point_mask (B, T), text one-hot (B, U + 1, C) with one empty
    position after the text (for end-of-text detection), text_mask (B, U + 1)."""
    offs, texts, idx = zip(*batch, strict=True)
    x = torch.nn.utils.rnn.pad_sequence(offs, batch_first=True)
    lens = torch.tensor([len(o) for o in offs])
    point_mask = (torch.arange(x.shape[1])[None] < lens[:, None]).float()
    u_lens = torch.tensor([len(t) for t in texts])
    padded = torch.nn.utils.rnn.pad_sequence(texts, batch_first=True)
    padded = torch.cat([padded, torch.zeros(len(texts), 1, dtype=padded.dtype)], 1)
    one_hot = torch.nn.functional.one_hot(padded, n_chars).float()
    one_hot[..., 0] = 0.0  # padding and the end position carry no character
    text_mask = (torch.arange(padded.shape[1])[None] <= u_lens[:, None]).float()
    return {"x": x, "point_mask": point_mask, "text": one_hot, "text_mask": text_mask,
            "index": torch.tensor(idx)}
