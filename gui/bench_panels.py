"""(d) of `python -m gui.bench`: the insight panels ('Inside the networks') on a dock of their
own with the shipped models, the GUI thread's time per update (see `gui.bench`)."""

from __future__ import annotations

import gc
import time

import numpy as np
from PySide6.QtTest import QTest

from gui.bench_tools import (
    BUSY_TEXT,
    canvas_ink,
    gui_thread_ms,
    hershey_line,
    pixel_strokes,
    spread,
)
from handwriting.ink import Ink

TARGET_PANEL_MS = 30.0
PANEL_LINE_TEXT = "The quick brown fox jumps over"  # 44 strokes in the Hershey script font
PANEL_DOCK_SIZE = (1400, 720)  # room for every recognition panel, none scrolled


def insight_dock(tab: int):
    """An `InsightDock` of `PANEL_DOCK_SIZE` on page `tab`, shown and exposed."""
    from gui.insight.dock import InsightDock

    dock = InsightDock()
    dock.resize(*PANEL_DOCK_SIZE)
    dock.tabs.setCurrentIndex(tab)
    dock.show()
    QTest.qWaitForWindowExposed(dock)
    return dock


def recognition_panel_updates(recognizer, repeats: int) -> dict:
    """(d): a line growing stroke by stroke, each prefix computed as the worker does, then
    shown in the dock as the GUI thread does."""
    from gui.messages import RecognitionInsight

    dock = insight_dock(0)
    ink = canvas_ink(pixel_strokes(hershey_line(PANEL_LINE_TEXT), 30, 40, 70))
    compute, wall, cpu = [], [], []

    def show(insight) -> None:
        dock.set_recognition(insight)
        dock.repaint()  # the visible panels, painted now

    for _ in range(repeats):
        for k in range(1, len(ink.strokes) + 1):
            t0 = time.perf_counter()
            insight = RecognitionInsight.compute(recognizer, Ink(ink.strokes[:k]))
            compute.append(1000 * (time.perf_counter() - t0))
            ms, cpu_ms = gui_thread_ms(lambda ins=insight: show(ins))
            wall.append(ms)
            cpu.append(cpu_ms)
        dock.set_recognition(None)
    dock.close()
    return {"panel_update_ms": spread(wall), "panel_update_cpu_ms": spread(cpu),
            "panel_compute_ms": spread(compute), "panel_strokes": len(ink.strokes),
            "panel_samples": len(wall)}


def sampled_batches(synthesizer, text: str, seed: int) -> tuple[tuple[str, ...], list[list]]:
    """The plan's lines and its `SynthesisFrame`s, grouped by sampling time as the synthesis
    worker sends them to the GUI (a batch about every BATCH_SECONDS)."""
    from gui.workers.synthesis import BATCH_SECONDS

    plan = synthesizer.plan(text)
    batches, batch, last = [], [], time.perf_counter()
    for frame in synthesizer.stream(plan, seed=seed):
        batch.append(frame)
        now = time.perf_counter()
        if now - last >= BATCH_SECONDS:
            batches.append(batch)
            batch, last = [], now
    return tuple(plan.lines), batches + ([batch] if batch else [])


def synthesis_panel_updates(synthesizer, repeats: int) -> dict:
    """(d): each batch of frames appended to the synthesis panels, which then rebuild and
    repaint (their throttle's tick, at most ~30 a second: an upper bound per batch)."""
    dock = insight_dock(1)
    wall, frames = [], []

    def feed(batch) -> None:
        dock.append_synthesis_frames(batch)
        for panel in (dock.attention, dock.mixture, dock.eos):
            panel.flush()
        dock.repaint()

    for seed in range(repeats):
        lines, batches = sampled_batches(synthesizer, BUSY_TEXT, seed)
        dock.begin_synthesis(lines)
        for batch in batches:
            wall.append(gui_thread_ms(lambda b=batch: feed(b))[0])
            frames.append(len(batch))
        dock.end_synthesis()
    dock.close()
    return {"synthesis_panel_update_ms": spread(wall), "synthesis_batches": len(wall),
            "synthesis_frames_per_batch": int(np.median(frames)) if frames else 0}


def panel_figures(threads: int, repeats: int) -> dict:
    """(d) with models of its own, loaded as the app's workers load theirs."""
    from handwriting.service import Recognizer, Synthesizer

    recognizer = Recognizer.from_checkpoint(threads=threads)
    synthesizer = Synthesizer.from_checkpoint(threads=threads)
    synthesizer.warm_up()
    gc.freeze()  # as the app does once its models are in (ModelWorkers._settle_heap)
    return {**recognition_panel_updates(recognizer, repeats),
            **synthesis_panel_updates(synthesizer, repeats)}


