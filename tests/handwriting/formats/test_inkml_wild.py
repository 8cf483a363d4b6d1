"""InkML as other software writes it: Microsoft Office (prefixed, contexts, brushes, X/Y in
centimetres at a resolution, F and T in device units, differences), CROHME and MathWriting,
and the InkML specification's own context and unit examples. Files written by hand to those
shapes (no third-party data)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from handwriting.formats.errors import InkFormatWarning
from handwriting.formats.inkml import parse_inkml

OFFICE = b"""<?xml version="1.0" encoding="UTF-8"?>
<inkml:ink xmlns:inkml="http://www.w3.org/2003/InkML">
  <inkml:definitions>
    <inkml:context xml:id="ctx0">
      <inkml:inkSource xml:id="inkSrc0">
        <inkml:traceFormat>
          <inkml:channel name="X" type="integer" max="32767" units="cm"/>
          <inkml:channel name="Y" type="integer" max="32767" units="cm"/>
          <inkml:channel name="F" type="integer" max="32767" units="dev"/>
          <inkml:channel name="T" type="integer" max="2.14748E9" units="dev"/>
        </inkml:traceFormat>
        <inkml:channelProperties>
          <inkml:channelProperty channel="X" name="resolution" value="1000" units="1/cm"/>
          <inkml:channelProperty channel="Y" name="resolution" value="1000" units="1/cm"/>
          <inkml:channelProperty channel="F" name="resolution" value="0" units="1/dev"/>
          <inkml:channelProperty channel="T" name="resolution" value="1" units="1/dev"/>
        </inkml:channelProperties>
      </inkml:inkSource>
      <inkml:timestamp xml:id="ts0" timeString="2024-03-01T10:00:00.000"/>
    </inkml:context>
    <inkml:brush xml:id="br0">
      <inkml:brushProperty name="width" value="0.035" units="cm"/>
      <inkml:brushProperty name="height" value="0.035" units="cm"/>
      <inkml:brushProperty name="color" value="#000000"/>
    </inkml:brush>
  </inkml:definitions>
  <inkml:trace contextRef="#ctx0" brushRef="#br0">2000 3000 16384 500,'10'20'0'8,"0"0"0"0</inkml:trace>
  <inkml:trace contextRef="#ctx0" brushRef="#br0">2500 3000 32767 1000, 2500 3100 0 1016</inkml:trace>
