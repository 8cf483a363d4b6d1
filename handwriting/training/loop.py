"""A resumable training loop shared by both models (minGPT `Trainer` with callbacks).

Exact resume: batches come from `bucket_batches(seed, epoch)`, augmentation is seeded by
(seed, epoch, item), and the checkpoint holds the model, optimizer, LR state, torch RNG and
the position (epoch, batch) - so `--resume` continues with the same next loss as a run that
was never stopped. Data parallelism: under `torchrun` each process takes every N-th batch
and DistributedDataParallel averages the gradients (gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from handwriting.checkpoint import load_checkpoint, save_checkpoint
from handwriting.data.datasets import bucket_batches
from handwriting.training.config import TrainConfig


class Task(Protocol):
    """What a model brings to the loop."""

    kind: str
    model: nn.Module
    train_set: object  # has .lengths(), .epoch, __getitem__

    def collate(self, items: list) -> dict: ...
    def loss(self, model: nn.Module, batch: dict) -> torch.Tensor: ...
    def validate(self, model: nn.Module) -> dict: ...  # must hold the key `metric`
    def describe(self) -> dict: ...  # config, alphabet, normalization, data: for checkpoints


@dataclass
class TrainerState:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_metric: float = math.inf
    bad_epochs: int = 0
    lr_scale: float = 1.0
    seconds: float = 0.0
    best_metrics: dict = field(default_factory=dict)


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


class Trainer:
    def __init__(self, task: Task, cfg: TrainConfig,
                 callbacks: list[Callable[[str, dict], None]] | None = None):
        self.task, self.cfg = task, cfg
        self.callbacks = callbacks or []
        self.out = Path(cfg.out)
        self.rank, self.world = _dist_info()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = torch.device(cfg.device)
        if cfg.schedule not in ("plateau", "cosine"):
            raise ValueError(f"unknown schedule {cfg.schedule!r}; expected 'plateau' or 'cosine'")
        self._steps_per_epoch = 1
        self._owns_group = False
        if self.world > 1 and not torch.distributed.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend)
            self._owns_group = True
        self.model = task.model.to(self.device)
        decay = [p for n, p in self.model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim < 2]
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
        self.state = TrainerState()
        self.ddp = (torch.nn.parallel.DistributedDataParallel(self.model)
                    if self.world > 1 else None)
        torch.manual_seed(cfg.seed + self.rank)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_payload(self) -> dict:
        return {
            "kind": self.task.kind,
            **self.task.describe(),
            "state_dict": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "trainer": asdict(self.state),
            "rng": torch.get_rng_state(),
            "train_config": asdict(self.cfg),
            "metrics": dict(self.state.best_metrics),
        }

    def save(self, name: str) -> Path | None:
        """Every rank must call this (it gathers each rank's RNG state); rank 0 writes."""
        rng = [torch.get_rng_state()]
        if self.world > 1:
            rng = [None] * self.world
            torch.distributed.all_gather_object(rng, torch.get_rng_state())
        if self.rank != 0:
            return None
        path = self.out / name
        save_checkpoint({**self.checkpoint_payload(), "rng_per_rank": rng}, path)
        return path

    def resume(self, path: str | Path) -> None:
        ckpt = load_checkpoint(path, self.task.kind)
        self.model.load_state_dict(ckpt["state_dict"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.state = TrainerState(**ckpt["trainer"])
        per_rank = ckpt.get("rng_per_rank") or [ckpt["rng"]]
        torch.set_rng_state(per_rank[self.rank] if self.rank < len(per_rank) else ckpt["rng"])
        if self.rank == 0:
            truncate_log(self.out / "log.jsonl", self.state.step)

    def close(self) -> None:
        """Leave the process group this trainer joined. Every rank must call it: a gloo
        group left to the interpreter's exit can abort the process while its threads are
        still running ("terminate called without an active exception")."""
        if self._owns_group and torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
            self._owns_group = False

    # ------------------------------------------------------------------ loop
    def _emit(self, event: str, info: dict) -> None:
        if self.rank != 0:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "log.jsonl", "a") as fh:
            fh.write(json.dumps({"event": event, **info}) + "\n")
        for cb in self.callbacks:
            cb(event, info)

    def _lr(self) -> float:
        warm = min(1.0, (self.state.step + 1) / max(self.cfg.warmup_steps, 1))
        if self.cfg.schedule == "cosine":
            total = max(self.cfg.epochs * self._steps_per_epoch, 1)
            progress = min(self.state.step / total, 1.0)
            return self.cfg.lr * warm * 0.5 * (1 + math.cos(math.pi * progress))
        return self.cfg.lr * warm * self.state.lr_scale

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        ds = self.task.train_set
        batches = bucket_batches(ds.lengths(), self.cfg.batch_size, self.cfg.seed, epoch,
                                 shuffle=epoch >= self.cfg.sortagrad_epochs)
        if self.world > 1:
            usable = len(batches) // self.world * self.world
            batches = batches[:usable][self.rank::self.world]
        return batches

    def _sync_flag(self, flag: bool) -> bool:
        """Rank 0's decision, so every rank takes part in a checkpoint together."""
        if self.world == 1:
            return flag
        t = torch.tensor([1 if flag else 0])
        torch.distributed.broadcast(t, src=0)
        return bool(t.item())

    def _sync_metric(self, metric: float) -> float:
        if self.world == 1:
            return metric
        t = torch.tensor([metric], dtype=torch.float64)
        torch.distributed.broadcast(t, src=0)
        return float(t.item())

    def fit(self) -> TrainerState:
        cfg, st = self.cfg, self.state
        net = self.ddp or self.model
        last_save = time.monotonic()
        t_start = time.monotonic() - st.seconds
        while st.epoch < cfg.epochs:
            self.task.train_set.epoch = st.epoch
            batches = self._epoch_batches(st.epoch)
            self._steps_per_epoch = len(batches)
            bar = None
            if cfg.progress and self.rank == 0:
                from tqdm import tqdm

                bar = tqdm(total=len(batches), initial=st.batch_in_epoch,
                           desc=f"epoch {st.epoch}", leave=False, dynamic_ncols=True)
            self.model.train()
            running, n_run = 0.0, 0
            for bi in range(st.batch_in_epoch, len(batches)):
                batch = self.task.collate([self.task.train_set[i] for i in batches[bi]])
                batch = {k: v.to(self.device) if torch.is_tensor(v) else v
                         for k, v in batch.items()}
                for g in self.opt.param_groups:
                    g["lr"] = self._lr()
                loss = self.task.loss(net, batch)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                gnorm = nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
                self.opt.step()
                st.step += 1
                st.batch_in_epoch = bi + 1
                st.seconds = time.monotonic() - t_start
                running += float(loss.detach())
                n_run += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{float(loss):.3f}", lr=f"{self._lr():.2e}")
                if st.step % cfg.log_every == 0:
                    self._emit("step", {"step": st.step, "epoch": st.epoch,
                                        "loss": running / n_run, "grad_norm": float(gnorm),
                                        "lr": self._lr(), "seconds": round(st.seconds, 1)})
                    running, n_run = 0.0, 0
                if self._sync_flag(time.monotonic() - last_save > 60 * cfg.checkpoint_minutes):
                    self.save("last.pt")
                    last_save = time.monotonic()
                if cfg.max_steps is not None and st.step >= cfg.max_steps:
                    if bar is not None:
                        bar.close()
                    self.save("last.pt")
                    return st
            if bar is not None:
                bar.close()
            self._end_epoch()
            self.save("last.pt")
            last_save = time.monotonic()
            if st.bad_epochs >= cfg.patience:
                self._emit("early_stop", {"epoch": st.epoch, "best": st.best_metric})
                break
        return st

    def _end_epoch(self) -> None:
        st = self.state
        metrics = self.task.validate(self.model) if self.rank == 0 else {"metric": 0.0}
        metric = self._sync_metric(float(metrics["metric"]))
        improved = metric < st.best_metric
        if improved:
            st.best_metric, st.bad_epochs = metric, 0
            st.best_metrics = {k: v for k, v in metrics.items() if k != "metric"}
            st.best_metrics.update(epoch=st.epoch, step=st.step)
        else:
            st.bad_epochs += 1
            if st.bad_epochs % self.cfg.lr_patience == 0:
                st.lr_scale = max(st.lr_scale / 2, self.cfg.min_lr_scale)
        self._emit("epoch", {"epoch": st.epoch, "step": st.step, **metrics,
                             "best": st.best_metric, "lr": self._lr(),
                             "seconds": round(st.seconds, 1)})
        st.epoch += 1
        st.batch_in_epoch = 0
        if improved:
            self.save("best.pt")


def truncate_log(path: Path, step: int) -> None:
    """Drop the log lines written after `step`: a resumed run repeats those steps, and a log
    with each step once is what plots and readers expect. Rewritten atomically."""
    if not path.is_file():
        return
    keep = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short when the run was killed
        if not isinstance(event, dict) or event.get("step", 0) <= step:
            keep.append(line)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(k + "\n" for k in keep), encoding="utf-8")
    os.replace(tmp, path)


def init_from(model: nn.Module, path: str | Path, kind: str, matching: bool = False) -> dict:
    """Start from existing weights (e.g. the shipped model); returns the checkpoint. With
    `matching`, the model may differ from the checkpoint's (another front-end, another
    layer): only the weights whose names and shapes agree are loaded, the rest keep their
    fresh initialization, and the fresh ones are listed on stderr."""
    ckpt = load_checkpoint(path, kind)
    state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    if matching:
        own = model.state_dict()
        state = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        if not state:
            raise ValueError(f"{path}: no weight matches this network's names and shapes")
        fresh = [k for k in own if k not in state]
        print(f"init from {path}: {len(state)} tensors loaded, {len(fresh)} fresh: "
              + ", ".join(fresh), file=sys.stderr)
    model.load_state_dict(state, strict=not matching)
    return ckpt
