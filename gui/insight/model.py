"""What the insight panels show, as plain data plus two small observables: the shared time
cursor, the recognition state (one line's `RecognitionInsight`, the selected layer,
direction and unit, the saliency result) and the per-line synthesis track. The panels are
views of these; every computation with a model arrives through the host's callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from gui.messages import RecognitionInsight, SaliencyRequest, SaliencyResult

DIRECTIONS = ("fwd", "bwd")


class TimeCursor(QObject):
    """A frame (recognition) or sampling step (synthesis) that every panel marks; -1 means
    none (synthesis panels then follow the newest step)."""

    frame_changed = Signal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._frame = -1

    @property
    def frame(self) -> int:
        return self._frame

    def set_frame(self, frame: int) -> None:
        frame = int(frame)
        if frame != self._frame:
            self._frame = frame
            self.frame_changed.emit(frame)


# --------------------------------------------------------------------------- recognition


SaliencyProvider = Callable[[SaliencyRequest], None]


class RecognitionState(QObject):
    """The one observable behind the recognition panels: the line (`insight`), the time
    `cursor`, the selected layer / direction / unit and what the cells show, the character
    chosen for saliency and its result. Saliency is computed by `saliency_provider`, a host
    callback that answers later through `set_saliency` (from the GUI thread)."""

    insight_changed = Signal()
    selection_changed = Signal()
    char_changed = Signal()
    saliency_changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.cursor = TimeCursor(self)
        self.insight: RecognitionInsight | None = None
        self.layer, self.direction, self.unit = 0, "fwd", 0
        self.quantity, self.sort = "c", True
        self.char_index: int | None = None
        self.saliency: SaliencyResult | None = None
        self.pending: SaliencyRequest | None = None
        self.saliency_provider: SaliencyProvider | None = None
        self._cache: dict[tuple[int, int | None], SaliencyResult] = {}

    # ------------------------------------------------------------------ writes
    def set_insight(self, insight: RecognitionInsight | None) -> None:
        self.insight = insight
        self.saliency, self.pending, self.char_index = None, None, None
        self._cache.clear()
        if insight is not None:
            self.layer = min(self.layer, insight.n_layers - 1)
            self.unit = min(self.unit, insight.n_units - 1)
            if self.cursor.frame >= insight.n_frames:
                self.cursor.set_frame(insight.n_frames - 1)
        self.insight_changed.emit()
        self.char_changed.emit()
        self.saliency_changed.emit()

    def select(self, layer: int | None = None, direction: str | None = None,
               unit: int | None = None, quantity: str | None = None,
               sort: bool | None = None) -> None:
        """Change what the cell, gate and neuron panels show; unknown values raise."""
        if direction is not None and direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'fwd' or 'bwd', got {direction!r}")
        if self.insight is not None:
            if layer is not None and not 0 <= layer < self.insight.n_layers:
                raise ValueError(f"layer {layer} outside 0..{self.insight.n_layers - 1}")
            if unit is not None and not 0 <= unit < self.insight.n_units:
                raise ValueError(f"unit {unit} outside 0..{self.insight.n_units - 1}")
        new = {"layer": layer, "direction": direction, "unit": unit, "quantity": quantity,
               "sort": sort}
        changed = False
        for k, v in new.items():
            if v is not None and getattr(self, k) != v:
                setattr(self, k, v)
                changed = True
        if changed:
            self.selection_changed.emit()

    def set_char(self, index: int | None) -> None:
        """Pin saliency to character `index` of the text (None: follow the cursor)."""
        if self.insight is not None and index is not None and not 0 <= index < len(
                self.insight.emitted):
            index = None
        if index != self.char_index:
            self.char_index = index
            if index is not None:
                self.cursor.set_frame(self.insight.emitted[index][0])
            self.char_changed.emit()

    # ------------------------------------------------------------------ saliency
    def saliency_target(self) -> tuple[int, int | None] | None:
        """(frame, label) the saliency view should show now, or None."""
        ins = self.insight
        if ins is None or ins.n_frames == 0:
            return None
        if self.char_index is not None:
            frame, ch = ins.emitted[self.char_index]
            label = ins.chars.find(ch) + 1
            return frame, (label if label > 0 else None)
        frame = self.cursor.frame
        if not 0 <= frame < ins.n_frames:
            return None
        return frame, None

    def request_saliency(self) -> bool:
        """Ask the provider for the current target unless it is cached or already asked
        for; returns whether a request went out."""
        target = self.saliency_target()
        if target is None or self.saliency_provider is None:
            return False
        cached = self._cache.get(target)
        if cached is not None:
            if cached is not self.saliency:
                self.saliency = cached
                self.saliency_changed.emit()
            return False
        if self.pending is not None and (self.pending.frame, self.pending.label) == target \
                and self.pending.insight is self.insight:
            return False
        self.pending = SaliencyRequest(self.insight, target[0], target[1], self.char_index)
        self.saliency_provider(self.pending)
        self.saliency_changed.emit()  # views show "computing"
        return True

    def set_saliency(self, result: SaliencyResult) -> None:
        """The provider's answer; ignored when it belongs to another line."""
        req = result.request
        if req.insight is not self.insight:
            return
        self._cache[(req.frame, req.label)] = result
        if self.pending is req:
            self.pending = None
        self.saliency = result
        self.saliency_changed.emit()

    def saliency_failed(self, request: SaliencyRequest) -> None:
        """The provider could not answer (e.g. the recognizer is busy or gone)."""
        if self.pending is request:
            self.pending = None
            self.saliency_changed.emit()


