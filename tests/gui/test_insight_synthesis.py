"""Synthesis insight panels fed frame by frame from a real sampling stream (the shipped
synthesizer when present, else a tiny random one): the attention panel grows and names the
character being written in order, appends stay cheap, the dock replays a chosen line; and
the LSTM lab trains its counting LSTM in a thread and finds the counter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gui.insight.dock import InsightDock
from gui.insight.lab import LstmLabPanel
from gui.insight.model import LineFrame, SynthesisTrack, TimeCursor
from gui.insight.synthesis import AttentionPanel, EosTrace, MixtureView
from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.results import models_dir
from handwriting.service import Synthesizer
from tests.gui.test_insight_recognition import pixels, show

pytestmark = pytest.mark.gui

TEXT = "the red fox"


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    if (models_dir() / "synthesizer.pt").is_file():
        return Synthesizer.from_checkpoint()
    torch.manual_seed(0)
    cfg = SynthesizerConfig(hidden=32, layers=2, mixtures=4, window_gaussians=3)
    return Synthesizer({"model_config": cfg.to_dict(),
                        "feature_config": {"spacing": 0.14, "deslope": True},
                        "offset_scale": 0.1, "alphabet": DEFAULT_ALPHABET.chars,
                        "state_dict": SynthesizerNet(cfg).state_dict()})


@pytest.fixture(scope="module")
def frames(synthesizer) -> list:
    """One sampled job of two lines (SynthesisFrames, both lines in each)."""
    return list(synthesizer.stream(synthesizer.plan(f"{TEXT}\nran off"), seed=3))


def line0(frames) -> list[LineFrame]:
    return [lf for lf in (LineFrame.from_frame(f, 0) for f in frames) if lf is not None]


def test_attention_grows_and_names_characters_in_order(qtbot, frames):
    panel = show(qtbot, AttentionPanel())
    emitted = []
    panel.current_char_changed.connect(emitted.append)
    panel.begin(TEXT)
    sizes = []
    for k, lf in enumerate(line0(frames)):
        panel.append_frame(lf)
        if k % 10 == 0:
            panel.flush()
            sizes.append(panel.image_cols)
    panel.end()
    panel.flush()
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
    assert panel.image_cols == len(line0(frames)) == len(panel.track)
    assert panel.n_rows == len(TEXT) + 1  # the characters and the end slot
    assert emitted, "no character was ever the most attended"
    assert emitted == sorted(set(emitted))  # strictly forward, never back
    assert emitted[0] <= 1 and all(0 <= i < len(TEXT) for i in emitted)
    assert panel.current == emitted[-1]
    assert len(np.unique(pixels(panel).reshape(-1, 3), axis=0)) > 20


def test_mixture_and_eos_render_the_stream(qtbot, frames):
    cursor = TimeCursor()
    mix = show(qtbot, MixtureView(cursor), (320, 340))
    eos = show(qtbot, EosTrace(cursor), (600, 180))
    blank = [pixels(w) for w in (mix, eos)]
    for w in (mix, eos):
        w.begin(TEXT)
    for lf in line0(frames):
        mix.append_frame(lf)
        eos.append_frame(lf)
    for w in (mix, eos):
        w.end()
        w.flush()
    live = [pixels(w) for w in (mix, eos)]
    for a, b in zip(blank, live, strict=True):
        assert not np.array_equal(a, b)
        assert len(np.unique(b.reshape(-1, 3), axis=0)) > 20
    cursor.set_frame(5)  # hovering a step shows that step's mixture
    assert mix.step() == 5 and not np.array_equal(live[0], pixels(mix))
    assert eos.n_cols == len(eos.track)  # the axis fits the finished line exactly


def test_appending_a_frame_defers_the_drawing(qtbot, frames, monkeypatch):
    """Appending is O(1) bookkeeping: panels rebuild on the throttle's tick, never per
    frame (how long a frame takes is measured by `python -m gui.bench`, not asserted)."""
    dock = show(qtbot, InsightDock(), (1200, 700))
    dock.tabs.setCurrentIndex(1)
    dock.begin_synthesis(["the red fox", "ran off"])
    rebuilt = []
    for panel in (dock.attention, dock.mixture, dock.eos):
        real = panel.rebuild
        monkeypatch.setattr(panel, "rebuild", lambda real=real, p=panel: (rebuilt.append(p),
                                                                         real())[1])
    for f in frames:
        dock.append_synthesis_frame(f)
    assert rebuilt == []  # no event loop ran: nothing was drawn per frame
    qtbot.waitUntil(lambda: len(rebuilt) >= 3, timeout=2000)  # the throttle's tick
    assert len(rebuilt) <= 6
    dock.end_synthesis()


def test_the_dock_shows_the_chosen_line(qtbot, frames):
    dock = show(qtbot, InsightDock(), (1200, 700))
    chars = []
    dock.synthesis_char_changed.connect(lambda line, i: chars.append((line, i)))
    dock.tabs.setCurrentIndex(1)
    dock.begin_synthesis(["the red fox", "ran off"])
    dock.append_synthesis_frames(frames[:20])
    assert dock.attention.image is None  # painting waits for the throttle's tick...
    qtbot.waitUntil(lambda: dock.attention.image_cols == 20, timeout=10_000)  # ...which comes
    dock.append_synthesis_frames(frames[20:])
    dock.end_synthesis()
    n1 = sum(bool(f.active[1]) for f in frames)
    assert len(dock.attention.track) == len(line0(frames))
    assert chars and all(line == 0 for line, _ in chars)
    dock.line_box.setCurrentIndex(1)
    assert len(dock.attention.track) == n1 and dock.attention.track.text == "ran off"
    assert dock.attention.finished and chars[-1][0] == 1


def test_synthesis_track_keeps_every_step():
    track = SynthesisTrack("ab")
    M = 3
    for k in range(200):  # past the first capacity
        track.append(LineFrame(k, np.array([1.0, 0.5, float(k % 7 == 6)]), np.eye(3)[k % 3],
                               0.1, np.log(np.full(M, 1 / M)), np.zeros((M, 2)),
                               np.full((M, 2), 0.1), np.zeros(M)))
    assert len(track) == 200 and track.phi.shape == (200, 3)
    assert np.allclose(track.points[-1, :2], [200.0, 100.0])
    assert np.allclose(track.tip(10), [10.0, 5.0])
    assert track.mixture(3).mu.shape == (M, 2)
    assert np.isclose(track.typical_reach(), 0.2)


def test_lstm_lab_trains_in_a_thread_and_finds_the_counter(qtbot):
    lab = show(qtbot, LstmLabPanel(steps=600), (800, 520))
    assert lab.heatmap.image is None
    lab.on_train()
    assert lab.training
    qtbot.waitUntil(lambda: not lab.training, timeout=120_000)
    assert lab.model is not None and lab.units is not None
    best = int(lab.units.units[0])
    assert abs(lab.units.correlations[0]) > 0.9
    lab.text_edit.setText("aaaaaXbbbbb$")
    assert lab.heatmap.image is not None and lab.heatmap.image_cols == 12
    assert lab.heatmap.highlight[0] == best
    lab.text_edit.setText("aaZ")
    assert "not in the counting vocabulary" in lab.heatmap.title
    lab.shutdown()
