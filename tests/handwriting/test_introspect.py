"""Tests for introspection: the instrumented LSTM against `nn.LSTM`, the recognizer trace
against the network's own output, input-gradient saliency (exact, local, causal), the
synthesizer trace and next-point density, and the diverging colour scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.introspect import (
    InstrumentedLSTM,
    cell_saliency,
    char_saliency,
    most_active_label,
    record_recognizer,
    saliency,
)
from handwriting.models.configs import RecognizerConfig, SynthesizerConfig
from handwriting.models.recognizer import RecognizerNet
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.synthesis import sample_stream
from handwriting.traces import PointMixture, SynthesisTrace, diverging_rgb, mixture_density_grid


def _net(layers: int = 2, seed: int = 0) -> RecognizerNet:
    torch.manual_seed(seed)
    return RecognizerNet(RecognizerConfig(hidden=16, layers=layers, conv_channels=16)).eval()


def _line(T: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, T, 8, generator=torch.Generator().manual_seed(seed))  # (1, T, F)


# --------------------------------------------------------------------------- InstrumentedLSTM


@pytest.mark.parametrize("with_state", [False, True])
def test_instrumented_lstm_equals_nn_lstm(with_state):
    torch.manual_seed(0)
    lstm = nn.LSTM(5, 7, batch_first=True)
    x = torch.randn(3, 17, 5)
    hc = (torch.randn(1, 3, 7), torch.randn(1, 3, 7)) if with_state else None
    out, (h_n, c_n), trace = InstrumentedLSTM(lstm)(x, hc)
    ref, (h_ref, c_ref) = lstm(x, hc)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(h_n, h_ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(c_n, c_ref, atol=1e-5, rtol=0)
    assert trace.c.shape == trace.i.shape == (3, 17, 7)
    torch.testing.assert_close(trace.c[:, -1], c_ref[0], atol=1e-5, rtol=0)


def test_instrumented_lstm_is_differentiable_like_nn_lstm():
    torch.manual_seed(1)
    lstm = nn.LSTM(4, 6, batch_first=True)
    x = torch.randn(2, 11, 4, requires_grad=True)
    (g_ours,) = torch.autograd.grad(InstrumentedLSTM(lstm)(x)[2].c[:, 5, 2].sum(), x)
    _, (_, c) = lstm(x[:, :6])
    (g_ref,) = torch.autograd.grad(c[0, :, 2].sum(), x)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-6, rtol=1e-4)
    assert g_ours[:, 6:].abs().max() == 0  # causal: later inputs do not reach step 5


@pytest.mark.parametrize("kw", [{"num_layers": 2}, {"bidirectional": True},
                                {"batch_first": False}])
def test_instrumented_lstm_rejects_other_lstms(kw):
    with pytest.raises(ValueError):
        InstrumentedLSTM(nn.LSTM(3, 4, **{"batch_first": True, **kw}))


# --------------------------------------------------------------------------- recognizer trace


@pytest.mark.parametrize("T, n", [(83, 83), (90, 61)])
def test_record_recognizer_log_probs_equal_the_nets(T, n):
    net = _net()
    x = _line(T)
    x[:, n:] = 50.0  # padding, whatever it holds, stays out of the trace
    lens = torch.tensor([n])
    trace = record_recognizer(net, x, lens)
    with torch.no_grad():
        ref, out_lens = net(x, lens)
    t_out = int(out_lens[0])
    assert trace.log_probs.shape == (t_out, net.cfg.n_classes)
    np.testing.assert_allclose(trace.log_probs, ref[:t_out, 0].numpy(), atol=1e-5, rtol=0)
    assert trace.stride == 4 and len(trace.layers) == 2


def test_backward_direction_is_reported_in_forward_time_order():
    net = _net(layers=1)
    x, lens = _line(50), torch.tensor([50])
    trace = record_recognizer(net, x, lens)
    with torch.no_grad():
        z, out_lens = net.encode(x, lens)
        h = net.layers[0](z, out_lens)[0]  # (T', 2H): forward then backward halves
    np.testing.assert_allclose(trace.direction(0, "fwd").h, h[:, :16].numpy(), atol=1e-5)
    np.testing.assert_allclose(trace.direction(0, "bwd").h, h[:, 16:].numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="direction"):
        trace.direction(0, "up")


def test_gates_and_states_are_in_range():
    trace = record_recognizer(_net(), _line(120))
    for layer in trace.layers:
        for d, backward in ((layer.fwd, False), (layer.bwd, True)):
            T = len(d.c)
            assert d.c.shape == d.h.shape == d.i.shape == d.f.shape == d.o.shape == (T, 16)
            for gate in (d.i, d.f, d.o):
                assert gate.min() > 0 and gate.max() < 1
            assert np.abs(d.g).max() < 1 and np.abs(d.h).max() < 1
            # c_t = f c_{t-1} + i g with f, i, |g| < 1: |c| grows by less than 1 per step
            steps = np.arange(T, 0, -1) if backward else np.arange(1, T + 1)
            assert np.all(np.abs(d.c) <= steps[:, None])


def test_record_recognizer_validates_and_restores_training_mode():
    net = _net().train()
    record_recognizer(net, _line(30))
    assert net.training
    with pytest.raises(ValueError, match=r"\(1, T, F\)"):
        record_recognizer(net, torch.zeros(2, 30, 8))
    with pytest.raises(ValueError, match="lengths"):
        record_recognizer(net, _line(30), torch.tensor([31]))


# --------------------------------------------------------------------------- saliency


def test_saliency_equals_autograd_through_the_net():
    net = _net()
    x, lens = _line(64), torch.tensor([64])
    s = saliency(net, x, lens, frame=7, label=5)
    xg = x.clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(net(xg, lens)[0][7, 0, 5], xg)
    assert s.gradient.shape == (64, 8) and s.magnitude.shape == (64,)
    np.testing.assert_allclose(s.gradient, ref[0].numpy(), atol=1e-6, rtol=1e-4)
    np.testing.assert_allclose(s.magnitude, np.linalg.norm(ref[0].numpy(), axis=1), rtol=1e-4,
                               atol=1e-7)
    assert all(p.grad is None for p in net.parameters())


def test_saliency_is_largest_near_its_frame():
    net = _net(layers=1, seed=3)
    T, frame, stride = 400, 50, 4
    s = saliency(net, _line(T, seed=3), None, frame)
    centre = frame * stride
    near = s.magnitude[centre - 4 * stride:centre + 4 * stride + 1]
    far = np.r_[s.magnitude[:centre - 40 * stride], s.magnitude[centre + 40 * stride:]]
    assert near.min() >= 0 and near.max() > 0
    assert near.mean() > 10 * far.mean()


def test_saliency_picks_the_most_active_character_by_default():
    net = _net()
    x = _line(80)
    trace = record_recognizer(net, x)
    s = saliency(net, x, None, frame=9)
    assert s.label == most_active_label(trace.log_probs, 9) != 0
    assert s.target == pytest.approx(trace.log_probs[9, s.label], abs=1e-5)
    c = char_saliency(net, x, None, labels=[4, s.label], char_frames=[2, 9], index=1)
    np.testing.assert_array_equal(c.gradient, s.gradient)
    with pytest.raises(ValueError, match="frame"):
        saliency(net, x, None, frame=len(trace.log_probs))
    with pytest.raises(ValueError, match="label"):
        saliency(net, x, None, frame=0, label=net.cfg.n_classes)
    with pytest.raises(ValueError, match="index"):
        char_saliency(net, x, None, labels=[4], char_frames=[2], index=1)


def test_cell_saliency_is_causal_per_direction():
    """Frame t sees input points up to 4t + 6 (two stride-2 kernel-5 convolutions)."""
    net = _net(layers=1)
    x, t = _line(120), 12
    fwd = cell_saliency(net, x, None, 0, "fwd", unit=3, frame=t)
    bwd = cell_saliency(net, x, None, 0, "bwd", unit=3, frame=t)
    assert fwd.magnitude[4 * t + 7:].max() == 0 and fwd.magnitude[:4 * t + 7].max() > 0
    assert bwd.magnitude[:4 * t - 6].max() == 0 and bwd.magnitude[4 * t - 6:].max() > 0
    assert fwd.target == pytest.approx(record_recognizer(net, x).layers[0].fwd.c[t, 3], abs=1e-5)


# --------------------------------------------------------------------------- synthesizer


@pytest.fixture(scope="module")
def synth_frames():
    torch.manual_seed(0)
    net = SynthesizerNet(SynthesizerConfig(hidden=8, layers=2, mixtures=3,
                                           window_gaussians=2)).eval()
    return list(sample_stream(net, DEFAULT_ALPHABET, ["hi", "hello"], offset_scale=0.5,
                              seed=0))


def test_synthesis_trace_shapes_and_window(synth_frames):
    tr = SynthesisTrace.from_frames(synth_frames, line=1)
    T = len(tr)
    assert 0 < T <= len(synth_frames)
    assert tr.phi.shape[0] == tr.kappa.shape[0] == tr.eos.shape[0] == T
    assert tr.pi.shape == (T, 3) and tr.mu.shape == tr.sigma.shape == (T, 3, 2)
    assert tr.kappa.shape == (T, 2) and tr.phi.shape[1] == len("hello") + 1
    assert np.all(np.diff(tr.kappa, axis=0) >= 0)  # Graves eq. 51: the window only moves on
    assert tr.phi.min() >= 0
    np.testing.assert_allclose(tr.pi.sum(1), 1.0, atol=1e-5)
    assert np.all((tr.eos >= 0) & (tr.eos <= 1))
    np.testing.assert_allclose(tr.tips()[1:], np.cumsum(tr.offsets[:-1, :2], 0), atol=1e-5)
    assert np.all(tr.tips()[0] == 0)
    first = PointMixture.from_frame(synth_frames[0], line=1)
    np.testing.assert_allclose(tr.mixture(0).mu, first.mu)
    np.testing.assert_allclose(np.exp(tr.mixture(0).log_pi), np.exp(first.log_pi), atol=1e-6)


def _mixture() -> PointMixture:
    return PointMixture(log_pi=np.log([0.8, 0.2]), mu=np.array([[0.3, -0.2], [-0.4, 0.3]]),
                        sigma=np.array([[0.1, 0.15], [0.2, 0.1]]), rho=np.array([0.5, -0.3]),
                        eos=0.1)


def test_mixture_density_integrates_to_one_and_peaks_at_the_main_mean():
    tip, extent, n = np.array([1.0, 2.0]), 1.5, 128
    grid = mixture_density_grid(_mixture(), tip, extent, n)
    assert grid.shape == (n, n) and grid.min() >= 0
    cell = 2 * extent / n
    assert grid.sum() * cell**2 == pytest.approx(1.0, rel=0.05)
    r, c = np.unravel_index(grid.argmax(), grid.shape)
    peak = tip - extent + (np.array([c, r]) + 0.5) * cell  # (x, y) of the cell centre
    assert np.abs(peak - (tip + _mixture().mu[0])).max() < 2 * cell


def test_mixture_density_follows_the_correlation_and_the_tip():
    one = PointMixture(np.zeros(1), np.zeros((1, 2)), np.full((1, 2), 0.2), np.array([0.7]), 0.0)
    grid = mixture_density_grid(one, (0.0, 0.0), 0.5, 10)  # cells (r=y, c=x)
    assert grid[7, 7] > grid[7, 2]  # (+x, +y) beats (-x, +y) when rho > 0
    shifted = mixture_density_grid(one, (3.0, 4.0), 0.5, 10, tip=(3.0, 4.0))
    np.testing.assert_allclose(shifted, grid)
    off = mixture_density_grid(one, (0.0, 0.0), 0.5, 10, tip=(5.0, 5.0))
    assert off.max() < 1e-20


# --------------------------------------------------------------------------- colour


def test_diverging_rgb_endpoints_and_clipping():
    rgb = diverging_rgb([-1.0, 0.0, 1.0, -7.0, 3.0, np.nan, 0.5])
    assert rgb.dtype == np.uint8 and rgb.shape == (7, 3)
    assert rgb[0].tolist() == [0, 0, 255]
    assert rgb[1].tolist() == [255, 255, 255]
    assert rgb[2].tolist() == [255, 0, 0]
    assert rgb[3].tolist() == [0, 0, 255] and rgb[4].tolist() == [255, 0, 0]
    assert rgb[5].tolist() == [255, 255, 255]
    assert rgb[6, 0] == 255 and 0 < rgb[6, 1] == rgb[6, 2] < 255
    assert diverging_rgb(np.zeros((4, 5))).shape == (4, 5, 3)
