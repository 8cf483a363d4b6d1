"""Tests for the compiled sampling step (`models.numba_sampler`): it computes what the NumPy
engine computes, makes the same draws for one seed, primes, ends lines and is what
`engine="auto"` picks. Speed targets live in `handwriting bench synthesize`."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.models import halves, numba_sampler
from handwriting.models.numpy_sampler import NumpySynthesisStep, fast_weights
from handwriting.results import Style
from handwriting.synthesis import (
    END_TAIL_STEPS,
    choose_engine,
    collect_lines,
    sample_stream,
)
from tests.handwriting.test_numpy_sampler import (
    ALPHABET,
    LINES,
    TOL,
    clockwork_window,
    random_offsets,
    stream_offsets,
    text_batch,
    tiny_net,
)

pytest.importorskip("numba")
JitSynthesisStep = numba_sampler.JitSynthesisStep


def test_tanh_matches_numpy_everywhere():
    x = np.concatenate([np.linspace(-30, 30, 20001), [0.0, 1e-8, -1e-8, 1e30, -1e30]])
    x = x.astype(np.float32)
    got = np.array([numba_sampler._tanh(v) for v in x], np.float32)
    np.testing.assert_allclose(got, np.tanh(x.astype(np.float64)), atol=5e-7)
    assert np.all(np.abs(got) <= 1.0) and got[-2] > 0.9999 and got[-1] < -0.9999  # no overflow


@pytest.mark.parametrize("bias", [0.0, 0.8])
@pytest.mark.parametrize("batch", [1, 3])
def test_step_matches_the_numpy_engine(batch, bias):
    net, rng = tiny_net(2), np.random.default_rng(batch)
    text, mask, _ = text_batch(LINES[batch])
    want = NumpySynthesisStep(fast_weights(net), text, mask, bias)
    got = JitSynthesisStep(fast_weights(net), text, mask, bias)
    for t, x in enumerate(random_offsets(rng, 40 * batch).reshape(40, batch, 3)):
        head = t % 5 != 0  # the priming steps skip the head
        want.step(x, head=head)
        got.step(x, head=head)
        for layer in range(net.cfg.layers):
            for a, b in zip(got.hidden(layer), want.hidden(layer), strict=True):
                np.testing.assert_allclose(a, b, atol=TOL, err_msg=f"layer {layer}, step {t}")
        np.testing.assert_allclose(got.kappa, want.kappa, atol=TOL)
        np.testing.assert_allclose(got.phi, want.phi, atol=TOL)
        np.testing.assert_allclose(got.window_vector(), want.window_vector(), atol=TOL)
        if head:
            a, b = got.mixture(), want.mixture()
            for name in ("log_pi", "mu", "log_sigma", "sigma", "rho", "eos"):
                np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=TOL,
                                           err_msg=name)


@pytest.mark.parametrize("batch", [1, 2])
def test_same_draws_as_the_numpy_engine(batch):
    net = tiny_net(3)
    lines = ["hello", "abc de"][:batch]
    want = stream_offsets(net, lines, seed=7, engine="numpy")
    got = stream_offsets(net, lines, seed=7, engine="jit")
    for a, b in zip(got, want, strict=True):
        assert len(a) == len(b) > 0
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_seeded_sampling_repeats_and_seeds_differ():
    net = tiny_net()
    first = stream_offsets(net, ["abc"], seed=3, engine="jit")[0]
    np.testing.assert_array_equal(first, stream_offsets(net, ["abc"], seed=3, engine="jit")[0])
    other = stream_offsets(net, ["abc"], seed=4, engine="jit")[0]
    assert len(first) != len(other) or not np.array_equal(first, other)


def test_priming_then_sampling_matches_the_numpy_engine():
    net, rng = tiny_net(1), np.random.default_rng(0)
    style = Style("s", random_offsets(rng, 12), "xy")
    want = stream_offsets(net, ["ab"], seed=1, engine="numpy", style=style)[0]
    got = stream_offsets(net, ["ab"], seed=1, engine="jit", style=style)[0]
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.mark.parametrize("pen_up", [True, False])
def test_end_of_text_stops_lines(pen_up):
    net = clockwork_window(tiny_net(), pen_up)
    frames = list(sample_stream(net, ALPHABET, ["ab", "abcde"], 1.0, seed=0, engine="jit"))
    tail = 0 if pen_up else END_TAIL_STEPS  # past the text, a line finishes its stroke
    assert [len(o) for o in collect_lines(iter(frames), 2)] == [2 + tail, 5 + tail]


def test_auto_picks_the_compiled_step_for_any_number_of_lines():
    assert choose_engine("auto", 1) == "jit"
    assert choose_engine("auto", numba_sampler.ROW_KERNEL_MAX_ROWS + 1) == "jit"
    assert choose_engine("torch", 1) == "torch"
    with pytest.raises(ValueError, match="'jax'"):
        choose_engine("jax", 1)


def test_auto_falls_back_to_numpy_without_numba(monkeypatch):
    monkeypatch.setattr(numba_sampler, "numba", None)
    assert choose_engine("auto", 1) == "numpy"
    text, mask, _ = text_batch(["ab"])
    with pytest.raises(RuntimeError, match="numba"):
        JitSynthesisStep(fast_weights(tiny_net()), text, mask)


def test_warm_up_compiles_for_a_real_network():
    numba_sampler.warm_up(fast_weights(tiny_net()))
    numba_sampler.warm_up()


def test_bench_reports_every_engine_against_the_baseline():
    from dataclasses import asdict

    from handwriting.bench import bench_synthesize
    from handwriting.service import Synthesizer

    net = tiny_net()
    syn = Synthesizer({"model_config": asdict(net.cfg), "alphabet": ALPHABET.chars,
                       "feature_config": {"spacing": 0.14, "deslope": True},
                       "offset_scale": 0.5, "state_dict": net.state_dict()})
    result = bench_synthesize(syn, steps=10, repeats=2)
    assert result["engine"] == "jit" and result["paragraph_engine"] == "jit"
    for key in ("steps_per_s", "lstmcell_baseline_steps_per_s", "numpy_steps_per_s",
                "torch_steps_per_s", "speedup_vs_lstmcell", "paragraph_seconds"):
        assert result[key] > 0, key
    assert (result["hidden"], result["layers"]) == (net.cfg.hidden, net.cfg.layers)


def test_half_if_exact_keeps_only_what_halves_hold_exactly():
    w = np.float16([[0.5, -3.25e-3], [1e-7, 65504.0]]).astype(np.float32)  # a subnormal too
    h = halves.half_if_exact(w)
    assert h.dtype == np.uint16 and np.array_equal(h.view(np.float16).astype(np.float32), w)
    for inexact in (w + np.float32(1e-4), w * np.float32(2.0) ** 10,  # rounding, overflow
                    np.where(w > 1, np.float32(np.nan), w)):  # nan: never a half
        assert halves.half_if_exact(inexact) is inexact


def test_a_cpu_that_cannot_widen_halves_keeps_float32(monkeypatch):
    """Without F16C LLVM would widen a half through a runtime helper Numba may not link: the
    weights then stay float32, and an fp16 checkpoint samples as before."""
    w = np.float16([[0.5, 0.25]]).astype(np.float32)
    monkeypatch.setattr(halves, "_HALVES", False)
    assert halves.half_if_exact(w) is w
    weights = fast_weights(_half_net(6))
    assert not weights.half_exact
    text, mask, _ = text_batch(["ab"])
    assert all(m.dtype == np.float32
               for m in JitSynthesisStep(weights, text, mask).layer_weights()[0])
    monkeypatch.setattr("platform.machine", lambda: "ppc64le")  # unknown: not assumed
    assert not halves.halves_supported()


def _half_net(seed: int):
    """A tiny network whose weights are halves, as an fp16 checkpoint's are."""
    import torch

    net = tiny_net(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    return net


@pytest.mark.parametrize("batch", [1, 3])
def test_an_fp16_checkpoint_steps_on_halves_and_matches_the_numpy_engine(batch):
    net, rng = _half_net(4), np.random.default_rng(batch)
    weights = fast_weights(net)
    assert weights.half_exact and not fast_weights(tiny_net(4)).half_exact
    text, mask, _ = text_batch(LINES[batch])
    want = NumpySynthesisStep(weights, text, mask, 0.5)
    got = JitSynthesisStep(weights, text, mask, 0.5)
    assert all(w.dtype == np.uint16 for w in got.layer_weights()[0])  # streamed: halves
    for x in random_offsets(rng, 30 * batch).reshape(30, batch, 3):
        want.step(x)
        got.step(x)
        for layer in range(net.cfg.layers):
            for a, b in zip(got.hidden(layer), want.hidden(layer), strict=True):
                np.testing.assert_allclose(a, b, atol=TOL)
        np.testing.assert_allclose(got.mixture().mu, want.mixture().mu, atol=TOL)
    # and a whole seeded line samples what the NumPy engine samples
    a = stream_offsets(net, ["hello"], seed=2, engine="jit")[0]
    b = stream_offsets(net, ["hello"], seed=2, engine="numpy")[0]
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_many_rows_share_matrix_products_and_sample_what_the_numpy_engine_samples():
    """Past `ROW_KERNEL_MAX_ROWS` rows a step is one matrix product per layer for all rows
    (the NumPy engine's products, the rest compiled); narrowed to a few live lines it is the
    row kernel again. Either way each line samples what the NumPy engine samples."""
    rows = numba_sampler.ROW_KERNEL_MAX_ROWS + 2
    net, rng = _half_net(5), np.random.default_rng(0)
    lines = [("ab", "hello", "abc de", "a")[i % 4] + " x" * (i % 3) for i in range(rows)]
    text, mask, _ = text_batch(lines)
    want = NumpySynthesisStep(fast_weights(net), text, mask, 0.7)
    got = JitSynthesisStep(fast_weights(net), text, mask, 0.7)
    for t, x in enumerate(random_offsets(rng, 12 * rows).reshape(12, rows, 3)):
        want.step(x, head=t % 4 != 0)
        got.step(x, head=t % 4 != 0)
        np.testing.assert_allclose(got.hidden(2)[0], want.hidden(2)[0], atol=TOL)
        np.testing.assert_allclose(got.phi, want.phi, atol=TOL)
    np.testing.assert_allclose(got.mixture().sigma, want.mixture().sigma, atol=TOL)
    assert got._layer_wb is None  # the row kernel's matrices were never needed
    a = stream_offsets(net, lines, seed=4, engine="jit")
    b = stream_offsets(net, lines, seed=4, engine="numpy")
    assert [len(x) for x in a] == [len(x) for x in b]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-4)


