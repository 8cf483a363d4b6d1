"""Figures for the CLI: the array helpers the panels share (colour ramps, unit order, value
scaling, ellipses), every figure's size and content, and PNG / SVG files. Built on small
hand-made traces, no model needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import svgwrite
from PIL import Image

from handwriting.figures.arrays import (
    QUANTITIES,
    activity_order,
    class_label,
    covariance_ellipses,
    emitted_chars,
    ink_segments,
    lively_units,
    nice_step,
    single_unit,
    top_classes,
    unit_values,
)
from handwriting.figures.files import save_figure
from handwriting.figures.ink_colouring import (
    neuron_figure,
    neuron_svg,
    point_values,
    saliency_figure,
    saliency_svg,
)
from handwriting.figures.palette import sequential_rgb
from handwriting.figures.plotting import COLORBAR_WIDTH, MARGIN_LEFT, MARGIN_RIGHT, plot_width
from handwriting.figures.recognition import (
    cell_state_figure,
    gate_figure,
    posterior_figure,
    posterior_lines,
)
from handwriting.figures.synthesis import attention_figure, eos_figure, mixture_figure
from handwriting.traces import CellTrace, LayerTrace, PointMixture, RecognizerTrace
from tests.fixtures import hershey_ink

CHARS = "abc"  # classes 1..3, 0 = blank


def _cell(T: int, H: int, seed: int = 0, scale: float = 5.0) -> CellTrace:
    rng = np.random.default_rng(seed)
    gates = [1 / (1 + np.exp(-rng.normal(size=(T, H)))) for _ in range(3)]
    g = np.tanh(rng.normal(size=(T, H)))
    c = np.cumsum(rng.normal(size=(T, H)), 0) * scale / np.sqrt(T)
    return CellTrace(gates[0], gates[1], g, gates[2], c, gates[2] * np.tanh(c))


def _trace(T: int = 30, H: int = 16, layers: int = 2) -> RecognizerTrace:
    lp = np.full((T, 4), -8.0)
    lp[:, 0] = 0.0
    for t, k in ((5, 1), (12, 2), (20, 3), (26, 1)):  # spikes: "abca"
        if t >= T:
            break
        lp[t] = -8.0
        lp[t, k] = 0.0
    lp -= np.log(np.exp(lp).sum(1, keepdims=True))
    return RecognizerTrace(lp, tuple(LayerTrace(_cell(T, H, 2 * k), _cell(T, H, 2 * k + 1))
                                     for k in range(layers)), 4)


def _colours(image: Image.Image) -> int:
    return len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0))


# --------------------------------------------------------------------------- helpers


def test_sequential_ramp_runs_white_to_dark_and_clips():
    rgb = sequential_rgb([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan])
    assert rgb.dtype == np.uint8 and rgb.shape == (6, 3)
    assert rgb[1].tolist() == [255, 255, 255] and rgb[0].tolist() == rgb[1].tolist()
    assert rgb[3].tolist() == rgb[4].tolist() and rgb[3].sum() < rgb[2].sum() < rgb[1].sum()
    assert rgb[5].tolist() == rgb[1].tolist()


def test_unit_values_are_in_range_and_labelled():
    cell = _cell(40, 8, scale=50.0)
    for q in QUANTITIES:
        v, label = unit_values(cell, q)
        assert v.shape == (40, 8) and np.abs(v).max() <= 1.0 and label
    v, label = unit_values(cell, "c")
    assert label.startswith("c / ") and np.abs(v).max() == 1.0  # the scale clips the top 2 %
    with pytest.raises(ValueError, match="quantity"):
        unit_values(cell, "g")
    one, label = single_unit(cell, 3)
    assert np.isclose(np.abs(one).max(), 1.0) and np.allclose(one * float(label[4:]),
                                                              cell.c[:, 3], rtol=1e-3)
    with pytest.raises(ValueError, match="unit 8"):
        single_unit(cell, 8)


def test_unit_orders_put_the_active_and_the_reactive_first():
    T = 50
    c = np.zeros((T, 4))
    c[:, 1] = np.linspace(-20, 20, T)  # a big drift: most active, but not reactive
    c[:, 2] = 5 * np.sin(np.arange(T) * 2.0)  # flips every frame: the most reactive
    c[:, 3] = 0.01 * np.sin(np.arange(T) * 2.0)  # reactive but too faint to see
    cell = CellTrace(*([np.zeros((T, 4))] * 4), c, np.zeros((T, 4)))
    assert activity_order(c)[0] == 1
    assert lively_units(cell)[0] == 2
    assert lively_units(cell).tolist().index(3) > lively_units(cell).tolist().index(1)


def test_covariance_ellipses_match_the_eigenvalues():
    sigma = np.array([[2.0, 1.0], [1.0, 1.0], [0.5, 3.0]])
    rho = np.array([0.5, 0.0, -0.9])
    ell = covariance_ellipses(sigma, rho)
    for (a, b, ang), s, r in zip(ell, sigma, rho, strict=True):
        cov = np.array([[s[0] ** 2, r * s[0] * s[1]], [r * s[0] * s[1], s[1] ** 2]])
        lo, hi = np.linalg.eigvalsh(cov)
        assert np.isclose(a, np.sqrt(hi)) and np.isclose(b, np.sqrt(max(lo, 0)))
        v = np.array([np.cos(ang), np.sin(ang)])
        assert np.allclose(cov @ v, hi * v, atol=1e-9)  # the angle is the major axis


def test_small_helpers():
    assert [nice_step(n) for n in (5, 40, 144, 1000)] == [1, 5, 20, 200]
    assert emitted_chars("ab", [3, 9]) == [(3, "a"), (9, "b")]
    assert class_label(0, CHARS) == "blank" and class_label(2, CHARS) == "b"
    assert class_label(1, " x") == "\u00b7"
    p = np.exp(_trace().log_probs)
    assert top_classes(p).tolist() == [1, 2, 3]
    xy, segs = ink_segments(hershey_ink("ab"))
    assert segs.max() < len(xy) and np.all(segs[:, 1] - segs[:, 0] <= 1)
    assert point_values(np.array([5.0, 7.0]), np.array([0, 1, 1])).tolist() == [5, 7, 7]


# --------------------------------------------------------------------------- figures


@pytest.mark.parametrize("T", [12, 30, 400])
def test_cell_figure_is_units_by_time(T):
    trace = _trace(T, 16)
    img = cell_state_figure(trace, 1, "bwd", "tanh_c", sort=True, unit=3,
                                chars=[(5, "a"), (12, "b")], frame=4)
    assert img.mode == "RGB"
    assert img.width == MARGIN_LEFT + plot_width(T) + COLORBAR_WIDTH
    plain = cell_state_figure(trace)
    assert plain.height < img.height  # no character row
    assert _colours(img) > 50  # a real heatmap, not a blank frame
    with pytest.raises(ValueError, match="direction"):
        cell_state_figure(trace, 0, "up")


def test_gate_figure_stacks_three_heatmaps():
    trace = _trace(30, 16)
    one = cell_state_figure(trace)
    gates = gate_figure(trace, 0, "fwd", sort=True, unit=2)
    assert gates.width == one.width
    assert gates.height > 3 * 16 * 6  # three panels of 16 rows (6 px each)


def test_posterior_figure_labels_the_emitted_characters():
    trace = _trace(30)
    img = posterior_figure(trace.log_probs, CHARS, [(5, "a"), (12, "b"), (20, "c")])
    assert img.size == (MARGIN_LEFT + plot_width(30) + MARGIN_RIGHT, 200 + 22 + 28 + 34)
    classes, peaks, marks = posterior_lines(np.exp(trace.log_probs), CHARS,
                                                [(5, "a"), (12, "b"), (20, "c")])
    assert classes.tolist() == [1, 2, 3]
    assert [(t, s) for t, _, s, _ in peaks] == [(26, "a")]  # the spike that was not emitted
    assert [m[:2] for m in marks] == [(5, "a"), (12, "b"), (20, "c")]


def test_ink_figures_have_the_requested_width_and_colour_the_ink():
    ink = hershey_ink("hello")
    n = ink.num_points
    mag = np.zeros(n)
    mag[n // 2: n // 2 + 10] = 1.0
    sal = saliency_figure(ink, mag, "saliency", "hello", highlight=np.arange(10),
                              width=500, mark=1)
    assert sal.width == 500 + COLORBAR_WIDTH
    rgb = np.asarray(sal)[:, :500].astype(int)
    assert (rgb.max(-1) - rgb.min(-1) > 60).sum() > 100  # hot points in colour, the rest grey
    neuron = neuron_figure(ink, np.linspace(-1, 1, n), "unit 0", width=400, height=150)
    assert neuron.size == (400 + COLORBAR_WIDTH, 150 + 22)
    px = np.asarray(neuron)[22:, :400].reshape(-1, 3).astype(int)
    assert ((px[:, 2] - px[:, 0]) > 120).sum() > 20 and ((px[:, 0] - px[:, 2]) > 120).sum() > 20
    with pytest.raises(IndexError):
        neuron_figure(ink, np.zeros(3))


def test_synthesis_figures():
    T, U = 40, 5
    phi = np.zeros((T, U + 1))
    phi[np.arange(T), np.minimum(np.arange(T) // 8, U)] = 1.0
    att = attention_figure(phi, "hello", frame=10)
    assert att.width == MARGIN_LEFT + plot_width(T) + COLORBAR_WIDTH
    assert att.height >= (U + 1) * 6
    mix = PointMixture(np.log([0.7, 0.3]), np.array([[0.1, 0.0], [0.0, 0.1]]),
                       np.array([[0.05, 0.02], [0.03, 0.03]]), np.array([0.5, 0.0]), 0.2)
    img = mixture_figure(mix, recent=np.array([[-0.3, 0.0], [-0.1, 0.05], [0, 0]]),
                             tip=(0, 0), sampled=(0.1, 0.0), size=200)
    assert img.size == (200, 222)
    assert _colours(img) > 20
    eos = eos_figure(np.linspace(0, 1, T), np.arange(T) % 10 == 9, frame=3)
    assert eos.width == MARGIN_LEFT + plot_width(T) + MARGIN_RIGHT


# --------------------------------------------------------------------------- files


def test_save_figure_writes_png_and_svg(tmp_path):
    img = cell_state_figure(_trace())
    save_figure(img, tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as back:
        assert back.size == img.size
    save_figure(img, tmp_path / "a.svg")
    text = (tmp_path / "a.svg").read_text()
    assert "<svg" in text and "data:image/png;base64," in text
    ink = hershey_ink("hi")
    drawing = neuron_svg(ink, np.linspace(-1, 1, ink.num_points), "unit")
    assert isinstance(drawing, svgwrite.Drawing)
    save_figure(drawing, tmp_path / "b.svg")
    text = (tmp_path / "b.svg").read_text()
    assert text.count("<path") > len(ink.strokes)  # ink as vector paths, split by colour
    save_figure(saliency_svg(ink, np.ones(ink.num_points)), tmp_path / "c.svg")
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        save_figure(img, tmp_path / "a.jpg")
    with pytest.raises(ValueError, match="SVG drawing"):
        save_figure(drawing, tmp_path / "b.png")


def test_figures_and_explain_import_without_qt():
    code = ("import handwriting.figures, handwriting.cli.explain, sys; "
            "qt = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]; "
            "assert not qt, qt")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
