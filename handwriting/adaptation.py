"""Writer adaptation: fine-tune a copy of the recognizer on one writer's samples (ink + the
text they meant) on the CPU in a minute or two, and save it beside the samples database with
a model card. The base model is never modified. The app, the CLI and the benchmark
(`handwriting evaluate adaptation`) all call `adapt`."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from handwriting.data.datasets import Augment, RecognizerDataset, collate_recognizer
from handwriting.ink import Ink
from handwriting.metrics import ErrorCounts
from handwriting.models.recognizer import ctc_loss
from handwriting.training.config import AdaptConfig


@dataclass(frozen=True)
class Example:
    """One line of the writer's ink and the text they meant."""

    ink: Ink
    text: str


@dataclass
class Adaptation:
    """An adapted copy of the recognizer's weights and what it took to make them."""

    state_dict: dict
    config: AdaptConfig
    steps_done: int
    seconds: float  # wall clock
    losses: list[float]
    examples: int
    skipped: list[str] = field(default_factory=list)  # texts not in the alphabet, not used
    cancelled: bool = False
    cpu_seconds: float = 0.0  # this process's CPU time: what a shared machine does not inflate


class Cancelled(Exception):
    """Raised by `adapt` when its cancel flag was set before any step finished."""


def _trainable(net: torch.nn.Module, which: str) -> list[torch.nn.Parameter]:
    for p in net.parameters():
        p.requires_grad_(which == "all")
    if which == "all":
        return list(net.parameters())
    layers = net.layers if which == "lstm" else net.layers[-1:]
    params = [p for layer in layers for p in layer.parameters()] + list(net.head.parameters())
    for p in params:
        p.requires_grad_(True)
    return params


def adapt(recognizer, examples: Sequence[Example], config: AdaptConfig | None = None,
          progress: Callable[[int, int, float], None] | None = None,
          cancel: Callable[[], bool] | None = None) -> Adaptation:
    """Fine-tune a copy of `recognizer.net` (a `service.Recognizer`) on `examples`; the
    recognizer itself is left untouched. `progress(step, steps, loss)` is called after each
    step; when `cancel()` turns true the loop stops and the weights so far are returned with
    `cancelled=True` (or `Cancelled` is raised if no step was done)."""
    config = config or AdaptConfig()
    usable, skipped = [], []
    for ex in examples:
        if not isinstance(ex.ink, Ink) or ex.ink.is_empty or not ex.text.strip():
            skipped.append(ex.text)
            continue
        try:
            recognizer.alphabet.encode(ex.text)
        except ValueError:
            skipped.append(ex.text)
            continue
        usable.append(ex)
    if not usable:
        raise ValueError(f"no usable samples to adapt on ({len(skipped)} skipped: empty ink, "
                         "empty text or characters outside the alphabet)")
    t0, c0 = time.perf_counter(), time.process_time()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    ds = RecognizerDataset(usable, recognizer.alphabet, recognizer.feature_config,
                           recognizer.standardizer, Augment() if config.augment else None,
                           config.seed)
    net = copy.deepcopy(recognizer.net)
    params = _trainable(net, config.trainable)
    base = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(params, lr=config.lr)
    net.train()
    net.frontend.eval()  # BatchNorm statistics from a handful of lines would be noise
    losses: list[float] = []
    cancelled = False
    for step in range(config.steps):
        if cancel is not None and cancel():
            cancelled = True
            break
        ds.epoch = step  # a new augmentation of every line each step
        idx = rng.choice(len(ds), size=min(config.batch_size, len(ds)), replace=False)
        batch = collate_recognizer([ds[int(i)] for i in idx])
        log_probs, out_lens = net(batch["x"], batch["x_lens"])
        loss = ctc_loss(log_probs, out_lens, batch["targets"], batch["target_lens"])
        if config.weight_decay_to_base:
            loss = loss + config.weight_decay_to_base * sum(
                ((p - b) ** 2).sum() for p, b in zip(params, base, strict=True))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, config.steps, losses[-1])
    if not losses and cancelled:
        raise Cancelled("adaptation cancelled before its first step")
    net.eval()
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return Adaptation(state, config, len(losses), time.perf_counter() - t0, losses,
                      len(usable), skipped, cancelled, time.process_time() - c0)


def adapted_recognizer(recognizer, adaptation: Adaptation):
    """A copy of `recognizer` (same decoder and LM) with the adapted weights."""
    out = copy.copy(recognizer)
    net = copy.deepcopy(recognizer.net)
    net.load_state_dict(adaptation.state_dict)
    net.eval()
    out.net = net  # assigned once adapted: the Numba engine copies its weights from it here
    return out


def error_counts(recognizer, examples: Sequence[Example], decoder: str | None = None
                 ) -> ErrorCounts:
    """Character and word errors of `recognizer` on `examples` with `decoder` (default: the
    recognizer's default)."""
    counts = ErrorCounts()
    for i in range(0, len(examples), 16):
        chunk = examples[i:i + 16]
        for ex, lp in zip(chunk, recognizer.log_posteriors([e.ink for e in chunk]), strict=True):
            counts.add(ex.text, recognizer.decode(lp, decoder)[0].text)
    return counts


# --------------------------------------------------------------------------- saving


