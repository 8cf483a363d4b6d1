"""Tests for the NumPy sampling engine (`models.numpy_sampler`): its step equals
`SynthesizerNet.step`, seeded sampling repeats, priming, and end-of-text detection in
`synthesis.sample_stream` for both engines. Speed targets live in `handwriting bench`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from handwriting.alphabet import Alphabet
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.numpy_sampler import (
    NumpySynthesisStep,
    fast_weights,
)
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.models.threads import NUMPY_ONE_THREAD
from handwriting.results import Style
from handwriting.synthesis import (
    END_TAIL_STEPS,
    _encode_batch,
    collect_lines,
    sample_stream,
    window_shift,
)

TOL = 1e-5
ALPHABET = Alphabet()




def tiny_net(seed: int = 0) -> SynthesizerNet:
    torch.manual_seed(seed)
    cfg = SynthesizerConfig(n_chars=len(ALPHABET), hidden=32, layers=3, mixtures=5,
                            window_gaussians=3)
    return SynthesizerNet(cfg).eval()


def text_batch(lines: list[str]):
    return _encode_batch(lines, ALPHABET, len(ALPHABET))


def random_offsets(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, 3)).astype(np.float32)
    x[:, 2] = rng.random(n) < 0.2
    return x


def assert_state_equal(fast: NumpySynthesisStep, state) -> None:
    for layer, (h, c) in enumerate(state.hc):
        fh, fc = fast.hidden(layer)
        np.testing.assert_allclose(fh, h.numpy(), atol=TOL, err_msg=f"h of layer {layer}")
        np.testing.assert_allclose(fc, c.numpy(), atol=TOL, err_msg=f"c of layer {layer}")
    np.testing.assert_allclose(fast.kappa, state.window.kappa.numpy(), atol=TOL)
    np.testing.assert_allclose(fast.phi, state.window.phi.numpy(), atol=TOL)
    np.testing.assert_allclose(fast.window_vector(), state.window.w.numpy(), atol=TOL)


LINES = {1: ["hello world"], 3: ["hello world", "a b", "Quick, 42!"]}  # uneven: masked ends


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("bias", [0.0, 0.8])
@pytest.mark.parametrize("batch", [1, 3])
def test_step_matches_torch(batch, bias, backend):
    net, rng = tiny_net(), np.random.default_rng(batch)
    text, mask, _ = text_batch(LINES[batch])
    fast = NumpySynthesisStep(fast_weights(net), text, mask, bias, backend=backend)
    state = net.initial_state(batch, text.shape[1])
    t_text, t_mask = torch.from_numpy(text), torch.from_numpy(mask)
    with torch.no_grad():
        for x in random_offsets(rng, 50 * batch).reshape(50, batch, 3):
            p, state = net.step(torch.from_numpy(x), state, t_text, t_mask, bias)
            fast.step(x)
            mix = fast.mixture()
            for got, want in [(mix.log_pi, p.log_pi), (mix.mu[..., 0], p.mu1),
                              (mix.mu[..., 1], p.mu2), (mix.log_sigma[..., 0], p.log_sigma1),
                              (mix.log_sigma[..., 1], p.log_sigma2), (mix.rho, p.rho),
                              (mix.eos, p.eos)]:
                np.testing.assert_allclose(got, want.numpy(), atol=TOL)
            np.testing.assert_allclose(mix.sigma, np.exp(mix.log_sigma), rtol=1e-6)
            assert_state_equal(fast, state)


def test_weights_cache_follows_the_parameters():
    net = tiny_net()
    first = fast_weights(net)
    assert fast_weights(net) is first
    with torch.no_grad():
        net.head.linear.bias.add_(1.0)  # in place: a new version of the parameter
    assert fast_weights(net) is not first


def test_priming_state_matches_torch():
    net, rng = tiny_net(1), np.random.default_rng(5)
    text, mask, _ = text_batch(["style text then the line", "short"])
    prime = random_offsets(rng, 30)
    fast = NumpySynthesisStep(fast_weights(net), text, mask, 0.5)
    state = net.initial_state(2, text.shape[1])
    x = np.zeros((2, 3), np.float32)
    with torch.no_grad():
        for p in prime:  # teacher forced, as in sample_stream
            _, state = net.step(torch.from_numpy(x), state, torch.from_numpy(text),
                                torch.from_numpy(mask), 0.5)
            fast.step(x, head=False)
            x = np.tile(p, (2, 1))
    assert_state_equal(fast, state)


def stream_offsets(net, lines, seed, engine="numpy", style=None) -> list[np.ndarray]:
    frames = sample_stream(net, ALPHABET, lines, 1.0, bias=0.5, style=style, seed=seed,
                           engine=engine)
    return collect_lines(frames, len(lines))


@pytest.mark.parametrize("batch", [1, 2])
def test_seeded_sampling_repeats(batch):
    net = tiny_net()
    lines = ["ab", "cde"][:batch]
    first = stream_offsets(net, lines, seed=3)
    again = stream_offsets(net, lines, seed=3)
    other = stream_offsets(net, lines, seed=4)
    assert all(len(a) for a in first)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(len(a) != len(b) or not np.array_equal(a, b)
               for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_priming_with_a_style(engine):
    net, rng = tiny_net(), np.random.default_rng(0)
    style = Style("s", random_offsets(rng, 12), "xy")
    frames = list(sample_stream(net, ALPHABET, ["ab"], 0.5, style=style, seed=0, engine=engine))
    assert frames and {f.text_offset for f in frames} == {len("xy ")}
    assert frames[0].phi.shape == (1, len("xy ab") + 1)


def clockwork_window(net: SynthesizerNet, pen_up: bool = True) -> SynthesizerNet:
    """The window ignores the network and moves one character per step (alpha = beta = 1):
    phi at step t peaks at u = t + 1, so the window passes a line of n characters at step
    n - 1. Every sampled point lifts the pen (pen_up) or none does."""
    k, m = net.cfg.window_gaussians, net.cfg.mixtures
    with torch.no_grad():
        net.window.linear.weight.zero_()
        net.window.linear.bias.zero_()
        net.window.linear.bias[2 * k:] = math.log(1 / net.cfg.kappa_scale)
        net.head.linear.weight[6 * m].zero_()
        net.head.linear.bias[6 * m] = 30.0 if pen_up else -30.0  # the end-of-stroke logit
    return net


def stuck_window(net: SynthesizerNet) -> SynthesizerNet:
    """The window ignores the network and never moves (alpha = beta = 1, kappa's step
    ~1e-6): whatever ink it reads, phi peaks at the first character."""
    k = net.cfg.window_gaussians
    with torch.no_grad():
        net.window.linear.weight.zero_()
        net.window.linear.bias.zero_()
        net.window.linear.bias[2 * k:] = math.log(1e-6 / net.cfg.kappa_scale)
    return net


@pytest.mark.parametrize("engine", ["numpy", "jit", "torch"])
def test_after_priming_the_window_starts_past_the_prime(engine):
    """A window still inside the prime's text when the prime ends made the network write the
    prime's last characters again before the line ("ful the quick ..." after "an awful"):
    sampling starts with it moved on to the space after the prime, by every engine."""
    if engine == "jit":
        pytest.importorskip("numba")
    net, rng = stuck_window(tiny_net()), np.random.default_rng(0)
    style = Style("s", random_offsets(rng, 12), "xyz")
    frames = sample_stream(net, ALPHABET, ["ab", "abc"], 0.5, style=style, seed=0,
                           engine=engine)
    first = next(iter(frames))
    assert first.text_offset == len("xyz ")
    np.testing.assert_array_equal(first.phi.argmax(1), [len("xyz")] * 2)  # the space


def test_window_shift_moves_a_window_centred_over_a_character_from_the_space():
    phi = np.zeros((7, 8), np.float32)
    phi[0, 1] = phi[1, 4] = phi[2, 5] = phi[3, 7] = 1.0  # row 6: no weight, left where it is
    phi[4, 3], phi[4, 4] = 1.0, 0.8  # peak one short, centred 0.56 short: left alone
    phi[5, 3], phi[5, 2] = 1.0, 0.6  # peak one short, centred 1.38 short: one character on
    np.testing.assert_array_equal(window_shift(phi, 4), [3.0, 0.0, 0.0, -3.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("engine", ["numpy", "jit", "torch"])
def test_after_priming_a_window_ahead_of_the_prime_is_put_back_on_its_space(engine):
    """A window already inside the new text when the prime ended lost its first letters
    ("uick brown fox" after "above the and"): it starts on the space after the prime."""
    if engine == "jit":
        pytest.importorskip("numba")
    net, rng = clockwork_window(tiny_net()), np.random.default_rng(0)  # one character a step
    style = Style("s", random_offsets(rng, 12), "xyz")  # 12 steps: far past "xyz ab"
    frames = sample_stream(net, ALPHABET, ["abcdefghijklmnop"], 0.5, style=style, seed=0,
                           engine=engine)
    first = next(iter(frames))
    assert first.phi[0].argmax() == len("xyz") + 1  # the space, then one step on


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_end_of_text_stops_lines(engine):
    net = clockwork_window(tiny_net())
    frames = list(sample_stream(net, ALPHABET, ["ab", "abcde"], 1.0, seed=0, engine=engine))
    active = np.array([f.active for f in frames])  # (steps, B)
    assert len(frames) == 5
    np.testing.assert_array_equal(active[:, 0], [True, True, False, False, False])
    assert active[:, 1].all()
    assert [len(o) for o in collect_lines(iter(frames), 2)] == [2, 5]


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_a_line_finishes_its_last_stroke(engine):
    """Past the text, a line goes on to its next pen-up, here never: END_TAIL_STEPS more."""
    net = clockwork_window(tiny_net(), pen_up=False)
    frames = list(sample_stream(net, ALPHABET, ["ab", "abcde"], 1.0, seed=0, engine=engine))
    assert [len(o) for o in collect_lines(iter(frames), 2)] == [
        2 + END_TAIL_STEPS, 5 + END_TAIL_STEPS]
    assert not any(f.offsets[0, 2] for f in frames if f.active[0])  # the pen never lifted


def test_frames_mean_the_same_in_both_engines():
    net = tiny_net()
    lines, scale = ["ab", "abc"], 0.25
    fast = next(iter(sample_stream(net, ALPHABET, lines, scale, seed=0, engine="numpy")))
    slow = next(iter(sample_stream(net, ALPHABET, lines, scale, seed=0, engine="torch")))
    # the first step sees the same input (a zero offset), so everything but the draw agrees
    for name in ("phi", "kappa", "eos", "log_pi", "mu", "sigma", "rho"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, atol=TOL, err_msg=name)
    assert fast.offsets.shape == slow.offsets.shape == (2, 3)
    assert fast.active.dtype == slow.active.dtype == bool


def test_thread_counts_are_restored():
    """Products run single-threaded inside a step; the global settings come back after it."""
    blas = NUMPY_ONE_THREAD.current()
    torch.set_num_threads(2)
    try:
        for lines in (["ab"], ["ab", "cd"]):  # NumPy products at batch 1, PyTorch's above
            list(sample_stream(tiny_net(), ALPHABET, lines, 1.0, seed=0))
        assert torch.get_num_threads() == 2
        assert NUMPY_ONE_THREAD.current() == blas
    finally:
        torch.set_num_threads(1)


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        sample_stream(tiny_net(), ALPHABET, ["ab"], 1.0, engine="jax")


@pytest.mark.parametrize("compiled", [False, True])
def test_a_narrowed_step_continues_its_rows_exactly(compiled):
    """`narrowed(rows)` carries the rows' state over: its next steps are the full batch's for
    those rows (the compiled step too)."""
    if compiled:
        pytest.importorskip("numba")
        from handwriting.models.numba_sampler import JitSynthesisStep as Step
    else:
        Step = NumpySynthesisStep
    net, rng = tiny_net(4), np.random.default_rng(4)
    text, mask, _ = text_batch(LINES[3])
    full = Step(fast_weights(net), text, mask, 0.5)
    for x in random_offsets(rng, 30).reshape(10, 3, 3):
        full.step(x)
    keep = np.array([0, 2])
    part = full.narrowed(keep)
    assert part.B == 2 and np.array_equal(part.chars, full.chars)
    for x in random_offsets(rng, 30).reshape(10, 3, 3):
        full.step(x)
        part.step(x[keep])
        np.testing.assert_allclose(part.phi, full.phi[keep], atol=TOL)
        np.testing.assert_allclose(part.mixture().mu, full.mixture().mu[keep], atol=TOL)
        for layer in range(net.cfg.layers):
            np.testing.assert_allclose(part.hidden(layer)[0], full.hidden(layer)[0][keep],
                                       atol=TOL)


@pytest.mark.parametrize("engine", ["numpy", "jit"])
def test_lines_sample_the_same_whether_ended_lines_are_dropped_or_not(engine, monkeypatch):
    """The sampler stops computing lines that have ended (`_NumpyEngine.NARROW_AT`); every
    line still samples exactly what it samples in a batch that never drops one."""
    if engine == "jit":
        pytest.importorskip("numba")
    from handwriting import synthesis

    net = clockwork_window(tiny_net(5))
    lines = ["ab", "hello world", "abc", "Quick, 42 and more words"]  # end far apart
    narrowed = []
    real = NumpySynthesisStep.narrowed

    def spy(self, rows):
        narrowed.append(len(rows))
        return real(self, rows)

    monkeypatch.setattr(NumpySynthesisStep, "narrowed", spy)
    dropped = stream_offsets(net, lines, 7, engine)
    assert narrowed and narrowed[-1] < len(lines)  # it did drop ended lines
    monkeypatch.setattr(synthesis._NumpyEngine, "NARROW_AT", 0.0)  # never narrow
    narrowed.clear()
    kept = stream_offsets(net, lines, 7, engine)
    assert narrowed == []
    assert [len(a) for a in dropped] == [len(b) for b in kept]
    for a, b in zip(dropped, kept, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
