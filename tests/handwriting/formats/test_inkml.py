"""InkML: lossless round trips, the trace syntax of other writers, and atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handwriting.formats.errors import InkFormatError
from handwriting.formats.inkml import (
    INKML_NS,
    ink_to_inkml_string,
    parse_inkml,
    read_inkml,
    write_inkml,
)
from handwriting.ink import Ink, Stroke
from tests.handwriting.formats.strategies import inks


def _doc(body: str, ns: bool = True) -> bytes:
    xmlns = f' xmlns="{INKML_NS}"' if ns else ""
    return f"<ink{xmlns}>{body}</ink>".encode()


def test_round_trip_with_pressure(tmp_path, text_ink):
    path = tmp_path / "line.inkml"
    write_inkml(text_ink, path)
    back = read_inkml(path)
    assert back == text_ink
    assert back.has_pressure
    assert back.meta["text"] == text_ink.meta["text"]
    assert back.meta["format"] == "inkml" and back.meta["source"] == str(path)


def test_round_trip_without_pressure(tmp_path, plain_ink):
    path = tmp_path / "line.inkml"
    write_inkml(plain_ink, path)
    text = path.read_text(encoding="utf-8")
    assert 'name="F"' not in text
    back = read_inkml(path)
    assert back == plain_ink and not back.has_pressure


def test_written_document_is_namespaced_inkml_with_truth(small_ink):
    text = ink_to_inkml_string(small_ink)
    assert f'<ink xmlns="{INKML_NS}">' in text
    assert '<annotation type="truth">hi!</annotation>' in text
    assert text.count("<trace>") == len(small_ink)
    assert '<channel name="T" type="decimal" units="s" />' in text


def test_pressure_is_written_only_when_every_stroke_has_it(small_ink):
    first = small_ink.strokes[0]
    mixed = small_ink.with_strokes([Stroke(first.xy, first.t, np.ones(len(first))),
                                    *small_ink.strokes[1:]])
    back = parse_inkml(ink_to_inkml_string(mixed).encode())
    assert not back.has_pressure
    assert [s.xy.tolist() for s in back.strokes] == [s.xy.tolist() for s in mixed.strokes]


def test_other_string_meta_become_annotations(small_ink):
    ink = Ink(small_ink.strokes, {"text": "a <b> & 'c'", "writer": "w01", "id": 7,
                                  "source": "/elsewhere.xml"})
    back = parse_inkml(ink_to_inkml_string(ink).encode(), "x.inkml")
    assert back.meta == {"text": "a <b> & 'c'", "writer": "w01",
                         "format": "inkml", "source": "x.inkml"}


def test_meta_that_xml_cannot_hold_is_refused_before_writing(tmp_path, small_ink):
    path = tmp_path / "keep.inkml"
    write_inkml(small_ink, path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="text"):
        write_inkml(Ink(small_ink.strokes, {"text": "bad\x00"}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.inkml"]  # no temp file left


def test_write_replaces_an_existing_file(tmp_path, small_ink, plain_ink):
    path = tmp_path / "x.inkml"
    write_inkml(plain_ink, path)
    write_inkml(small_ink, path)
    assert read_inkml(path) == small_ink
    assert [p.name for p in tmp_path.iterdir()] == ["x.inkml"]


def test_empty_ink_round_trips():
    assert parse_inkml(ink_to_inkml_string(Ink()).encode()).is_empty


@pytest.mark.parametrize("ns", [True, False])
def test_plain_traces_without_trace_format(ns):
    body = "<trace>10 0, 9 14,8 28 ,\n\t7 42</trace><trace>\n  1 2\n</trace>"
    ink = parse_inkml(_doc(body, ns))
    assert [s.xy.tolist() for s in ink.strokes] == [[[10, 0], [9, 14], [8, 28], [7, 42]],
                                                    [[1, 2]]]
    assert np.all(np.diff(ink.times()) > 0)  # synthetic, increasing


def test_plain_traces_with_times_are_relative_to_the_first():
    ink = parse_inkml(_doc("<trace>1 2 1000.5, 3 4 1000.75</trace><trace>5 6 1001</trace>"))
    assert ink.times().tolist() == [0.0, 0.25, 0.5]


def test_trace_format_channel_order_and_milliseconds():
    fmt = ('<definitions><context xml:id="c"><inkSource><traceFormat>'
           '<channel name="T" type="integer" units="ms"/><channel name="X"/>'
           '<channel name="Y"/><channel name="F"/></traceFormat></inkSource></context>'
           "</definitions>")
    ink = parse_inkml(_doc(fmt + "<trace>500 1 2 0.5, 750 3 4 0.25</trace>"))
    (s,) = ink.strokes
    assert s.xy.tolist() == [[1, 2], [3, 4]]
    assert s.t.tolist() == [0.0, 0.25]
    assert s.pressure.tolist() == [0.5, 0.25]


def test_difference_encoded_values_and_touching_numbers():
    # Explicit, then first differences ('), then second differences ("), which persist.
    ink = parse_inkml(_doc("<trace>1125 18432,'23'43,\"7\"-8,3-5,+3+6</trace>"))
    assert ink.strokes[0].xy.tolist() == [[1125, 18432], [1148, 18475], [1178, 18510],
                                          [1211, 18540], [1247, 18576]]


def test_pen_up_traces_are_skipped_and_trace_groups_read():
    body = ('<traceGroup><trace>0 0, 1 1</trace><trace type="penUp">5 5, 6 6</trace>'
            "<traceGroup><trace>2 2</trace></traceGroup></traceGroup>")
    assert [len(s) for s in parse_inkml(_doc(body)).strokes] == [2, 1]


@pytest.mark.parametrize("body, problem", [
    ("<trace>1 2, 3</trace>", "has 1 values"),
    ("<trace>1 2, x 3</trace>", "unreadable trace value"),
    ("<trace>nan nan</trace>", "unreadable trace value"),
    ("<trace>1e999 0</trace>", "NaN, infinite"),
    ("<trace>1e39 0</trace>", "out-of-range"),
    ("<trace>1 2 3 4</trace>", "2 or 3 values"),
    ("<trace>1 2 3</trace><trace>1 2</trace>", "mix points"),
    ('<traceFormat><channel name="X"/></traceFormat><trace>1</trace>', "lacks an X or Y"),
])
def test_bad_traces_name_the_file_and_problem(body, problem):
    with pytest.raises(InkFormatError, match=problem) as err:
        parse_inkml(_doc(body), "bad.inkml")
    assert "bad.inkml" in str(err.value)


def test_other_xml_roots_are_refused():
    with pytest.raises(InkFormatError, match="not InkML"):
        parse_inkml(b"<StrokeSet/>", "x.inkml")


@settings(max_examples=40, deadline=None)
@given(ink=inks(), text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
def test_random_ink_round_trips(ink, text):
    ink = Ink(ink.strokes, {"text": text})
    back = parse_inkml(ink_to_inkml_string(ink).encode())
    assert len(back) == len(ink)
    assert back.meta.get("text", "") == text
    t0 = np.float64(ink.strokes[0].t[0]) if ink.strokes else 0.0
    for a, b in zip(back.strokes, ink.strokes, strict=True):
        np.testing.assert_array_equal(a.xy, b.xy)
        # Times become relative to the first one (in float64, from the decimal text).
        np.testing.assert_allclose(a.t, b.t.astype(np.float64) - t0, rtol=0, atol=2e-3)
        if ink.has_pressure:
            np.testing.assert_array_equal(a.pressure, b.pressure)
