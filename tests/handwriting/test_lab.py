"""Tests for the counting lab: the a^n X b^n $ data, a tiny LSTM that learns to count within
seconds, its recorded cells, and the units whose cell state keeps the count."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handwriting.counting import END, VOCAB, count_signal, counting_string, encode
from handwriting.lab import (
    CountingConfig,
    find_counting_units,
    make_counting_data,
    record_counting,
    train_counting_lstm,
)


@pytest.fixture(scope="module")
def trained():
    model, history = train_counting_lstm(steps=1500, seed=0)
    return model, history


def test_counting_data_is_next_character_pairs():
    data = make_counting_data(50, max_n=6, seed=1)
    assert data.inputs.shape == data.targets.shape == (50, 13)
    assert data.ns.min() >= 1 and data.ns.max() <= 6
    for inp, tgt, n in zip(data.inputs, data.targets, data.ns, strict=True):
        s = encode(counting_string(int(n)))
        m = len(s) - 1
        np.testing.assert_array_equal(inp[:m], s[:-1])
        np.testing.assert_array_equal(tgt[:m], s[1:])
        assert np.all(tgt[m:] == -100) and np.all(inp[m:] == END)
    again = make_counting_data(50, max_n=6, seed=1)
    np.testing.assert_array_equal(again.inputs, data.inputs)
    with pytest.raises(ValueError):
        make_counting_data(0, 5)


def test_strings_and_count():
    assert counting_string(3) == "aaaXbbb$"
    assert count_signal("aaXbb$").tolist() == [1, 2, 2, 1, 0, 0]
    with pytest.raises(ValueError, match="c"):
        encode("aXc")


def test_training_learns_to_count(trained):
    model, history = trained
    score = history[-1].score
    assert score.accuracy > 0.9 and score.end_accuracy > 0.9
    assert history[-1].loss < history[0].loss or len(history) == 1
    assert [h.step for h in history] == sorted(h.step for h in history)


def test_callback_sees_progress_and_can_stop():
    seen = []
    _, history = train_counting_lstm(steps=500, seed=1, eval_every=10,
                                     callback=lambda p: seen.append(p) or len(seen) == 2,
                                     cfg=CountingConfig(hidden=4, max_n=5))
    assert len(seen) == 2 and history == seen
    assert [p.step for p in seen] == [10, 20]


def test_record_counting_shapes_and_predictions(trained):
    model = trained[0]
    text = counting_string(7)
    tr = record_counting(model, text)
    T, H = len(text), model.cfg.hidden
    assert tr.cell.c.shape == tr.cell.h.shape == tr.cell.f.shape == (T, H)
    assert tr.probs.shape == (T, len(VOCAB))
    np.testing.assert_allclose(tr.probs.sum(1), 1.0, atol=1e-5)
    assert tr.cell.i.min() > 0 and tr.cell.i.max() < 1
    with torch.no_grad():
        ref, _ = model.lstm(torch.nn.functional.one_hot(torch.from_numpy(encode(text))[None],
                                                        len(VOCAB)).float())
    np.testing.assert_allclose(tr.cell.h, ref[0].numpy(), atol=1e-5)
    guess = "".join(VOCAB[k] for k in tr.probs.argmax(1))
    assert guess[7:-1] == "bbbbbbb$"  # after X: the b run and where it ends


def test_a_cell_keeps_the_count(trained):
    model = trained[0]
    units = find_counting_units(model)
    H = model.cfg.hidden
    assert sorted(units.units.tolist()) == list(range(H))
    assert np.all(np.diff(np.abs(units.correlations)) <= 1e-12)
    assert abs(units.correlations[0]) > 0.8
    c = np.concatenate([record_counting(model, counting_string(n)).cell.c[:, units.units[0]]
                        for n in range(1, 21)])
    k = np.concatenate([count_signal(counting_string(n)) for n in range(1, 21)])
    assert np.corrcoef(c, k)[0, 1] == pytest.approx(units.correlations[0], abs=1e-6)