@pytest.mark.parametrize("rows", [2, numba_sampler.ROW_KERNEL_MAX_ROWS + 1])
def test_a_chunk_of_steps_is_what_step_sample_gives_step_by_step(rows):
    """`sample_steps` runs n steps in one compiled call (row kernel) or a loop (many rows):
    each step's offset, window and mixture are those of n calls of `step_sample`."""
    net, rng = _half_net(6), np.random.default_rng(1)
    text, mask, _ = text_batch([("hello", "ab c", "Quick, 42!")[i % 3] for i in range(rows)])
    one = JitSynthesisStep(fast_weights(net), text, mask, 0.6)
    chunk = JitSynthesisStep(fast_weights(net), text, mask, 0.6)
    x0 = random_offsets(rng, rows)
    uniform, normal = rng.random((9, rows, 2)), rng.standard_normal((9, rows, 2))
    got = chunk.sample_steps(uniform, normal, x0)
    want, x = [], x0
    for t in range(9):
        x = one.step_sample(None, x, (uniform[t], normal[t]))
        mix = one.mixture()
        want.append((x, one.phi.copy(), one.kappa.copy(), mix.eos, mix.log_pi, mix.mu,
                     mix.sigma, mix.rho))
    for name, a, b in zip(("x", "phi", "kappa", "eos", "log_pi", "mu", "sigma", "rho"), got,
                          map(np.stack, zip(*want, strict=True)), strict=True):
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(chunk.phi, one.phi)  # left as after the last step
    np.testing.assert_array_equal(chunk.mixture().mu, one.mixture().mu)


@pytest.mark.parametrize("engine", ["jit", "numpy"])
def test_sampling_in_chunks_yields_the_frames_of_sampling_step_by_step(engine, monkeypatch):
    """`sample_stream` samples `CHUNK_STEPS` steps per engine call and yields a frame per
    step: the same frames, ends of lines and draws as one step per call (the rows of ended
    lines mean nothing in either)."""
    from handwriting import synthesis

    net = tiny_net(4)
    lines = ["ab", "hello world", "abc"]

    def frames():
        return list(sample_stream(net, ALPHABET, lines, 0.5, seed=9, engine=engine))

    chunked = frames()
    monkeypatch.setattr(synthesis, "CHUNK_STEPS", 1)
    stepped = frames()
    assert len(chunked) == len(stepped) > synthesis.CHUNK_STEPS
    for a, b in zip(chunked, stepped, strict=True):
        assert a.step == b.step
        np.testing.assert_array_equal(a.active, b.active)
        for name in ("offsets", "phi", "kappa", "eos", "mu", "sigma"):
            np.testing.assert_allclose(getattr(a, name)[a.active], getattr(b, name)[b.active],
                                       atol=1e-6, err_msg=name)
