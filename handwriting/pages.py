"""A page of several lines of writing, read the one way the app and the CLI share: the strokes
are grouped into lines (`grouping.group_lines`), each line is recognized on its own, top line
first, and the page's text is the lines' texts joined by newlines."""

from __future__ import annotations

from dataclasses import dataclass

from handwriting.decoding import Hypothesis
from handwriting.grouping import group_lines
from handwriting.ink import Ink, Stroke


def page_lines(ink: Ink) -> list[tuple[Stroke, ...]]:
    """The lines of writing on `ink`, top line first, each as its strokes in writing order."""
    return [tuple(ink.strokes[i] for i in g) for g in group_lines(ink)]


def line_ink(strokes: tuple[Stroke, ...]) -> Ink:
    """The ink the recognizer reads for one line of `page_lines` (no page metadata)."""
    return Ink(strokes)


@dataclass(frozen=True)
class PageLine:
    """One recognized line: its best text, n-best list and the indices of its strokes in the
    page's ink (writing order)."""

    text: str
    nbest: tuple[Hypothesis, ...]
    strokes: tuple[int, ...]


@dataclass(frozen=True)
class PageReading:
    """A recognized page: its lines, top first."""

    lines: tuple[PageLine, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def read_page(recognizer, ink: Ink, decoder: str | None = None) -> PageReading:
    """Recognize every line of `ink` with `recognizer` (a `service.Recognizer` or anything
    with its `recognize(ink, decoder)`)."""
    if ink.is_empty:
        raise ValueError("ink is empty: nothing to recognize")
    lines = []
    for g in group_lines(ink):
        r = recognizer.recognize(line_ink(tuple(ink.strokes[i] for i in g)), decoder)
        lines.append(PageLine(r.text, tuple(r.nbest), tuple(g)))
    return PageReading(tuple(lines))


def reading_json(path: str, reading: PageReading) -> dict:
    """What `handwriting recognize --json` prints for one file. `text` and `nbest` are kept
    from the one-line reader: `nbest` is the line's own list when the page has one line, and
    otherwise one entry, the lines' best texts joined (its score the sum of theirs)."""
    lines = [{"text": ln.text, "strokes": list(ln.strokes),
              "nbest": [{"text": h.text, "score": round(float(h.score), 4)} for h in ln.nbest]}
             for ln in reading.lines]
    if len(lines) == 1:
        nbest = lines[0]["nbest"]
    else:
        score = sum(float(ln.nbest[0].score) for ln in reading.lines if ln.nbest)
        nbest = [{"text": reading.text, "score": round(score, 4)}]
    return {"file": path, "text": reading.text, "nbest": nbest, "lines": lines}
