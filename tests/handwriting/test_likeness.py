"""Ink written in a writer's style is given the writer's slant and letter width (issue 18,
item 6): the map of the pen's offsets (`handwriting.likeness`) and the synthesizer that
measures and applies it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from handwriting import geometry
from handwriting.ink import offsets_to_line_ink
from handwriting.likeness import WIDTH_LIMITS, hand_map, map_points, measure_hand
from handwriting.results import Hand, SynthesisFrame
from handwriting.style_stats import style_stats
from tests.fixtures import hershey_ink

TEXT = "the quick brown fox jumps"


def _frames(offsets: np.ndarray, rng) -> list[SynthesisFrame]:
    """One frame per row of `offsets`, one line, with a random two-component mixture."""
    frames = []
    for t, o in enumerate(offsets):
        sigma = rng.uniform(0.05, 0.5, (1, 2, 2)).astype(np.float32)
        frames.append(SynthesisFrame(
            step=t, offsets=o[None].astype(np.float32), active=np.ones(1, bool),
            phi=np.zeros((1, 3)), kappa=np.zeros((1, 1)), eos=np.zeros(1),
            log_pi=np.log(np.full((1, 2), 0.5)), mu=rng.normal(size=(1, 2, 2)).astype(np.float32),
            sigma=sigma, rho=rng.uniform(-0.9, 0.9, (1, 2)).astype(np.float32), text_offset=0))
    return frames


def _mapped(frames: list[SynthesisFrame], m: np.ndarray) -> list[SynthesisFrame]:
    """`frames` mapped as the sampling loop maps them: all their steps in one `map_points`."""
    o, mu, sigma, rho = map_points(m, *_stacked(frames))
    return [replace(f, offsets=o[t], mu=mu[t], sigma=sigma[t], rho=rho[t])
            for t, f in enumerate(frames)]


def _stacked(frames: list[SynthesisFrame]) -> list[np.ndarray]:
    return [np.stack([getattr(f, k) for f in frames]) for k in ("offsets", "mu", "sigma", "rho")]


def test_the_map_gives_ink_the_target_slant_and_letter_width():
    ink = hershey_ink(TEXT)
    written = measure_hand([(ink, TEXT)])
    target = Hand(written.slant + 0.25, written.letter_width * 0.8)
    offsets = _offsets(ink)
    m = hand_map(target, written)
    got = measure_hand([(offsets_to_line_ink(_apply(m, offsets)), TEXT)])
    assert got.slant == pytest.approx(target.slant, abs=0.03)
    assert got.letter_width == pytest.approx(target.letter_width, rel=0.05)
    # a measured hand far off is not followed all the way: the map stays within its limits
    wide = hand_map(Hand(written.slant, written.letter_width * 3), written)
    assert wide[0, 0] == pytest.approx(WIDTH_LIMITS[1])
    assert np.allclose(hand_map(written, written), np.eye(2))


def test_mapped_frames_move_the_points_and_their_mixtures_alike():
    rng = np.random.default_rng(0)
    offsets = _offsets(hershey_ink("ab"))
    frames = _frames(offsets, rng)
    m = np.array([[0.8, -0.3], [0.0, 1.0]])
    mapped = _mapped(frames, m)
    for f, g in zip(frames, mapped, strict=True):
        assert np.allclose(g.offsets[0, :2], m @ f.offsets[0, :2], atol=1e-6)
        assert g.offsets[0, 2] == f.offsets[0, 2]  # the pen stays up or down
        for j in range(2):
            s1, s2 = f.sigma[0, j]
            cov = np.array([[s1 * s1, f.rho[0, j] * s1 * s2], [f.rho[0, j] * s1 * s2, s2 * s2]])
            want = m @ cov @ m.T
            t1, t2 = g.sigma[0, j]
            got = np.array([[t1 * t1, g.rho[0, j] * t1 * t2], [g.rho[0, j] * t1 * t2, t2 * t2]])
            assert np.allclose(got, want, atol=1e-5)
            assert np.allclose(g.mu[0, j], m @ f.mu[0, j], atol=1e-6)
    assert np.allclose(frames[0].offsets, offsets[0])  # the input frames are left alone
    with pytest.raises(ValueError, match="leaves y alone"):
        map_points(np.array([[1.0, 0.0], [0.2, 1.0]]), *_stacked(frames))


@pytest.fixture(scope="module")
def synthesizers():
    from handwriting.service import Synthesizer

    return (Synthesizer.from_checkpoint(threads=1),
            Synthesizer.from_checkpoint(threads=1, match_hand=False))


def test_a_style_from_ink_writes_in_that_inks_slant_and_letter_width(synthesizers):
    matched, plain = synthesizers
    text = "the quick brown fox jumps over the lazy dog"
    prime = geometry.shear(hershey_ink(text), -0.6)  # the script font, leaning left
    style = matched.style_from_ink(prime, text, name="leaning")
    assert style.hand is not None and style.hand.slant < -0.2  # the whole line's, measured
    said = "please water the plants\non the balcony today"

    def hand(syn):
        inks = syn.write(said, style=style, seed=3)
        return measure_hand([(i, i.meta["text"]) for i in inks])

    before, after = hand(plain), hand(matched)
    assert abs(after.slant - style.hand.slant) < 0.1  # measured on other lines than these
    assert abs(after.slant - style.hand.slant) < abs(before.slant - style.hand.slant) / 2
    assert abs(np.log(after.letter_width / style.hand.letter_width)) < abs(
        np.log(before.letter_width / style.hand.letter_width))
    # a preset has no hand of its own to match: written exactly as without the map
    a = matched.write("ok", style=matched.default_style, seed=1)[0]
    b = plain.write("ok", style=matched.default_style, seed=1)[0]
    assert np.array_equal(_points(a), _points(b))


def test_a_writers_hand_is_measured_on_the_lines_given(synthesizers):
    """`style_from_ink(..., hand_from=lines)`: a stored writer's hand comes from all their
    samples, not from the one line the model is primed with."""
    matched, _ = synthesizers
    text = "the quick brown fox jumps over the lazy dog"
    upright, leaning = hershey_ink(text), geometry.shear(hershey_ink(text), -0.6)
    lines = [(leaning, text), (geometry.shear(hershey_ink("a hen"), -0.6), "a hen")]
    style = matched.style_from_ink(upright, text, hand_from=lines)
    assert style.hand == measure_hand(lines)
    assert style.hand.slant < measure_hand([(upright, text)]).slant - 0.3


def test_the_map_is_measured_once_per_style_and_bias(synthesizers, monkeypatch):
    import handwriting.likeness as likeness

    matched, _ = synthesizers
    text = "a small robot learned to write"
    style = matched.style_from_ink(hershey_ink(text), text)
    calls = []
    real = likeness.calibration_hand
    monkeypatch.setattr(likeness, "calibration_hand",
                        lambda *a: calls.append(1) or real(*a))
    first = matched.hand_map(style, 0.75)
    assert np.array_equal(matched.hand_map(style, 0.75), first) and len(calls) == 1
    matched.hand_map(style, 1.5)
    assert len(calls) == 2
    assert style_stats(hershey_ink(text), text).slant == pytest.approx(style.hand.slant)


def _points(ink) -> np.ndarray:
    """(N, 3) x, y, pen up after the point (the last point of each stroke)."""
    rows = []
    for s in ink.strokes:
        up = np.zeros((len(s.xy), 1))
        up[-1] = 1
        rows.append(np.hstack([s.xy, up]))
    return np.concatenate(rows)


def _offsets(ink) -> np.ndarray:
    """(N, 3) dx, dy from the previous point (the first from (0, 0)), pen up after it."""
    p = _points(ink)
    return np.hstack([np.diff(p[:, :2], axis=0, prepend=0.0), p[:, 2:]])


def _apply(m: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    out = offsets.astype(np.float64).copy()
    out[:, :2] = offsets[:, :2] @ m.T
    return out


def test_the_cli_matches_a_primed_hand_unless_told_not_to(tmp_path):
    """`handwriting synthesize --prime F --prime-text T` writes in F's slant; with
    `--no-match-hand` in what priming alone makes of it."""
    from handwriting.cli import main
    from handwriting.formats import read_ink, write_ink

    text = "the quick brown fox jumps over the lazy dog"
    prime = tmp_path / "leaning.inkml"
    write_ink(geometry.shear(hershey_ink(text), -0.6), prime)
    target = measure_hand([(read_ink(prime), text)]).slant
    slants = {}
    for flag in ((), ("--no-match-hand",)):
        out = tmp_path / f"out{len(flag)}.inkml"
        assert main(["synthesize", "please water the plants", "--prime", str(prime),
                     "--prime-text", text, "--seed", "3", "-o", str(out), *flag]) == 0
        slants[flag] = style_stats(read_ink(out), "please water the plants").slant
    assert abs(slants[()] - target) < 0.1
    assert abs(slants[()] - target) < abs(slants[("--no-match-hand",)] - target) / 2
