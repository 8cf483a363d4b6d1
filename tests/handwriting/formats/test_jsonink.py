"""JSON ink: exact round trips, the documented layout, and strict validation on reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from handwriting.formats.errors import InkFormatError
from handwriting.formats.jsonink import (
    ink_to_json_dict,
    ink_to_json_string,
    parse_json_ink,
    read_json_ink,
    write_json_ink,
)
from handwriting.ink import Ink
from tests.handwriting.formats.strategies import inks


def _good(**stroke) -> dict:
    s = {"x": [0, 1.5], "y": [2, 3], "t": [0, 0.01]} | stroke
    return {"format": "handwriting-ink", "version": 1, "strokes": [s]}


def _parse(doc) -> Ink:
    return parse_json_ink(json.dumps(doc).encode(), "ink.json")


def test_round_trip_with_pressure_and_meta(tmp_path, text_ink):
    ink = Ink(text_ink.strokes, {**text_ink.meta, "writer": "w07", "tags": [1, "two", None]})
    path = tmp_path / "line.json"
    write_json_ink(ink, path, indent=1)
    back = read_json_ink(path)
    assert back == ink and back.has_pressure
    assert back.meta == {**ink.meta, "format": "handwriting-ink", "source": str(path)}


def test_round_trip_without_pressure(tmp_path, plain_ink):
    path = tmp_path / "line.json"
    write_json_ink(plain_ink, path)
    back = read_json_ink(path)
    assert back == plain_ink and not back.has_pressure
    assert "\"p\"" not in path.read_text(encoding="utf-8")


def test_documented_layout(small_ink):
    doc = json.loads(ink_to_json_string(small_ink))
    assert doc["format"] == "handwriting-ink" and doc["version"] == 1
    assert doc["meta"] == {"text": "hi!"}
    assert doc["strokes"][0] == {"x": [0, 10, 30], "y": [0, 20, 10], "t": [0, 0.01, 0.02]}


def test_minimal_document_reads():
    ink = _parse(_good())
    assert ink.strokes[0].xy.tolist() == [[0, 2], [1.5, 3]]
    assert ink.strokes[0].pressure is None


def test_reader_meta_keys_are_not_written(small_ink):
    ink = Ink(small_ink.strokes, {"text": "x", "format": "iam-ondb", "source": "/a.xml"})
    assert ink_to_json_dict(ink)["meta"] == {"text": "x"}


def test_numpy_and_path_meta_are_written_as_plain_json(small_ink):
    ink = Ink(small_ink.strokes, {"n": np.int64(3), "v": np.arange(2), "p": Path("a/b")})
    assert json.loads(ink_to_json_string(ink))["meta"] == {"n": 3, "v": [0, 1], "p": "a/b"}


@pytest.mark.parametrize("meta, error", [({"x": float("nan")}, ValueError),
                                         ({"x": object()}, TypeError)])
def test_unwritable_meta_is_refused_before_writing(tmp_path, small_ink, meta, error):
    path = tmp_path / "x.json"
    with pytest.raises(error):
        write_json_ink(Ink(small_ink.strokes, meta), path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("doc, problem", [
    ([1, 2], "top level must be an object"),
    ({"version": 1, "strokes": []}, '"format" must be'),
    ({"format": "handwriting-ink", "strokes": []}, '"version" must be an integer'),
    ({"format": "handwriting-ink", "version": "1", "strokes": []}, '"version" must be'),
    ({"format": "handwriting-ink", "version": True, "strokes": []}, '"version" must be'),
    ({"format": "handwriting-ink", "version": 2, "strokes": []}, "unsupported version 2"),
    ({"format": "handwriting-ink", "version": 1, "strokes": {}}, '"strokes" must be a list'),
    ({"format": "handwriting-ink", "version": 1, "strokes": [], "meta": []}, '"meta" must be'),
    ({"format": "handwriting-ink", "version": 1, "strokes": [[0, 1]]}, "stroke 0 must be an obj"),
    (_good(x="0 1"), "'x' must be a list of numbers, got a string"),
    (_good(y=[0, "1"]), "'y' must hold only numbers, found a string"),
    (_good(t=[0, True]), "'t' must hold only numbers, found a boolean"),
    (_good(x=[0, None]), "found null"),
    (_good(x=[[0], [1]]), "found a list"),
    (_good(p="high"), "'p' must be a list"),
    (_good(p=[1]), "1 pressures"),
    (_good(x=[0]), "stroke 0"),
    (_good(t=[0]), "2 points but 1 times"),
    (_good(x=[], y=[], t=[]), "at least one point"),
    (_good(z=[1, 2]), "unknown keys 'z'"),
    ({"format": "handwriting-ink", "version": 1, "strokes": [{"x": [1], "y": [1]}]}, "lacks 't'"),
])
def test_wrong_types_and_shapes_name_file_and_problem(doc, problem):
    with pytest.raises(InkFormatError, match="^ink.json: ") as err:
        _parse(doc)
    assert problem in str(err.value)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(number):
    text = json.dumps(_good()).replace("1.5", number)
    with pytest.raises(InkFormatError, match="ink.json: .*(non-finite|NaN, infinite)"):
        parse_json_ink(text.encode(), "ink.json")


@pytest.mark.parametrize("big", [1e39, 10**400])
def test_values_beyond_float32_are_refused(big):
    with pytest.raises(InkFormatError, match="ink.json: .*out-of-range"):
        _parse(_good(x=[0, big]))


@settings(max_examples=40, deadline=None)
@given(ink=inks())
def test_random_ink_round_trips_exactly(ink):
    back = parse_json_ink(ink_to_json_string(ink).encode())
    assert back == ink
    assert [s.pressure is None for s in back.strokes] == [s.pressure is None for s in ink.strokes]
