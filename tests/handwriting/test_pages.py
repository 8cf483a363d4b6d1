"""Pages: the one reader the CLI and the app share (`handwriting.pages`) reads a page of
several lines as lines, top first, and `handwriting recognize` prints and reports them."""

from __future__ import annotations

import json

import numpy as np
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


def close_lines(texts: list[str], pitch: float = 2.4, slope: float = 0.0) -> tuple[Ink, list[int]]:
    """`texts` as Hershey lines `pitch` writing heights apart (the app's typed-text pitch is
    2.4), written one after the other, sheared by `slope` (downhill when positive); and how
    many strokes each line has."""
    from handwriting.geometry import ink_height
    from handwriting.ink import Stroke

    strokes, counts, t = [], [], 0.0
    h = ink_height(hershey_ink("hello world"))
    for k, text in enumerate(texts):
        line = hershey_ink(text, origin=(0.0, k * pitch * h), t0=t)
        strokes += [Stroke(s.xy + np.float32(0) + np.stack([np.zeros(len(s)), slope * s.xy[:, 0]], 1
                                                           ).astype(np.float32), s.t)
                    for s in line.strokes]
        counts.append(len(line))
        t = float(line.strokes[-1].t[-1]) + 0.5
    return Ink(tuple(strokes)), counts


@pytest.mark.parametrize("slope", [0.0, 0.07, -0.07])
def test_close_lines_stay_apart_while_strokes_are_undone_and_redone(slope):
    page, counts = close_lines(["Bright lamps lit the old stone bridge",
                                "Seven ships sailed north in 1984"], slope=slope)
    whole = page_lines(page)
    assert [len(s) for s in whole] == counts
    line_of = {id(s): k for k, strokes in enumerate(whole) for s in strokes}
    # undo the second line stroke by stroke, then redo it: at every step the strokes on the
    # page are grouped as they are on the whole page (the first line never takes the second's)
    for n in [*range(len(page), counts[0], -1), *range(counts[0] + 1, len(page) + 1)]:
        lines = page_lines(Ink(page.strokes[:n]))
        assert all(len({line_of[id(s)] for s in strokes}) == 1 for strokes in lines), n
    again = page_lines(Ink(page.strokes))
    assert again == whole


def test_typed_paragraphs_at_the_apps_pitch_are_grouped_right():
    from tests.fixtures import SENTENCES

    rng = np.random.default_rng(0)
    for _ in range(20):
        texts = [SENTENCES[i] for i in rng.choice(len(SENTENCES), size=rng.integers(2, 7))]
        page, counts = close_lines(texts, slope=float(rng.uniform(-0.05, 0.05)))
        assert [len(s) for s in page_lines(page)] == counts, texts


def test_evaluate_pages_reads_whole_forms_as_pages(fake_iam_ondb, capsys, shipped):
    from handwriting.cli.pages import form_pages
    from handwriting.data.iam_ondb import load_iam_ondb

    lines, _ = load_iam_ondb(fake_iam_ondb.root).evaluation_lines("testset_t")
    (page,) = form_pages(lines, 12)  # the fake split has one form
    assert len(page.texts) == 3 and [len(s) for s in page.line_strokes] == [
        len(ln.ink) for ln in sorted(lines, key=lambda ln: ln.id)]
    assert cli.main(["evaluate", "pages", "--iam-ondb", str(fake_iam_ondb.root),
                     "--split", "testset_t", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["forms"] == 1 and got["lines"] == 3
    # (the fake form's lines overlap on the page, 40 units apart: no grouping is asked of it)
    assert got["per_form"] == [{"form": page.form, "lines": 3, "lines_found": got["per_form"][0]["lines_found"]}]
    assert got["lines_right"] == (got["per_form"][0]["lines_found"] == 3)
    assert got["page_cer"] >= 0 and got["line_cer"] >= 0 and "cer_ratio" in got
    assert cli.main(["evaluate", "pages", "--iam-ondb", str(fake_iam_ondb.root),
                     "--forms", "0"]) == 2


def test_help_speaks_to_users_not_of_argparse():
    text = cli.build_parser().format_help()
    assert "Thin argparse" not in text and "Read handwriting" in text


def test_a_dot_far_right_of_a_short_line_joins_the_line_it_sits_on():
    from handwriting.ink import Stroke

    # a short line ("ab"), then a long one whose last stroke, a dot at its top right, is
    # nearer the short line's height than the long line's: it belongs to the line it ends
    page, counts = close_lines(["ab", "Pack my box with five dozen jugs"])
    short, long_line = Ink(page.strokes[:counts[0]]), Ink(page.strokes[counts[0]:])
    below_short, above_long = short.bounds()[3], long_line.bounds()[1]
    y = below_short + 0.2 * (above_long - below_short)
    dot = Stroke(np.float32([[long_line.bounds()[2], y]]), np.float32([99.0]))
    lines = page_lines(Ink(page.strokes + (dot,)))
    assert [len(s) for s in lines] == [counts[0], counts[1] + 1]


def test_paragraphs_laid_out_as_the_app_lays_out_typed_text():
    from handwriting.cli.pages import app_paragraph, evaluate_paragraphs
    from handwriting.geometry import normalize

    class Hershey:  # stands in for the synthesizer: lines in writing heights from (0, 0)
        default_style = "tidy"

        def __init__(self):
            self.styles = []

        def write(self, text, seed=None, style=None):
            self.styles.append(style)
            return [normalize(hershey_ink(t)) for t in text.split("\n")]

    page, counts = app_paragraph(Hershey().write("one line\nand another"))
    assert [len(s) for s in page_lines(page)] == counts
    assert page.bounds()[3] > 2.4  # the second line a pitch down
    writer = Hershey()
    assert evaluate_paragraphs(writer, 5) == {"paragraphs": 5, "paragraphs_right": 5}
    assert writer.styles == ["tidy"] * 5  # in the hand the app writes in by default


def test_cli_reads_unknown_units_with_a_one_line_warning(tmp_path, capsys, shipped):
    path = tmp_path / "odd.inkml"
    path.write_text('<ink xmlns="http://www.w3.org/2003/InkML"><traceFormat>'
                    '<channel name="X" units="furlong"/><channel name="Y" units="furlong"/>'
                    "</traceFormat><trace>0 0, 10 10, 20 0</trace></ink>")
    assert cli.main(["recognize", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(e.startswith("handwriting: warning: ") and "furlong" in e
                                 for e in err)
