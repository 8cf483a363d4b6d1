"""A tiny LSTM to look inside: Edwin Chen's counting task ("Exploring LSTMs", 2017). Strings
`a^n X b^n $`; predicting where the b's end needs the network to count, and a trained model
keeps the count in one or two cells that climb on the a's and fall on the b's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from handwriting.counting import END, VOCAB, count_signal, counting_string, encode
from handwriting.introspect import InstrumentedLSTM
from handwriting.traces import CellTrace


@dataclass
class CountingConfig:
    hidden: int = 8
    max_n: int = 20  # strings have 1..max_n a's
    batch: int = 32
    lr: float = 0.02

    def to_dict(self) -> dict:
        return asdict(self)


class CountingLSTM(nn.Module):
    """One-hot characters (B, T) -> one `nn.LSTM` layer -> next-character logits (B, T, V)."""

    def __init__(self, cfg: CountingConfig):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(len(VOCAB), cfg.hidden, batch_first=True)
        self.head = nn.Linear(cfg.hidden, len(VOCAB))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(nn.functional.one_hot(idx, len(VOCAB)).float())  # (B, T, H)
        return self.head(h)  # (B, T, V)


@dataclass(frozen=True)
class CountingData:
    """Next-character pairs, padded: inputs (N, L) and targets (N, L) (-100 = padding)."""

    inputs: np.ndarray
    targets: np.ndarray
    ns: np.ndarray  # (N,) number of a's of each string


def _pairs(ns: np.ndarray, max_n: int) -> CountingData:
    L = 2 * max_n + 1  # the longest string minus one character
    inputs = np.full((len(ns), L), END, np.int64)
    targets = np.full((len(ns), L), -100, np.int64)
    for k, n in enumerate(ns):
        s = encode(counting_string(int(n)))
        inputs[k, : len(s) - 1] = s[:-1]
        targets[k, : len(s) - 1] = s[1:]
    return CountingData(inputs, targets, ns)


def make_counting_data(n_samples: int, max_n: int = 20, seed: int = 0) -> CountingData:
    """`n_samples` strings with n drawn uniformly from 1..max_n."""
    if max_n < 1 or n_samples < 1:
        raise ValueError(f"need n_samples >= 1 and max_n >= 1, got {n_samples}, {max_n}")
    ns = np.random.default_rng(seed).integers(1, max_n + 1, n_samples)
    return _pairs(ns, max_n)


@dataclass(frozen=True)
class CountingScore:
    accuracy: float  # next character right, over the positions after X (the b's and '$')
    end_accuracy: float  # '$' predicted exactly where the b's end
    exact: float  # strings whose whole b run and end are right


@torch.no_grad()
def evaluate_counting(model: CountingLSTM, max_n: int | None = None) -> CountingScore:
    """Score every n in 1..max_n once (the a's are random, only what follows X is scored)."""
    max_n = max_n or model.cfg.max_n
    data = _pairs(np.arange(1, max_n + 1), max_n)
    pred = model(torch.from_numpy(data.inputs)).argmax(-1).numpy()  # (N, L)
    pos = np.arange(data.inputs.shape[1])[None, :]
    after_x = (pos >= data.ns[:, None]) & (data.targets >= 0)  # inputs X, b, ..., b
    right = pred == data.targets
    end = data.targets == END
    return CountingScore(float(right[after_x].mean()), float(right[end].mean()),
                         float(np.all(right | ~after_x, axis=1).mean()))


@dataclass(frozen=True)
class CountingProgress:
    step: int
    loss: float
    score: CountingScore


def train_counting_lstm(steps: int = 1500, seed: int = 0,
                        callback: Callable[[CountingProgress], bool | None] | None = None,
                        cfg: CountingConfig | None = None, eval_every: int = 50,
                        stop_at: float | None = 1.0) -> tuple[CountingLSTM, list[CountingProgress]]:
    """Train on fresh random strings each step (Adam). Every `eval_every` steps the progress
    goes to `callback` (return True to stop) and into the history; training also stops once
    every string's b run and end are right (`exact` >= `stop_at`)."""
    cfg = cfg or CountingConfig()
    torch.manual_seed(seed)
    model = CountingLSTM(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(seed)
    history: list[CountingProgress] = []
    for step in range(1, steps + 1):
        data = _pairs(rng.integers(1, cfg.max_n + 1, cfg.batch), cfg.max_n)
        logits = model(torch.from_numpy(data.inputs))  # (B, L, V)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1),
                                           torch.from_numpy(data.targets).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            progress = CountingProgress(step, loss.item(), evaluate_counting(model))
            history.append(progress)
            stop = callback(progress) if callback is not None else False
            if stop or (stop_at is not None and progress.score.exact >= stop_at):
                break
    model.eval()
    return model, history


@dataclass(frozen=True)
class CountingTrace:
    """The model reading `text`: its cells per character and the next-character guesses."""

    text: str
    cell: CellTrace  # each (T, H)
    probs: np.ndarray  # (T, V) next-character probabilities after each character


@torch.no_grad()
def record_counting(model: CountingLSTM, text: str) -> CountingTrace:
    x = nn.functional.one_hot(torch.from_numpy(encode(text))[None], len(VOCAB)).float()
    _, _, trace = InstrumentedLSTM(model.lstm)(x)  # (1, T, H) each
    probs = model.head(trace.h).softmax(-1)[0].numpy()
    return CountingTrace(text, trace.line(0), probs)


@dataclass(frozen=True)
class CountingUnits:
    units: np.ndarray  # (H,) unit indices, by |correlation|, largest first
    correlations: np.ndarray  # (H,) Pearson r of each unit's cell state with the count


def find_counting_units(model: CountingLSTM, max_n: int | None = None) -> CountingUnits:
    """Correlate every cell state with `count_signal` over the strings n = 1..max_n."""
    max_n = max_n or model.cfg.max_n
    cells, counts = [], []
    for n in range(1, max_n + 1):
        text = counting_string(n)
        cells.append(record_counting(model, text).cell.c)
        counts.append(count_signal(text))
    c = np.concatenate(cells).astype(np.float64)  # (N, H)
    k = np.concatenate(counts)  # (N,)
    c = c - c.mean(0)
    k = k - k.mean()
    denom = np.sqrt((c**2).sum(0) * (k**2).sum())
    r = np.where(denom > 0, (c * k[:, None]).sum(0) / np.maximum(denom, 1e-300), 0.0)
    order = np.argsort(-np.abs(r), kind="stable")
    return CountingUnits(order, r[order])
