"""Regenerate the screenshots in this folder: every insight panel on a line of ink written
by the shipped synthesizer (or on an ink file you give), with the shipped models, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/panels/make_screenshots.py [INK_FILE] [TEXT]

IAM-OnDB ink is never used here: its licence keeps it (and pictures of it) out of the repo.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.insight import (  # noqa: E402
    AttentionPanel,
    CellStatePanel,
    EosTrace,
    GatePanel,
    InsightDock,
    LineFrame,
    LstmLabPanel,
    MixtureView,
    NeuronInkView,
    PosteriorPanel,
    RecognitionInsight,
    RecognitionState,
    SaliencyView,
    TimeCursor,
    sync_saliency_provider,
)
from handwriting.figures import lively_units  # noqa: E402
from handwriting.formats import read_ink  # noqa: E402
from handwriting.service import Recognizer, Synthesizer  # noqa: E402

OUT = Path(__file__).resolve().parent


def save(app, widget, name: str, size: tuple[int, int]) -> None:
    widget.resize(*size)
    widget.show()
    app.processEvents()
    if hasattr(widget, "flush"):
        widget.flush()
        app.processEvents()
    widget.grab().save(str(OUT / f"{name}.png"))
    print(f"{name}.png {(OUT / f'{name}.png').stat().st_size // 1024} KB")


def main(ink_file: str | None = None, text: str = "the quick brown fox") -> None:
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    if ink_file:
        ink = read_ink(ink_file)
    else:
        ink = Synthesizer.from_checkpoint().write("turn down the resolution.", seed=3)[0]
    rec = Recognizer.from_checkpoint()
    insight = RecognitionInsight.compute(rec, ink)
    print("recognized:", insight.text)

    def setup(state: RecognitionState) -> None:
        state.saliency_provider = sync_saliency_provider(rec, state)
        state.set_insight(insight)
        state.select(layer=1, unit=int(lively_units(insight.cell(1, "fwd"))[0]))
        state.cursor.set_frame(insight.emitted[len(insight.emitted) // 2][0])
        state.request_saliency()

    state = RecognitionState()
    setup(state)
    save(app, PosteriorPanel(state), "posteriors", (1000, 250))
    save(app, CellStatePanel(state), "cells", (1000, 520))
    save(app, GatePanel(state), "gates", (1000, 640))
    save(app, SaliencyView(state), "saliency", (1000, 220))
    save(app, NeuronInkView(state), "neuron", (1000, 200))

    syn = Synthesizer.from_checkpoint()
    plan = syn.plan(text)
    frames = list(syn.stream(plan, seed=1))
    cursor = TimeCursor()
    panels = AttentionPanel(cursor), MixtureView(cursor), EosTrace(cursor)
    for panel in panels:
        panel.begin(plan.lines[0])
    for frame in frames:
        lf = LineFrame.from_frame(frame, 0)
        for panel in panels if lf is not None else ():
            panel.append_frame(lf)
    for panel in panels:
        panel.end()
    cursor.set_frame(int(len(panels[0].track) * 0.45))
    for panel, name, size in zip(panels, ("attention", "mixture", "eos"),
                                 ((1000, 360), (340, 370), (1000, 170)), strict=True):
        save(app, panel, name, size)

    dock = InsightDock()
    setup(dock.state)
    save(app, dock, "dock_recognition", (1400, 720))
    dock.tabs.setCurrentIndex(1)
    dock.begin_synthesis(plan.lines)
    dock.append_synthesis_frames(frames)
    dock.end_synthesis()
    dock.synthesis_cursor.set_frame(int(len(dock.attention.track) * 0.45))
    save(app, dock, "dock_synthesis", (1400, 720))

    lab = LstmLabPanel()
    lab.resize(900, 560)
    lab.show()
    lab.on_train()
    t0 = time.time()
    while lab.training and time.time() - t0 < 120:
        app.processEvents()
        time.sleep(0.02)
    lab.text_edit.setText("aaaaaaaaaaXbbbbbbbbbb$")
    lab.heatmap.cursor.set_frame(14)
    save(app, lab, "lab", (900, 560))
    dock.shutdown()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None, *sys.argv[2:3])
