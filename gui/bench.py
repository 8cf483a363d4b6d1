"""App responsiveness benchmark, offscreen: `python -m gui.bench --json`.

(a) Pen-up to text on screen: a one-line drawing (a Hershey script line, else a synthetic
    cursive line) is written with QTest mouse drags; for every stroke, the time from its
    release event to the first paint of the recognized-text panel after the new transcript.
(b) Paint gaps: a scripted drag across the canvas (a move every 8 ms, a pen-up every 40
    moves, each a recognition in the worker), alone, then while typed text is written at
    real-time speed, then at instant speed (the worker sampling flat out, new jobs all
    along); the longest time between two paint events of the canvas in each, and the most
    CPU time the GUI thread spent between two (`max_gap_cpu_ms`: the app's own share of a
    gap, which a machine busy with other work does not stretch).

(c) Writing speed: the seconds from asking for the typed text at instant speed to its ink
    being committed, on an empty page with nothing else going on (lower is better).

(e) Start-up and memory: `models_ready_s` from creating the window to both models loaded
    (each model's process warms it up before it reports ready), the models having started
    loading where the app starts them, before Qt (`gui.workers.base.preload`);
    `launch_to_ready_s` the same from that start; `first_recognition_s`,
    (a)'s first stroke right after that, and `steady_recognition_s`, the same stroke in the
    later repeats (median);
    `app_process_mb` and `model_process_mb` the peak resident memory of the app's process
    and of each model's process (see `handwriting.remote`) after (a)-(c).

(d) Insight panels ('Inside the networks'), on a dock of their own with the shipped models
    (`--panels-only` runs just this part, without the main window): a six-word Hershey line
    as the canvas records it, every prefix of its strokes in turn. `panel_compute_ms` is
    `RecognitionInsight.compute` of a prefix (a recognition and an inspection), the
    recognition worker's share, off the GUI thread; `panel_update_ms` the GUI thread's: `InsightDock.set_recognition`, the
    synchronous repaint of the visible recognition panels and the events they posted
    (`panel_update_cpu_ms`: its CPU time). `synthesis_panel_update_ms` is the GUI thread's
    time for one batch of sampled frames (grouped as the synthesis worker sends them) while
    typed text is written: appending it and the rebuild and repaint of the synthesis panels
    that their ~30 Hz throttle does. Each is {p50, p95, max}.

Targets: p95 of (a) <= 100 ms, (b) < 50 ms, p95 of `panel_update_ms` <= 30 ms. Prints one
JSON line (or a short table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.bench_panels import TARGET_PANEL_MS, panel_figures  # noqa: E402
from gui.bench_tools import (  # noqa: E402
    BUSY_TEXT,
    MOVE_MS,
    PaintClock,
    hershey_line,
    idle_for,
    pixel_strokes,
    wait,
)

TARGET_P95_MS = 100.0
TARGET_GAP_MS = 50.0
LINE_TEXT = "The quick brown fox jumps"


def pen_up_latency(window, repeats: int, first_strokes: list | None = None) -> list[float]:
    """(a): milliseconds from each stroke's release to the text panel's next paint; each
    repeat's first stroke's figure (None if it timed out) is also appended to `first_strokes`."""
    canvas, viewport = window.canvas, window.recognized_panel.browser.viewport()
    clock = PaintClock(viewport)
    updates: list[float] = []
    window.recognition.updated.connect(lambda _ms: updates.append(time.perf_counter()))
    strokes = pixel_strokes(hershey_line(LINE_TEXT), 30, 40, 70)
    out = []
    for _ in range(repeats):
        window.document.clear()
        wait(window.is_idle)
        for pts in strokes:
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             pts[0])
            for p in pts[1:]:
                QTest.mouseMove(canvas, p)
            n_updates = len(updates)
            t0 = time.perf_counter()
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier, pts[-1])
            first = pts is strokes[0]
            if not wait(lambda n=n_updates: len(updates) > n and window.is_idle()):
                if first and first_strokes is not None:
                    first_strokes.append(None)
                continue
            t_update = updates[-1]
            wait(lambda t=t_update: any(t1 >= t for t1 in clock.times[viewport]), 2.0)
            painted = [t1 for t1 in clock.times[viewport] if t1 >= t_update]
            if painted:
                out.append(1000 * (painted[0] - t0))
            if first and first_strokes is not None:
                first_strokes.append(1000 * (painted[0] - t0) if painted else None)
    return out


def first_and_steady_s(first_strokes: list) -> dict:
    """The first recognition after the models are ready (the first stroke of the first
    repeat) and the steady state (the median first stroke of the later repeats), seconds."""
    later = [v for v in first_strokes[1:] if v is not None]
    first = first_strokes[0] if first_strokes else None
    return {"first_recognition_s": round(first / 1000, 4) if first is not None else None,
            "steady_recognition_s": round(float(np.median(later)) / 1000, 4) if later else None}


def paint_gaps(window, seconds: float, speed: str | None) -> dict:
    """(b): the longest gap between canvas paints while dragging, lifting the pen every 40
    moves (each pen-up a recognition); with `speed`, typed text is being written all along
    (a new job whenever the last one is done)."""
    canvas = window.canvas
    window.document.clear()
    wait(window.is_idle)
    clock = PaintClock(canvas)
    w, h = canvas.width(), canvas.height()
    t_start = time.perf_counter()
    step, pressed, jobs, pen_ups = 0, False, 0, 0
    next_tick = t_start
    while time.perf_counter() - t_start < seconds:
        if speed and not window.typed.running:  # keep the synthesis worker busy all along
            window.write_text(BUSY_TEXT, speed=speed, seed=jobs)
            jobs += 1
        x = 20 + (step * 3) % (w - 40)
        y = h * 0.3 + 40 * np.sin(step / 9) + 60 * ((step // 150) % 3)
        pos = QPoint(round(x), round(y))
        if not pressed:
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             pos)
            pressed = True
        else:
            QTest.mouseMove(canvas, pos)
        if step % 40 == 39:  # lift the pen: a recognition request
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier, pos)
            pressed, pen_ups = False, pen_ups + 1
        step += 1
        next_tick += MOVE_MS / 1000
        idle_for(1000 * (next_tick - time.perf_counter()))
    if pressed:
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           pos)
    times, cpu = np.array(clock.times[canvas]), np.array(clock.cpu[canvas])
    times, cpu = times[times >= t_start], cpu[times >= t_start]
    gaps = np.diff(times) * 1000 if len(times) > 1 else np.array([float("inf")])
    cpu_gaps = np.diff(cpu) * 1000 if len(cpu) > 1 else np.array([float("inf")])
    window.typed.stop()
    wait(lambda: not window.workers.synthesis_running)
    return {"max_gap_ms": round(float(gaps.max()), 1),
            "p99_gap_ms": round(float(np.percentile(gaps, 99)), 1),
            "max_gap_cpu_ms": round(float(cpu_gaps.max()), 1),
            "paints": int(len(times)), "moves": step, "pen_ups": pen_ups,
            "synthesis_jobs": jobs}


def instant_write_seconds(window, repeats: int) -> list[float]:
    """(c): seconds from `write_text` at instant speed to the committed ink, per repeat."""
    done: list[float] = []
    window.typed.finished.connect(lambda _wrote: done.append(time.perf_counter()))
    out = []
    for seed in range(repeats):
        window.document.clear()
        wait(window.is_idle)
        n = len(done)
        t0 = time.perf_counter()
        window.write_text(BUSY_TEXT, speed="instant", seed=seed)
        if wait(lambda n=n: len(done) > n, 60.0):
            out.append(done[n] - t0)
    return out


def memory_mb() -> dict:
    """(e) Peak resident memory of the app's process and of each model process, in MB
    (Linux's /proc; {} elsewhere)."""
    import multiprocessing

    def peak(pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/status") as fh:
                kb = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM"))
        except (OSError, StopIteration, ValueError):
            return None
        return round(kb / 1024, 1)

    app = peak(os.getpid())
    if app is None:
        return {}
    models = {c.name.removeprefix("handwriting-"): peak(c.pid)
              for c in multiprocessing.active_children()}
    return {"app_process_mb": app, "model_process_mb": models}


def window_figures(args, launched: float | None = None) -> dict:
    """(a)-(c) in a main window of the app; {"error": ...} when its models do not load."""
    from gui.main_window import MainWindow

    os.environ.setdefault("HANDWRITING_APP_DATA", os.path.join(
        os.environ.get("TMPDIR", "/tmp"), f"handwriting-bench-{os.getpid()}"))
    t0 = time.perf_counter()
    window = MainWindow(threads=args.threads, offer_restore=False)
    window.unattended = True  # a scripted run: closing its drawn ink asks nothing
    window.autosave.timer.stop()
    window.show()
    if not wait(lambda: not window.workers.loading, 120) or window.workers.errors:
        return {"error": window.workers.errors or "models did not load"}
    models_ready = time.perf_counter() - t0
    first_strokes: list = []
    latency = pen_up_latency(window, args.repeats, first_strokes)
    phases = {name: paint_gaps(window, args.seconds, speed)
              for name, speed in (("drag_recognizing", None), ("drag_writing_realtime", "realtime"),
                                  ("drag_writing_instant", "instant"))}
    writing = instant_write_seconds(window, args.repeats)
    memory = memory_mb()
    window.close()
    QApplication.instance().processEvents()
    ms = np.array(latency) if latency else np.array([float("nan")])
    worst = max(p["max_gap_ms"] for p in phases.values())
    return {
        "pen_up_to_text_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "pen_up_to_text_p95_ms": round(float(np.percentile(ms, 95)), 1),
        "latency_samples": len(latency),
        "max_paint_gap_ms": worst,
        **phases,
        "instant_write_s": round(float(np.median(writing)), 3) if writing else None,
        "models_ready_s": round(models_ready, 2),
        **({"launch_to_ready_s": round(models_ready + t0 - launched, 2)} if launched else {}),
        **first_and_steady_s(first_strokes),
        **memory,
        "drag_seconds": args.seconds,
        "targets": {"pen_up_to_text_p95_ms": TARGET_P95_MS, "max_paint_gap_ms": TARGET_GAP_MS},
        "ok": bool(np.percentile(ms, 95) <= TARGET_P95_MS and worst < TARGET_GAP_MS),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--repeats", type=int, default=3, help="times the line is written")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the drag")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per model")
    parser.add_argument("--panels-only", action="store_true",
                        help="only (d), the insight panels, without the main window")
    args = parser.parse_args(argv)

    launched = None
    if not args.panels_only and QApplication.instance() is None:
        from gui.workers.base import preload

        launched = time.perf_counter()
        preload(threads=args.threads)  # where the app starts its models (`gui.app.main`)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    result = ({"targets": {}, "ok": True} if args.panels_only
              else window_figures(args, launched))
    if "error" in result:
        print(json.dumps(result))
        return 1
    panels = panel_figures(args.threads, args.repeats)
    app.processEvents()
    result = {**result, **panels,
              "targets": {**result["targets"], "panel_update_p95_ms": TARGET_PANEL_MS},
              "ok": result["ok"] and panels["panel_update_ms"]["p95"] <= TARGET_PANEL_MS,
              "cpus": os.cpu_count(), "load_avg": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>26}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
