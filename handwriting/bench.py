"""Benchmarks behind `handwriting bench`: latency and throughput of the shipped models on this
machine. Performance targets live here, never in timed tests."""

from __future__ import annotations

import time

import numpy as np

from handwriting.ink import Ink, Stroke

PARAGRAPH_SEEDS = 10
PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog while a small robot learns to write its "
    "own name. Please water the plants on the balcony today, and bring a warm jacket "
    "because the wind is cold tonight near the river."
)


def scribble_line(points: int = 1000, stroke_points: int = 100) -> Ink:
    """A deterministic cursive-like line (looping trochoid, pen lifts every `stroke_points`),
    so the benchmark needs no dataset. Its point density matches IAM-OnDB's (~0.07 writing
    heights of arc per point, ~21 points per letter-sized loop)."""
    t = np.linspace(0, points / 36, points)
    x = 0.35 * t - 0.25 * np.sin(2 * np.pi * t)
    y = 0.5 * np.cos(2 * np.pi * t) + 0.1 * np.sin(0.7 * t)
    xy = np.stack([x, -y], 1).astype(np.float32)
    strokes = [Stroke(xy[i:i + stroke_points], (t[i:i + stroke_points] * 0.3).astype(np.float32))
               for i in range(0, points, stroke_points)]
    return Ink(tuple(strokes))


def _percentiles(times: list[float]) -> dict:
    ms = np.array(times) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def bench_recognize(recognizer, repeats: int = 40, points: int = 1000) -> dict:
    """Latency of re-recognizing a whole `points`-point line (default decoder), and batch
    throughput (lines per second) of evaluation-style recognition. `first_recognition_s` is
    the first call on this line (the caller warms the recognizer up as the app does, or not:
    the CLI does, see `cmd_bench`), `steady_recognition_s` the median of the rest."""
    ink = scribble_line(points)
    t0 = time.perf_counter()
    recognizer.recognize(ink)  # the first call: after `warm_up`, as fast as the rest
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        recognizer.recognize(ink)
        times.append(time.perf_counter() - t0)
    batch = [scribble_line(points - 20 * i) for i in range(32)]
    t0 = time.perf_counter()
    for lp in recognizer.log_posteriors(batch):
        recognizer.decode(lp)
    lines_per_s = len(batch) / (time.perf_counter() - t0)
    return {**_percentiles(times), "points": points, "lines_per_s": round(lines_per_s, 1),
            "first_recognition_s": round(first, 4),
            "steady_recognition_s": round(float(np.median(times)), 4),
            "decoder": recognizer.default_decoder, "engine": getattr(recognizer, "engine", "torch"),
            "threads": _torch_threads()}


def _torch_threads() -> int | None:
    """torch's thread count when this process has torch loaded (the NumPy/Numba engines do
    not load it), else None."""
    import sys

    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def lstmcell_baseline_steps_per_s(cfg, steps: int = 300) -> float:
    """Steps per second of a plain PyTorch loop of `nn.LSTMCell`s of the synthesizer's size
    (batch 1): the reference the sampler's speed is compared with."""
    import torch

    h, c_in = cfg.hidden, 3 + cfg.n_chars
    cells = [torch.nn.LSTMCell(c_in if i == 0 else c_in + h, h) for i in range(cfg.layers)]
    x = torch.zeros(1, c_in)
    state = [(torch.zeros(1, h), torch.zeros(1, h)) for _ in cells]
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(steps):
            inp = x
            for i, cell in enumerate(cells):
                state[i] = cell(inp, state[i])
                inp = torch.cat([x, state[i][0]], -1)
        return steps / (time.perf_counter() - t0)


def _stream_steps_per_s(frames, steps: int) -> float:
    """Steady sampling rate of a stream of frames; its first frame (the set-up) is not timed."""
    frames = iter(frames)
    next(frames)
    n, t0 = 0, time.perf_counter()
    for _ in frames:
        n += 1
        if n >= steps:
            break
    return n / (time.perf_counter() - t0)


