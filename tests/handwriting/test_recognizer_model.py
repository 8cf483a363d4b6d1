"""Tests for the BiLSTM-CTC recognizer network: padded reversal, the two-LSTM bidirectional
layer against PyTorch's packed bidirectional LSTM, output lengths and log-probabilities."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from handwriting.models.configs import RecognizerConfig
from handwriting.models.recognizer import BiLSTMLayer, RecognizerNet, reverse_padded


def _padded_batch(lengths: list[int], n_features: int, seed: int = 0):
    """x (B, T, F) with zeros after each length, and the lengths (B,)."""
    g = torch.Generator().manual_seed(seed)
    lens = torch.tensor(lengths)
    x = torch.randn(len(lengths), max(lengths), n_features, generator=g)
    x[torch.arange(x.shape[1])[None, :] >= lens[:, None]] = 0.0
    return x, lens


def _with_garbage(x: torch.Tensor, lens: torch.Tensor, seed: int = 1) -> torch.Tensor:
    """x with large random values in every padded position."""
    g = torch.Generator().manual_seed(seed)
    pad = torch.arange(x.shape[1])[None, :] >= lens[:, None]  # (B, T)
    return torch.where(pad[:, :, None], 100 * torch.randn(x.shape, generator=g), x)


# --------------------------------------------------------------------------- reverse_padded


def test_reverse_padded_twice_is_identity():
    x, lens = _padded_batch([7, 3, 1, 5], 4)
    x = _with_garbage(x, lens)  # padding stays in place, whatever it holds
    assert torch.equal(reverse_padded(reverse_padded(x, lens), lens), x)


def test_reverse_padded_flips_each_sequence_within_its_length():
    x, lens = _padded_batch([7, 3, 1, 5], 4)
    x = _with_garbage(x, lens)
    out = reverse_padded(x, lens)
    for b, n in enumerate(lens.tolist()):
        assert torch.equal(out[b, :n], x[b, :n].flip(0))
        assert torch.equal(out[b, n:], x[b, n:])


# --------------------------------------------------------------------------- BiLSTMLayer


def _reference_bilstm(layer: BiLSTMLayer) -> nn.LSTM:
    """PyTorch's bidirectional LSTM holding the layer's two directions' weights."""
    fwd, bwd = layer.fwd, layer.bwd
    ref = nn.LSTM(fwd.input_size, fwd.hidden_size, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(ref, name).copy_(getattr(fwd, name))
            getattr(ref, name + "_reverse").copy_(getattr(bwd, name))
    return ref


def test_bilstm_layer_matches_packed_bidirectional_lstm():
    torch.manual_seed(0)
    layer = BiLSTMLayer(6, 16, forget_bias=1.0)
    ref = _reference_bilstm(layer)
    x, lens = _padded_batch([9, 4, 1, 7], 6)
    with torch.no_grad():
        out = layer(x, lens)  # (B, T, 2H)
        packed = nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True,
                                                   enforce_sorted=False)
        expected, _ = nn.utils.rnn.pad_packed_sequence(ref(packed)[0], batch_first=True)
    assert out.shape == (4, 9, 32)
    for b, n in enumerate(lens.tolist()):
        torch.testing.assert_close(out[b, :n], expected[b, :n], rtol=0, atol=1e-5)


def test_bilstm_layer_valid_outputs_ignore_padding():
    torch.manual_seed(0)
    layer = BiLSTMLayer(6, 16, forget_bias=1.0)
    x, lens = _padded_batch([9, 4, 1, 7], 6)
    with torch.no_grad():
        clean = layer(x, lens)
        dirty = layer(_with_garbage(x, lens), lens)
        alone = [layer(x[b:b + 1, :n], lens[b:b + 1])[0] for b, n in enumerate(lens.tolist())]
    for b, n in enumerate(lens.tolist()):
        torch.testing.assert_close(dirty[b, :n], clean[b, :n], rtol=0, atol=1e-6)
        torch.testing.assert_close(alone[b], clean[b, :n], rtol=0, atol=1e-6)


def test_bilstm_layer_sets_the_forget_bias():
    layer = BiLSTMLayer(3, 8, forget_bias=1.0)
    for lstm in (layer.fwd, layer.bwd):
        forget = lstm.bias_ih_l0[8:16] + lstm.bias_hh_l0[8:16]  # gate order i, f, g, o
        torch.testing.assert_close(forget, torch.ones(8))


# --------------------------------------------------------------------------- RecognizerNet


def _conv_out_len(n: int, kernel: int, layers: int) -> int:
    # torch.nn.Conv1d's documented output length, stride 2, padding kernel // 2
    for _ in range(layers):
        n = (n + 2 * (kernel // 2) - (kernel - 1) - 1) // 2 + 1
    return n


@pytest.mark.parametrize(("conv_layers", "kernel"), [(2, 5), (1, 3), (3, 5)])
def test_recognizer_output_lengths_and_probabilities(conv_layers, kernel):
    torch.manual_seed(0)
    cfg = RecognizerConfig(conv_channels=16, hidden=16, layers=2, conv_layers=conv_layers,
                           kernel=kernel)
    net = RecognizerNet(cfg).eval()
    lengths = [1, 2, 3, 4, 5, 8, 17, 30, 33]
    x, lens = _padded_batch(lengths, cfg.n_features)
    with torch.no_grad():
        log_probs, out_lens = net(x, lens)
        alone = [net.frontend(x[b:b + 1, :n]).shape[1] for b, n in enumerate(lengths)]
    expected = [_conv_out_len(n, kernel, conv_layers) for n in lengths]
    assert out_lens.tolist() == expected
    assert alone == expected  # what the convolutions really produce for each line alone
    assert log_probs.shape == (max(expected), len(lengths), cfg.n_classes)  # (T', B, K)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]))


def test_recognizer_output_does_not_depend_on_batch_padding():
    torch.manual_seed(0)
    net = RecognizerNet(RecognizerConfig(conv_channels=16, hidden=16, layers=1)).eval()
    x, lens = _padded_batch([40, 23], 8)
    with torch.no_grad():
        batched, out_lens = net(x, lens)
        alone, alone_lens = net(x[1:, :23], lens[1:])
    n = int(alone_lens[0])
    assert int(out_lens[1]) == n
    torch.testing.assert_close(batched[:n, 1], alone[:, 0], rtol=0, atol=1e-5)