def save_adapted(recognizer, adaptation: Adaptation, path: str | Path, card: dict) -> Path:
    """Write the adapted recognizer atomically as a self-describing checkpoint (the base
    checkpoint with the new weights, fp32, and the card under `adaptation`), plus the card
    as `<path>.json` and `<path>.md`. Loads with `Recognizer.from_checkpoint(path)`."""
    from handwriting.checkpoint import load_checkpoint, save_checkpoint
    from handwriting.formats.fileio import atomic_write

    path = Path(path)
    base = load_checkpoint(recognizer.path, "recognizer")
    card = {"base_model": str(recognizer.path),
            "base_weights_sha256": base.get("weights_sha256"),
            "config": asdict(adaptation.config), "steps": adaptation.steps_done,
            "samples": adaptation.examples, "skipped_samples": len(adaptation.skipped),
            "seconds": round(adaptation.seconds, 2),
            "cpu_seconds": round(adaptation.cpu_seconds, 2), "cancelled": adaptation.cancelled,
            "final_loss": round(adaptation.losses[-1], 4) if adaptation.losses else None,
            "created": time.time(), **card}
    payload = {k: v for k, v in base.items() if k not in ("format_version", "weights_sha256")}
    payload["state_dict"] = {k: v.float() if v.is_floating_point() else v
                             for k, v in adaptation.state_dict.items()}
    payload["adaptation"] = json.loads(json.dumps(card))  # plain types only (weights_only)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(payload, path)
    atomic_write(path.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode())
    atomic_write(path.with_suffix(".md"), model_card_markdown(card).encode())
    return path


def model_card_markdown(card: dict) -> str:
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f} %"

    writer = card.get("writer", "?")
    lines = [f"# Recognizer adapted to {writer}", "",
             f"- Base model: `{card['base_model']}` (weights sha256 "
             f"{str(card.get('base_weights_sha256'))[:12]}...)",
             f"- Samples: {card['samples']} used, {card['skipped_samples']} skipped "
             "(characters outside the alphabet)",
             f"- Steps: {card['steps']} (lr {card['config']['lr']}, trainable "
             f"{card['config']['trainable']}, batch {card['config']['batch_size']}), "
             f"{card['seconds']} s" + (", cancelled" if card.get("cancelled") else ""),
             f"- CER on the writer's own samples ({card.get('decoder', '?')} decoder; these are "
             f"the lines it was tuned on, so this shows fit, not generalization): before "
             f"{pct(card.get('cer_before'))}, after {pct(card.get('cer_after'))}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- benchmark


def form_of(line_id: str) -> str:
    """IAM-OnDB form (one writer) of a line id: `a01-000u-01` -> `a01-000u`."""
    return line_id.rsplit("-", 1)[0]


def benchmark_forms(recognizer, lines, forms: int, adapt_lines: int,
                    config: AdaptConfig | None = None, decoder: str | None = None,
                    on_form: Callable[[dict], None] | None = None) -> dict:
    """Adapt on each of the first `forms` forms' first `adapt_lines` lines (in line order;
    forms with no line left to test are passed over) and score its other lines before and
    after, pooled over all forms (character-weighted), with per-form figures."""
    by_form: dict[str, list] = {}
    for ln in sorted(lines, key=lambda ln: ln.id):
        by_form.setdefault(form_of(ln.id), []).append(ln)
    chosen = [f for f in sorted(by_form) if len(by_form[f]) > adapt_lines][:forms]
    before, after, per_form, seconds, cpu = ErrorCounts(), ErrorCounts(), [], [], []
    for form in chosen:
        train = [Example(ln.ink, ln.text) for ln in by_form[form][:adapt_lines]]
        test = [Example(ln.ink, ln.text) for ln in by_form[form][adapt_lines:]]
        b = error_counts(recognizer, test, decoder)
        result = adapt(recognizer, train, config)
        a = error_counts(adapted_recognizer(recognizer, result), test, decoder)
        before.merge(b)
        after.merge(a)
        seconds.append(result.seconds)
        cpu.append(result.cpu_seconds)
        row = {"form": form, "adapt_lines": result.examples, "test_lines": len(test),
               "chars": b.chars, "cer_before": round(b.cer, 5), "cer_after": round(a.cer, 5),
               "seconds": round(result.seconds, 1), "cpu_seconds": round(result.cpu_seconds, 1)}
        per_form.append(row)
        if on_form is not None:
            on_form(row)
    return {"forms": len(chosen), "adapt_lines": adapt_lines, "test_lines": before.lines,
            "cer_before": round(before.cer, 5), "cer_after": round(after.cer, 5),
            "wer_before": round(before.wer, 5), "wer_after": round(after.wer, 5),
            "ratio": round(after.cer / before.cer, 4) if before.cer else None,
            "forms_improved": sum(r["cer_after"] < r["cer_before"] for r in per_form),
            "forms_worse": sum(r["cer_after"] > r["cer_before"] for r in per_form),
            "seconds_per_adaptation": round(float(np.mean(seconds)), 1) if seconds else None,
            "seconds_per_adaptation_max": round(float(np.max(seconds)), 1) if seconds else None,
            "cpu_seconds_per_adaptation": round(float(np.mean(cpu)), 1) if cpu else None,
            "cpu_seconds_per_adaptation_max": round(float(np.max(cpu)), 1) if cpu else None,
            "config": asdict(config or AdaptConfig()), "per_form": per_form}