def bench_synthesize(synthesizer, steps: int = 200, repeats: int = 7) -> dict:
    """Sampling speed at batch 1 of every engine (`synthesis.sample_stream`) and of the
    LSTMCell baseline, measured in turns, best of `repeats` each; the speed-ups are the
    median over turns of each turn's own ratio, which a CPU shared with other jobs disturbs
    least (the ratio is the number to read); a paragraph end to end, plain (seed 0) and
    self-checked (`selfcheck.DEFAULT_CANDIDATES` candidates read back; in the default hand,
    `presets.DEFAULT_STYLE`, as the CLI and the app write it; the median and the
    slowest of `PARAGRAPH_SEEDS` seeds, as retries make it vary), wrapped as `write` wraps it
    (`paragraph_lines`); and the model's size. `steps_per_s` is the default engine's ("auto":
    the compiled step when Numba is installed)."""
    import sys

    from handwriting.synthesis import choose_engine, collect_lines, sample_stream

    cfg = synthesizer.config
    line = ("handwriting " * 4)[:40]

    def stream(lines, engine, seed=0):
        return sample_stream(synthesizer.net, synthesizer.alphabet, lines,
                             synthesizer.offset_scale, seed=seed, engine=engine)

    # The paragraphs first, as users run them: the app's and the CLI's synthesizers never load
    # torch (which the baselines below do, and with it the NumPy engine's products move to
    # torch's threads). A CLI run with --threads loads it first; the JSON says which it was.
    paragraph_without_torch = "torch" not in sys.modules
    plan = synthesizer.plan(PARAGRAPH)  # wrapped as `write` wraps it: what a user gets
    synthesizer.warm_up()  # as the app's model process does before it reports ready
    t0 = time.perf_counter()
    style = synthesizer.default_style  # the hand the CLI and the app write in by default
    synthesizer.write(PARAGRAPH, seed=0, candidates=1, style=style)  # the default engine
    paragraph_seconds = time.perf_counter() - t0
    from handwriting.selfcheck import DEFAULT_CANDIDATES

    synthesizer.write("short", seed=0, candidates=DEFAULT_CANDIDATES)  # load the reader
    checked = []
    for seed in range(PARAGRAPH_SEEDS):  # a seed whose lines need a retry costs more
        t0 = time.perf_counter()
        synthesizer.write(PARAGRAPH, seed=seed, candidates=DEFAULT_CANDIDATES, style=style)
        checked.append(time.perf_counter() - t0)
    engine = choose_engine("auto", 1)
    engines = [e for e in ("jit", "numpy", "torch") if e == engine or e != "jit"]
    if "jit" in engines:
        next(iter(stream([line], "jit")))  # compile, or load the compiled step from disk
    rates: dict[str, list[float]] = {e: [] for e in [*engines, "lstmcell"]}
    for rep in range(repeats):
        for e in engines:
            rates[e].append(_stream_steps_per_s(stream([line], e, rep), steps))
        rates["lstmcell"].append(lstmcell_baseline_steps_per_s(cfg, steps))
    best = {k: max(v) for k, v in rates.items()}
    base = np.array(rates["lstmcell"])
    speedup = {k: round(float(np.median(np.array(v) / base)), 2) for k, v in rates.items()}
    t0 = time.perf_counter()
    collect_lines(stream(list(plan.lines), "torch"), len(plan.lines))
    torch_paragraph_seconds = time.perf_counter() - t0
    baseline = best["lstmcell"]
    return {"steps_per_s": round(best[engine], 1),
            "lstmcell_baseline_steps_per_s": round(baseline, 1),
            "speedup_vs_lstmcell": speedup[engine],
            "paragraph_seconds": round(paragraph_seconds, 3),
            "paragraph_candidates": DEFAULT_CANDIDATES, "paragraph_style": style,
            "paragraph_seconds_self_checked": round(float(np.median(checked)), 3),
            "paragraph_seconds_self_checked_max": round(max(checked), 3),
            "paragraph_seeds": PARAGRAPH_SEEDS,
            "paragraph_without_torch": paragraph_without_torch,
            "engine": engine, "paragraph_engine": choose_engine("auto", len(plan.lines)),
            "numpy_steps_per_s": round(best["numpy"], 1),
            "numpy_speedup_vs_lstmcell": speedup["numpy"],
            "torch_steps_per_s": round(best["torch"], 1),
            "torch_speedup_vs_lstmcell": speedup["torch"],
            "torch_paragraph_seconds": round(torch_paragraph_seconds, 3),
            "paragraph_chars": len(PARAGRAPH), "paragraph_lines": len(plan.lines),
            "hidden": cfg.hidden, "layers": cfg.layers, "mixtures": cfg.mixtures,
            "window_gaussians": cfg.window_gaussians, "alphabet": len(synthesizer.alphabet) - 1,
            "threads": _torch_threads()}
