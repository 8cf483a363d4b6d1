"""The recognizer service: loading, validation, typed results, alignment to ink."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handwriting.alphabet import IAM_CHARS
from handwriting.checkpoint import CheckpointError, save_checkpoint
from handwriting.features import FeatureConfig, Standardizer, point_features, preprocess
from handwriting.ink import Ink, Stroke
from handwriting.models.configs import RecognizerConfig
from handwriting.models.recognizer import RecognizerNet
from handwriting.service import Recognizer
from tests.fixtures import hershey_ink


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    cfg = RecognizerConfig(hidden=16, layers=1, conv_channels=16)
    net = RecognizerNet(cfg)
    ink = hershey_ink("hello world")
    std = Standardizer.fit([point_features(preprocess(ink))])
    path = tmp_path_factory.mktemp("ckpt") / "rec.pt"
    save_checkpoint({"kind": "recognizer", "model_config": cfg.to_dict(),
                     "feature_config": FeatureConfig().to_dict(), "standardizer": std.to_dict(),
                     "alphabet": IAM_CHARS,
                     "state_dict": net.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def recognizer(tiny_checkpoint):
    return Recognizer.from_checkpoint(tiny_checkpoint, use_lm=False)


def test_recognition_is_typed_and_aligned_to_the_ink(recognizer):
    ink = hershey_ink("the cat")
    r = recognizer.recognize(ink, decoder="beam")
    assert r.log_probs.ndim == 2 and r.log_probs.shape[1] == len(recognizer.alphabet)
    assert np.allclose(np.exp(r.log_probs).sum(1), 1.0, atol=1e-4)
    assert r.text == r.nbest[0].text
    assert len(r.char_points) == len(r.text)
    assert len(r.frame_points) == len(r.log_probs)
    every = np.concatenate([p for p in r.frame_points if len(p)])
    assert every.min() >= 0 and every.max() < ink.num_points
    assert np.all(np.diff([p.min() for p in r.frame_points if len(p)]) >= 0)


def test_batched_posteriors_equal_single_line(recognizer):
    inks = [hershey_ink("a"), hershey_ink("a longer line of text")]
    batch = recognizer.log_posteriors(inks)
    for ink, lp in zip(inks, batch, strict=True):
        assert np.allclose(lp, recognizer.recognize(ink, "greedy").log_probs, atol=1e-5)


def test_bad_ink_is_refused_with_a_clear_error(recognizer):
    with pytest.raises(ValueError, match="empty"):
        recognizer.recognize(Ink())
    huge = Ink((Stroke(np.zeros((300_000, 2)), np.zeros(300_000)),))
    with pytest.raises(ValueError, match="300000 points"):
        recognizer.recognize(huge)
    with pytest.raises(ValueError, match="decoder"):
        recognizer.recognize(hershey_ink("a"), decoder="viterbi")


def test_a_single_point_gives_a_bounded_answer(recognizer):
    r = recognizer.recognize(Ink((Stroke([[1.0, 2.0]], [0.0]),)))
    assert isinstance(r.text, str) and len(r.text) <= 1


def test_corrupt_or_mismatched_checkpoints_name_the_file(tmp_path, tiny_checkpoint):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        Recognizer.from_checkpoint(bad)
    ckpt = torch.load(tiny_checkpoint, weights_only=True)
    ckpt["model_config"]["hidden"] = 24  # weights no longer fit the config
    wrong = tmp_path / "wrong.pt"
    save_checkpoint({k: v for k, v in ckpt.items() if k != "format_version"}, wrong)
    with pytest.raises(CheckpointError, match="wrong.pt"):
        Recognizer.from_checkpoint(wrong)


def test_inspection_and_saliency_map_to_ink_points(recognizer):
    ink = hershey_ink("ink")
    ins = recognizer.inspect(ink)
    n_frames = ins.trace.log_probs.shape[0]
    assert ins.point_frames.shape == (ink.num_points,)
    assert ins.point_frames.min() == 0 and ins.point_frames.max() == n_frames - 1
    sal, label = recognizer.saliency(ink, ins, frame=n_frames // 2)
    assert sal.shape == (ink.num_points,) and sal.max() > 0 and 1 <= label
    with pytest.raises(ValueError, match="frame"):
        recognizer.saliency(ink, ins, frame=n_frames)


def test_every_hypothesis_is_mapped_to_ink_points_by_the_best_ones_rule(recognizer):
    ink = hershey_ink("the cat")
    r = recognizer.recognize(ink, decoder="beam", nbest=4)
    assert len(r.nbest_char_points) == len(r.nbest) > 1
    assert r.char_points is r.nbest_char_points[0]
    for hyp, points in zip(r.nbest, r.nbest_char_points, strict=True):
        assert len(points) == len(hyp.text)
        assert all(len(p) and p.min() >= 0 and p.max() < ink.num_points for p in points)
        # a character covers the frames from its emission to the next character's
        frames = list(hyp.char_frames) + [len(r.frame_points)]
        for p, a, b in zip(points, frames[:-1], frames[1:], strict=True):
            covered = np.concatenate([r.frame_points[t] for t in range(a, max(b, a + 1))])
            np.testing.assert_array_equal(p, np.unique(covered))


def test_complete_reaches_the_decoder(recognizer, monkeypatch):
    seen = []
    decode = recognizer.decode

    def spy(*args, **kwargs):
        seen.append(kwargs.get("complete"))
        return decode(*args, **kwargs)

    monkeypatch.setattr(recognizer, "decode", spy)
    ink = hershey_ink("cat")
    recognizer.recognize(ink)
    recognizer.recognize(ink, complete=False)
    assert seen == [True, False]


def test_dense_ink_is_covered_without_gaps(recognizer):
    """A mouse puts a point every pixel or two, far denser than the resampled input: the
    points resampling skipped still belong to a frame, so characters colour whole runs."""
    ink = hershey_ink("dense", step=0.05)
    r = recognizer.recognize(ink, decoder="greedy")
    covered = np.unique(np.concatenate(r.frame_points))
    np.testing.assert_array_equal(covered, np.arange(ink.num_points))
    for a, b in zip(r.frame_points[:-1], r.frame_points[1:], strict=True):
        assert a.max() <= b.min()  # in order, sharing at most an ink point
    ins = recognizer.inspect(ink)
    assert all(np.array_equal(a, b) for a, b in zip(ins.frame_points, r.frame_points,
                                                      strict=True))


def test_word_lm_loads_with_a_tuned_word_weight_and_warm_up_fills_its_tables(tmp_path,
                                                                            tiny_checkpoint):
    from handwriting.checkpoint import load_checkpoint

    ckpt = load_checkpoint(tiny_checkpoint, "recognizer")
    ckpt["decoder"] = {"beam_width": 4, "lm_weight": 0.5, "insertion_bonus": 0.5,
                       "word_weight": 0.2, "oov_penalty": -4.0, "word_bonus": 1.0}
    path = tmp_path / "tuned.pt"
    save_checkpoint({k: v for k, v in ckpt.items() if k != "format_version"}, path)
    rec = Recognizer.from_checkpoint(path)
    assert rec.word_lm is not None and rec.decoder_settings.word_bonus == 1.0
    assert rec.word_lm._sorted is None
    rec.warm_up()
    assert rec.word_lm._sorted and rec.lm._step  # built before the first user line
    assert Recognizer.from_checkpoint(tiny_checkpoint).word_lm is None  # untuned: char LM only


def test_bench_reports_first_and_steady_recognition(recognizer):
    from handwriting.bench import bench_recognize

    out = bench_recognize(recognizer, repeats=2, points=700)
    assert out["first_recognition_s"] > 0 and out["steady_recognition_s"] > 0


def test_encode_is_the_pipeline_and_owns_the_way_back_to_the_ink(recognizer):
    """`features.encode` is preprocess -> point_features -> standardize, and what the service
    reports per frame and per point is its alignment (one home for ink <-> frames)."""
    from handwriting.features import encode

    ink = hershey_ink("the cat")
    enc = encode(ink, recognizer.feature_config, recognizer.standardizer)
    points = preprocess(ink, recognizer.feature_config)
    np.testing.assert_array_equal(enc.points, points)
    np.testing.assert_array_equal(enc.x, recognizer.standardizer(point_features(points)))
    assert enc.source.shape == (len(points),) and enc.source[-1] < ink.num_points
    r = recognizer.recognize(ink)
    expected = enc.frame_points(recognizer.config.stride, len(r.log_probs))
    assert all(np.array_equal(a, b) for a, b in zip(r.frame_points, expected, strict=True))
    ins = recognizer.inspect(ink)
    np.testing.assert_array_equal(ins.source, enc.source)
    frames = enc.point_frames(recognizer.config.stride, ins.trace.log_probs.shape[0])
    np.testing.assert_array_equal(ins.point_frames, frames)
