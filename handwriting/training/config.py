"""Training settings as plain dataclasses without torch, a training run's and an adaptation's:
the CLI builds its `train` and `adapt` flags from their fields (`handwriting --help` never
imports torch), `training.loop.Trainer` and `adaptation.adapt` run with them, and checkpoints
store them for an exact resume."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainConfig:
    out: str = "runs/model"
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    epochs: int = 300
    patience: int = 15  # early stopping: epochs without a better validation metric
    lr_patience: int = 5  # halve the learning rate after this many such epochs
    min_lr_scale: float = 1 / 64
    warmup_steps: int = 300
    schedule: str = "plateau"  # "plateau": halve on stalls; "cosine": decay to 0 over `epochs`
    clip: float = 5.0  # gradient-norm clipping
    seed: int = 0
    checkpoint_minutes: float = 10.0
    log_every: int = 20
    sortagrad_epochs: int = 1  # first epochs go from short to long lines (Amodei et al. 2016)
    max_train_lines: int | None = None
    max_val_lines: int | None = None
    oversample_digits: int = 1  # trainset lines with a digit appear this many times per epoch
    max_steps: int | None = None  # stop (and checkpoint) after this many steps
    threads: int | None = None
    device: str = "cpu"
    progress: bool = True


@dataclass(frozen=True)
class AdaptConfig:
    """How to fine-tune. On IAM-OnDB testset_v forms (greedy, 4 lines per writer), 60 steps
    of the top layer only at lr 3e-4 moved CER by 5 % relative; all LSTM layers at lr 1e-3
    is the default (`handwriting evaluate adaptation` gives its figures)."""

    steps: int = 80
    lr: float = 1e-3
    batch_size: int = 4
    trainable: str = "lstm"  # "top": last LSTM layer + output; "lstm": all LSTMs + output; "all"
    augment: bool = True  # random slant, scale and time warp each step (data/datasets.Augment)
    weight_decay_to_base: float = 0.0  # L2 pull towards the base weights
    seed: int = 0

    def __post_init__(self):
        if not 1 <= self.steps <= 10_000:
            raise ValueError(f"steps {self.steps} outside 1..10000")
        if not 0 < self.lr < 1:
            raise ValueError(f"learning rate {self.lr} outside (0, 1)")
        if self.trainable not in ("top", "lstm", "all"):
            raise ValueError(f"trainable {self.trainable!r}: expected 'top', 'lstm' or 'all'")