</inkml:ink>
"""


def test_office_inkml_reads_in_millimetres_seconds_and_unit_pressure():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Office's units are all known: no warning
        ink = parse_inkml(OFFICE, "office.inkml")
    a, b = ink.strokes
    # X, Y: 1000 values per cm, so 2000 is 20 mm; first then second differences
    np.testing.assert_allclose(a.xy, [[20, 30], [20.1, 30.2], [20.2, 30.4]], atol=1e-4)
    np.testing.assert_allclose(b.xy, [[25, 30], [25, 31]], atol=1e-4)
    # T in device units: milliseconds, relative to the first point
    np.testing.assert_allclose(a.t, [0, 0.008, 0.016], atol=1e-6)
    np.testing.assert_allclose(b.t, [0.5, 0.516], atol=1e-6)
    np.testing.assert_allclose(b.pressure, [1, 0], atol=1e-6)  # F / max
    assert ink.meta["format"] == "inkml"


def test_himetric_and_other_units_become_millimetres():
    for units, factor in (("himetric", 0.01), ("mm", 1.0), ("cm", 10.0), ("in", 25.4)):
        doc = (f'<inkml:ink xmlns:inkml="http://www.w3.org/2003/InkML"><inkml:traceFormat>'
               f'<inkml:channel name="X" units="{units}"/><inkml:channel name="Y" units="{units}"/>'
               f'<inkml:channel name="T" units="s"/></inkml:traceFormat>'
               f"<inkml:trace>100 200 1, 300 400 1.5</inkml:trace></inkml:ink>").encode()
        (s,) = parse_inkml(doc).strokes
        np.testing.assert_allclose(s.xy, np.array([[100, 200], [300, 400]]) * factor, rtol=1e-6)
        np.testing.assert_allclose(s.t, [0, 0.5])


def test_device_units_with_resolutions_keep_the_aspect():
    doc = b"""<ink xmlns="http://www.w3.org/2003/InkML"><definitions><context xml:id="c">
      <inkSource xml:id="s"><traceFormat><channel name="X"/><channel name="Y"/>
      <channel name="T" units="dev"/></traceFormat>
      <channelProperties><channelProperty channel="X" name="resolution" value="2" units="1/dev"/>
      <channelProperty channel="Y" name="resolution" value="4" units="1/dev"/>
      <channelProperty channel="T" name="resolution" value="1000" units="1/s"/>
      </channelProperties></inkSource></context></definitions>
      <trace contextRef="#c">0 0 0, 20 40 250</trace></ink>"""
    (s,) = parse_inkml(doc).strokes
    np.testing.assert_allclose(s.xy, [[0, 0], [10, 10]])
    np.testing.assert_allclose(s.t, [0, 0.25])


def test_contexts_named_by_traces_groups_and_context_elements():
    # The spec's pattern: contexts in <definitions>, a <context contextRef> that sets the
    # current one, traces and trace groups that name another.
    doc = b"""<ink xmlns="http://www.w3.org/2003/InkML"><definitions>
      <traceFormat xml:id="xy"><channel name="X"/><channel name="Y"/></traceFormat>
      <context xml:id="plain" traceFormatRef="#xy"/>
      <context xml:id="timed"><inkSource xml:id="pen"><traceFormat>
        <channel name="T" units="ms"/><channel name="X"/><channel name="Y"/>
      </traceFormat></inkSource></context>
      </definitions>
      <context contextRef="#timed"/>
      <trace>0 1 2, 100 3 4</trace>
      <trace contextRef="#timed">200 5 6</trace>
      <traceGroup contextRef="#timed"><trace>300 7 8</trace></traceGroup>
    </ink>"""
    ink = parse_inkml(doc)
    assert [s.xy.tolist() for s in ink.strokes] == [[[1, 2], [3, 4]], [[5, 6]], [[7, 8]]]
    np.testing.assert_allclose(ink.times(), [0, 0.1, 0.2, 0.3])
    mixed = b"""<ink xmlns="http://www.w3.org/2003/InkML"><definitions>
      <context xml:id="a"><traceFormat><channel name="X"/><channel name="Y"/></traceFormat></context>
      <context xml:id="b"><traceFormat><channel name="Y"/><channel name="X"/></traceFormat></context>
      </definitions><trace contextRef="#a">1 2</trace><trace contextRef="#b">1 2</trace></ink>"""
    assert [s.xy.tolist() for s in parse_inkml(mixed).strokes] == [[[1, 2]], [[2, 1]]]


def test_unknown_units_are_read_with_a_warning():
    doc = b"""<ink xmlns="http://www.w3.org/2003/InkML"><traceFormat>
      <channel name="X" units="furlong"/><channel name="Y" units="furlong"/>
      <channel name="T" units="fortnight"/></traceFormat><trace>1 2 3, 4 5 6</trace></ink>"""
    with pytest.warns(InkFormatWarning, match="odd.inkml") as record:
        ink = parse_inkml(doc, "odd.inkml")
    assert {"furlong", "fortnight"} <= {m for w in record for m in ("furlong", "fortnight")
                                         if m in str(w.message)}
    assert ink.strokes[0].xy.tolist() == [[1, 2], [4, 5]]  # the file's numbers
    assert np.all(np.diff(ink.times()) > 0)  # synthetic times instead of unusable ones


CROHME = b"""<ink xmlns="http://www.w3.org/2003/InkML">
<traceFormat><channel name="X" type="decimal"/><channel name="Y" type="decimal"/></traceFormat>
<annotation type="truth">$a+b$</annotation>
<annotation type="writer">w123</annotation>
<annotation type="UI">2013_IVC_CROHME_F_1</annotation>
<trace id="0">985 3317, 984 3317, 980 3320</trace>
<trace id="1">1050 3300, 1052 3340</trace>
<traceGroup xml:id="2"><annotation type="truth">Segmentation</annotation>
  <traceGroup xml:id="3"><annotation type="truth">a</annotation><traceView traceDataRef="0"/>
  <annotationXML href="a_1"/></traceGroup>
</traceGroup>
</ink>"""

MATHWRITING = b"""<ink xmlns="http://www.w3.org/2003/InkML">
<annotation type="label">\\frac{a}{b}</annotation>
<annotation type="splitTagOriginal">train</annotation>
<annotation type="inkCreationMethod">human</annotation>
<trace>103.25 -23.5 1.5, 104.5 -22.75 1.516</trace>
<trace>110 -20 1.6</trace>
</ink>"""


def test_crohme_and_mathwriting_shapes_read_as_before():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        crohme = parse_inkml(CROHME)
        mathwriting = parse_inkml(MATHWRITING)
    assert [len(s) for s in crohme.strokes] == [3, 2]
    assert crohme.strokes[0].xy.tolist() == [[985, 3317], [984, 3317], [980, 3320]]
    assert crohme.meta["text"] == "$a+b$" and crohme.meta["writer"] == "w123"
    assert mathwriting.meta["label"] == "\\frac{a}{b}"
    assert mathwriting.strokes[0].xy.tolist() == [[103.25, -23.5], [104.5, -22.75]]
    np.testing.assert_allclose(mathwriting.times(), [0, 0.016, 0.1], atol=1e-5)


def test_physical_units_are_marked_and_round_trip(tmp_path):
    from handwriting.formats.inkml import read_inkml, write_inkml

    ink = parse_inkml(OFFICE)
    assert ink.meta["units"] == "mm"
    write_inkml(ink, tmp_path / "again.inkml")
    back = read_inkml(tmp_path / "again.inkml")
    assert back.meta["units"] == "mm" and back == ink
    assert "units" not in parse_inkml(CROHME).meta
