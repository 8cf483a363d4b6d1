"""Work is bounded before it starts: hostile but tiny inputs are refused (or made harmless)
in milliseconds, not after gigabytes of resampling or millions of Python objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handwriting import features, geometry
from handwriting.features import FeatureConfig, SynthesisFeatureConfig
from handwriting.formats import fileio
from handwriting.formats.errors import InkFormatError
from handwriting.formats.iam_ondb import parse_iam_xml
from handwriting.formats.jsonink import parse_json_ink, write_json_ink
from handwriting.ink import Ink, InkError, Stroke


def _flat_line(height: float, n: int = 100, width: float = 10.0) -> Ink:
    x = np.linspace(0.0, width, n)
    y = height * np.sin(np.linspace(0.0, 20.0, n))
    return Ink((Stroke(np.stack([x, y], 1).astype(np.float32), np.arange(n) * 0.01),))


def test_a_flat_line_is_not_blown_up_into_millions_of_points():
    # 1e-3 units tall and 10 wide: scaled to unit height it was 10,000 heights long, i.e.
    # 125,000 resampled points (and 1e-5 tall asked for gigabytes). Now the height is taken
    # to be at least 1/MAX_ASPECT of the width.
    points = features.preprocess(_flat_line(1e-3))
    assert len(points) <= geometry.MAX_ASPECT / FeatureConfig().spacing + 2


def test_normalize_floors_the_height_at_the_aspect_limit():
    ink = geometry.normalize(_flat_line(1e-6))
    xy = np.concatenate([s.xy for s in ink.strokes])
    assert np.ptp(xy[:, 0]) == pytest.approx(geometry.MAX_ASPECT, rel=1e-3)


def test_normalize_keeps_ordinary_writing_unchanged():
    ink = _flat_line(2.0)
    xy = np.concatenate([s.xy for s in geometry.normalize(ink).strokes])
    lo, hi = np.percentile(xy[:, 1], [5, 95])
    assert hi - lo == pytest.approx(1.0, rel=1e-4)


@given(st.lists(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=1,
                         max_size=30), min_size=1, max_size=5),
       st.sampled_from([0.05, 0.14, 1.0, 7.0]))
def test_resampled_count_predicts_resample(strokes, spacing):
    ink = Ink(tuple(Stroke(np.array(s, np.float32), np.arange(len(s)) * 0.01) for s in strokes))
    got = sum(len(s) for s in geometry.resample(ink, spacing).strokes)
    assert geometry.resampled_count(ink, spacing) == got


def test_overlong_ink_is_refused_before_resampling(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("resample ran although the count was over the limit")

    monkeypatch.setattr(geometry, "resample", boom)
    long_line = _flat_line(1.0, n=2000, width=5000.0)
    with pytest.raises(InkError, match="ink too long"):
        features.preprocess(long_line, FeatureConfig(max_points=500))
    with pytest.raises(InkError, match="ink too long"):
        features.synthesis_offsets(long_line, SynthesisFeatureConfig(max_points=500))


def test_primes_are_bounded_like_inputs():
    # A prime is synthesis_offsets of any ink: it must have the same kind of limit.
    assert SynthesisFeatureConfig().max_points <= 4000
    n = 5000  # a zigzag: 20 units wide, 1 tall, 5000 units of arc
    xy = np.stack([np.linspace(0, 20, n), np.arange(n) % 2], 1).astype(np.float32)
    long_line = Ink((Stroke(xy, np.arange(n) * 0.01),))
    with pytest.raises(InkError, match="limit 4000"):
        features.synthesis_offsets(long_line)


def _read_in_thread(path) -> list:
    box: list = []

    def run():
        try:
            box.append(fileio.read_bytes(path))
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            box.append(exc)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(10)
    return box


def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    box = _read_in_thread(fifo)
    assert box, "reading a FIFO blocked"
    assert isinstance(box[0], InkFormatError) and "not a regular file" in str(box[0])
    assert str(fifo) in str(box[0])


def test_a_directory_is_refused_with_its_name(tmp_path):
    with pytest.raises(InkFormatError, match="is a directory"):
        fileio.read_bytes(tmp_path)


def test_millions_of_one_point_strokes_are_refused_before_parsing(tmp_path, monkeypatch):
    n = fileio.MAX_STROKES + 1
    doc = {"format": "handwriting-ink", "version": 1,
           "strokes": [{"x": [i], "y": [0], "t": [0]} for i in range(n)]}
    data = json.dumps(doc, separators=(",", ":")).encode()
    calls = []
    monkeypatch.setattr(json, "loads", lambda *a, **k: calls.append(1))
    with pytest.raises(InkFormatError, match="strokes"):
        parse_json_ink(data, "many.json")
    assert not calls, "the file was parsed before its stroke count was checked"


def test_too_many_points_in_json_are_refused(monkeypatch):
    monkeypatch.setattr(fileio, "MAX_POINTS", 50)
    doc = {"format": "handwriting-ink", "version": 1,
           "strokes": [{"x": list(range(60)), "y": [0] * 60, "t": [0] * 60}]}
    with pytest.raises(InkFormatError, match="60 points"):
        parse_json_ink(json.dumps(doc).encode(), "big.json")


def test_too_many_points_in_iam_xml_are_refused(monkeypatch):
    monkeypatch.setattr(fileio, "MAX_POINTS", 5)
    points = "".join(f'<Point x="{i}" y="0" time="{i}"/>' for i in range(6))
    xml = f"<WhiteboardCaptureSession><StrokeSet><Stroke>{points}</Stroke></StrokeSet>" \
          "</WhiteboardCaptureSession>"
    with pytest.raises(InkFormatError, match="6 points"):
        parse_iam_xml(xml.encode(), "big.xml")


def test_cli_reads_a_flat_line_quickly_and_cheaply(tmp_path):
    path = tmp_path / "flat.json"
    write_json_ink(_flat_line(1e-5), path)
    code = ("import resource, sys; from handwriting.cli import main; rc = main(sys.argv[1:]); "
            "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code, "recognize", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    rss_kb = int(run.stdout.split("MAXRSS")[-1])
    assert rss_kb < 1_500_000  # old code: 5 GB and a MemoryError traceback