def sync_saliency_provider(recognizer, state: RecognitionState) -> SaliencyProvider:
    """A provider that computes saliency at once in the calling thread (≈ 0.1-0.5 s per
    request): for scripts, tests and screenshots. An app should run `Recognizer.saliency`
    in its worker and call `state.set_saliency` with the answer instead."""

    def provide(req: SaliencyRequest) -> None:
        ins = req.insight
        mag, label = recognizer.saliency(ins.ink, ins.inspection, req.frame, req.label)
        state.set_saliency(SaliencyResult(req, mag, label))

    return provide


# --------------------------------------------------------------------------- synthesis


@dataclass(frozen=True)
class LineFrame:
    """One sampling step of one line (a `synthesis.SynthesisFrame` row)."""

    step: int
    offset: np.ndarray  # (3,) dx, dy, pen_up of the sampled point, writing heights
    phi: np.ndarray  # (U + 1,) attention over the line's characters (+ the end slot)
    eos: float
    log_pi: np.ndarray  # (M,)
    mu: np.ndarray  # (M, 2) relative to the previous pen position
    sigma: np.ndarray  # (M, 2)
    rho: np.ndarray  # (M,)
    text_offset: int = 0  # priming characters before the line's own text

    @classmethod
    def from_frame(cls, frame, line: int = 0) -> LineFrame | None:
        """Row `line` of a `SynthesisFrame`, or None once that line has finished."""
        if not bool(frame.active[line]):
            return None
        return cls(int(frame.step), frame.offsets[line], frame.phi[line],
                   float(frame.eos[line]), frame.log_pi[line], frame.mu[line],
                   frame.sigma[line], frame.rho[line], int(frame.text_offset))


class SynthesisTrack:
    """Every step of one synthesized line in growing arrays (amortized O(1) appends)."""

    def __init__(self, text: str = "", text_offset: int = 0):
        self.text, self.text_offset = text, text_offset
        self.n = 0
        self._arrays: dict[str, np.ndarray] = {}

    def _grow(self, name: str, row: np.ndarray) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None or arr.shape[1:] != row.shape:
            if arr is not None and self.n:
                raise ValueError(f"{name} changed shape from {arr.shape[1:]} to {row.shape}")
            arr = np.zeros((64, *row.shape), np.float64)
        elif self.n == len(arr):
            arr = np.concatenate([arr, np.zeros_like(arr)])
        self._arrays[name] = arr
        return arr

    def append(self, f: LineFrame) -> None:
        if self.n == 0:
            self.text_offset = f.text_offset
        pos = self.points[-1, :2] if self.n else np.zeros(2)
        rows = {"offset": np.asarray(f.offset, np.float64),
                "point": np.append(pos + np.asarray(f.offset[:2], np.float64), f.offset[2]),
                "phi": np.asarray(f.phi, np.float64), "eos": np.array(f.eos, np.float64),
                "log_pi": np.asarray(f.log_pi, np.float64), "mu": np.asarray(f.mu, np.float64),
                "sigma": np.asarray(f.sigma, np.float64), "rho": np.asarray(f.rho, np.float64)}
        for name, row in rows.items():
            self._grow(name, row)[self.n] = row
        self.n += 1

    def __len__(self) -> int:
        return self.n

    def _get(self, name: str, tail: tuple = ()) -> np.ndarray:
        arr = self._arrays.get(name)
        return arr[: self.n] if arr is not None else np.zeros((0, *tail))

    @property
    def phi(self) -> np.ndarray:  # (n, U + 1)
        return self._get("phi", (len(self.text) + 1,))

    @property
    def eos(self) -> np.ndarray:  # (n,)
        return self._get("eos")

    @property
    def offsets(self) -> np.ndarray:  # (n, 3)
        return self._get("offset", (3,))

    @property
    def points(self) -> np.ndarray:  # (n, 3) absolute x, y, pen_up of each sampled point
        return self._get("point", (3,))

    def tip(self, step: int) -> np.ndarray:
        """(2,) pen position that step `step`'s mixture is relative to (the point before)."""
        return self.points[step - 1, :2] if step > 0 else np.zeros(2)

    def typical_reach(self) -> float:
        """Median over steps of how far the mixture reaches from the tip (|mu| + 2 sigma,
        weighted by pi), in writing heights; 0 before the first step."""
        if not self.n:
            return 0.0
        a, n = self._arrays, self.n
        reach = np.abs(a["mu"][:n]).max(-1) + 2 * a["sigma"][:n].max(-1)  # (n, M)
        w = np.exp(a["log_pi"][:n])
        return float(np.median((reach * w).sum(1) / np.maximum(w.sum(1), 1e-12)))

    def mixture(self, step: int):
        from handwriting.traces import PointMixture

        a = self._arrays
        return PointMixture(a["log_pi"][step], a["mu"][step], a["sigma"][step],
                            a["rho"][step], float(a["eos"][step]))
