"""`read_ink` / `write_ink`: dispatch by extension, sniffing .xml, and errors naming files."""

from __future__ import annotations

import pytest
from PIL import Image

from handwriting.formats import InkFormatError, read_ink, write_ink
from handwriting.formats.fileio import read_bytes
from handwriting.formats.inkml import ink_to_inkml_string

IAM_XML = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession><StrokeSet>
  <Stroke colour="black" start_time="1.0" end_time="1.1">
    <Point x="10" y="20" time="1.0"/><Point x="11" y="22" time="1.05"/>
  </Stroke>
</StrokeSet></WhiteboardCaptureSession>"""


@pytest.mark.parametrize("name", ["a.inkml", "a.json", "a.svg", "A.JSON"])
def test_written_files_read_back(tmp_path, small_ink, name):
    path = tmp_path / name
    write_ink(small_ink, path)
    back = read_ink(path)
    assert [s.xy.tolist() for s in back.strokes] == [s.xy.tolist() for s in small_ink.strokes]
    assert back.meta["text"] == "hi!" and back.meta["source"] == str(path)


def test_xml_is_iam_ondb_or_inkml_by_root_tag(tmp_path, small_ink):
    iam, inkml = tmp_path / "iam.xml", tmp_path / "inkml.xml"
    iam.write_bytes(IAM_XML)
    inkml.write_text(ink_to_inkml_string(small_ink), encoding="utf-8")
    assert read_ink(iam).meta["format"] == "iam-ondb"
    assert read_ink(iam).strokes[0].xy.tolist() == [[10, 20], [11, 22]]
    assert read_ink(inkml).meta["format"] == "inkml"
    assert read_ink(inkml) == small_ink


def test_write_png_with_options(tmp_path, small_ink):
    path = tmp_path / "a.png"
    write_ink(small_ink, path, height=40, color="blue")
    with Image.open(path) as image:
        assert image.height == 40


def test_options_reach_the_writer(tmp_path, small_ink):
    path = tmp_path / "a.svg"
    write_ink(small_ink, path, stroke_width=3.25)
    assert 'stroke-width="3.25"' in path.read_text(encoding="utf-8")
    with pytest.raises(TypeError):
        write_ink(small_ink, tmp_path / "a.json", stroke_width=3)


@pytest.mark.parametrize("name", ["a.txt", "a", "a.inkml.bak"])
def test_unknown_extensions_are_refused(tmp_path, small_ink, name):
    path = tmp_path / name
    path.write_text("x")
    with pytest.raises(InkFormatError, match="unsupported") as err:
        read_ink(path)
    assert name in str(err.value)
    with pytest.raises(InkFormatError, match="unsupported output type") as err:
        write_ink(small_ink, path)
    assert name in str(err.value)


@pytest.mark.parametrize("name", ["missing.xml", "missing.inkml", "missing.json", "missing.svg"])
def test_missing_files_are_ink_format_errors(tmp_path, name):
    with pytest.raises(InkFormatError, match="cannot read file") as err:
        read_ink(tmp_path / name)
    assert name in str(err.value)


def test_a_directory_is_an_ink_format_error(tmp_path):
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with pytest.raises(InkFormatError, match="folder.json"):
        read_ink(folder)


def test_oversized_files_are_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 100)
    with pytest.raises(InkFormatError, match="big.json: file is larger than 50 bytes"):
        read_bytes(path, max_bytes=50)
    assert read_bytes(path, max_bytes=100) == b" " * 100
