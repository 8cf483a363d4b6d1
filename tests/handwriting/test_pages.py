"""Pages: the one reader the CLI and the app share (`handwriting.pages`) reads a page of
several lines as lines, top first, and `handwriting recognize` prints and reports them."""

from __future__ import annotations

import json

import pytest

from handwriting import cli
from handwriting.formats import write_ink
from handwriting.ink import Ink
from handwriting.pages import page_lines, read_page
from tests.fixtures import hershey_ink


def two_line_page() -> Ink:
    """Two lines of Hershey script, the second 3 x 30 font units (a line pitch) below."""
    first = hershey_ink("hello world", scale=3.0)
    second = hershey_ink("good night", scale=3.0, origin=(0.0, 110.0),
                         t0=float(first.strokes[-1].t[-1]) + 0.5)
    return Ink(first.strokes + second.strokes)


@pytest.fixture(scope="module")
def shipped():
    from handwriting.service import Recognizer

    return Recognizer.from_checkpoint()


def test_a_two_line_page_is_two_lines_top_first():
    page = two_line_page()
    lines = page_lines(page)
    n_first = len(hershey_ink("hello world").strokes)
    assert [len(s) for s in lines] == [n_first, len(page) - n_first]
    assert lines[0] == page.strokes[:n_first]


def test_read_page_recognizes_each_line_as_its_own_ink(shipped):
    page = two_line_page()
    reading = read_page(shipped, page)
    assert len(reading.lines) == 2
    for line, strokes in zip(reading.lines, page_lines(page), strict=True):
        assert line.text == shipped.recognize(Ink(strokes)).text
    assert reading.text == "\n".join(ln.text for ln in reading.lines)
    with pytest.raises(ValueError, match="empty"):
        read_page(shipped, Ink())


def test_cli_prints_one_line_per_written_line_and_json_per_line(tmp_path, capsys, shipped):
    path = tmp_path / "page.json"
    write_ink(two_line_page(), path)
    assert cli.main(["recognize", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(row.startswith(f"{path}\t") for row in out)
    assert cli.main(["recognize", str(path), "--json"]) == 0
    (got,) = json.loads(capsys.readouterr().out)
    assert set(got) >= {"file", "text", "nbest", "lines"}
    assert [ln["text"] for ln in got["lines"]] == [row.split("\t", 1)[1] for row in out]
    assert got["text"] == "\n".join(ln["text"] for ln in got["lines"])
    assert sorted(i for ln in got["lines"] for i in ln["strokes"]) == list(range(len(two_line_page())))
    assert all(ln["nbest"] and {"text", "score"} <= set(ln["nbest"][0]) for ln in got["lines"])
    assert got["nbest"][0]["text"] == got["text"]


def test_cli_json_keeps_the_one_line_fields(tmp_path, capsys, shipped):
    ink = hershey_ink("hello world", scale=3.0)
    write_ink(ink, tmp_path / "line.json")
    assert cli.main(["recognize", str(tmp_path / "line.json"), "--json"]) == 0
    (got,) = json.loads(capsys.readouterr().out)
    r = shipped.recognize(ink)
    assert got["text"] == r.text and [h["text"] for h in got["nbest"]] == [h.text for h in r.nbest]
    assert len(got["lines"]) == 1
