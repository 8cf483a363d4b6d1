"""`handwriting evaluate pages`: whole IAM-OnDB forms read as pages against the same lines
read one by one (a form's lines keep their whiteboard coordinates, so the page is the page as
written), and the app's synthesized paragraphs grouped into their lines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

import numpy as np

from handwriting.ink import Ink, Stroke


@dataclass(frozen=True)
class FormPage:
    """One form as a page: its ink (the lines in order, times following each other), the
    text of each line and, per line, the indices of its strokes in the page."""

    form: str
    ink: Ink
    texts: tuple[str, ...]
    line_strokes: tuple[tuple[int, ...], ...]


def form_pages(lines, forms: int) -> list[FormPage]:
    """`forms` forms spread evenly over `lines` (IamLine, any order), each as a FormPage."""
    by_form: dict[str, list] = {}
    for ln in sorted(lines, key=lambda ln: ln.id):
        by_form.setdefault(ln.id.rsplit("-", 1)[0], []).append(ln)
    names = sorted(by_form)
    if forms < 1:
        raise ValueError(f"--forms must be at least 1, got {forms}")
    step = max(1, len(names) // forms)
    pages = []
    for name in names[::step][:forms]:
        strokes: list[Stroke] = []
        owned, t = [], 0.0
        for ln in by_form[name]:
            start = len(strokes)
            t0 = float(ln.ink.strokes[0].t[0])
            strokes += [Stroke(s.xy, s.t - t0 + t, s.pressure) for s in ln.ink.strokes]
            owned.append(tuple(range(start, len(strokes))))
            t = float(strokes[-1].t[-1]) + 1.0
        pages.append(FormPage(name, Ink(tuple(strokes)), tuple(ln.text for ln in by_form[name]),
                              tuple(owned)))
    return pages


def evaluate_pages(recognizer, pages: list[FormPage], decoder: str | None = None) -> dict:
    """Line count and stroke grouping per page, and the CER of the pages read as pages
    (texts joined by newlines) next to the CER of their lines read one by one."""
    from handwriting.metrics import ErrorCounts
    from handwriting.pages import line_ink, read_page

    page_counts, line_counts = ErrorCounts(), ErrorCounts()
    per_form = []
    right = exact = 0
    for page in pages:
        reading = read_page(recognizer, page.ink, decoder)
        found = {ln.strokes: ln.text for ln in reading.lines}
        for strokes, text in zip(page.line_strokes, page.texts, strict=True):
            hyp = found.get(strokes)  # the page's line is this line: its reading is the same
            if hyp is None:
                hyp = recognizer.recognize(
                    line_ink(tuple(page.ink.strokes[i] for i in strokes)), decoder).text
            line_counts.add(text, hyp)
        page_counts.add("\n".join(page.texts), reading.text)
        right += len(reading.lines) == len(page.texts)
        exact += set(found) == set(page.line_strokes)
        per_form.append({"form": page.form, "lines": len(page.texts),
                         "lines_found": len(reading.lines)})
    return {"forms": len(pages), "lines": line_counts.lines, "lines_right": right,
            "grouping_exact": exact, "page_cer": round(page_counts.cer, 5),
            "line_cer": round(line_counts.cer, 5),
            "cer_ratio": round(page_counts.cer / max(line_counts.cer, 1e-9), 3),
            "page_wer": round(page_counts.wer, 5), "line_wer": round(line_counts.wer, 5),
            "per_form": per_form}


# The app's typed-text layout (gui.layout.LINE_PITCH, gui.writing.LINE_CLEARANCE), in
# writing heights: line k starts k pitches down, then moves down until it clears the one above.
APP_LINE_PITCH = 2.4
APP_LINE_CLEARANCE = 0.6


def app_paragraph(lines: list[Ink]) -> tuple[Ink, list[int]]:
    """Synthesized lines (in writing heights, from the pen's start at 0, 0) placed as the app
    places typed text, written one after the other; and how many strokes each line has."""
    strokes: list[Stroke] = []
    counts, bottom, t = [], None, 0.0
    for k, line in enumerate(lines):
        y = np.concatenate([s.xy[:, 1] for s in line.strokes]) + k * APP_LINE_PITCH
        top, low = np.percentile(y, [5, 95])
        dy = k * APP_LINE_PITCH + (0.0 if bottom is None else max(0.0, bottom + APP_LINE_CLEARANCE - top))
        strokes += [Stroke(s.xy + np.float32((0.0, dy)), s.t + t) for s in line.strokes]
        counts.append(len(line))
        bottom = low + dy - k * APP_LINE_PITCH
        t = float(strokes[-1].t[-1]) + 0.3
    return Ink(tuple(strokes)), counts


def evaluate_paragraphs(synthesizer, tries: int, seed: int = 0) -> dict:
    """`tries` paragraphs of 2-6 phrases (the shipped legibility phrases) synthesized and
    laid out as the app lays out typed text, in the hand the app writes in by default
    (`presets.DEFAULT_STYLE`): how many are grouped into their lines exactly."""
    from handwriting.grouping import group_lines
    from handwriting.phrases import read_phrases

    phrases = read_phrases()
    rng = np.random.default_rng(seed)
    right = 0
    for k in range(tries):
        texts = [phrases[i] for i in rng.choice(len(phrases), size=int(rng.integers(2, 7)))]
        page, counts = app_paragraph(synthesizer.write("\n".join(texts), seed=seed + k,
                                                       style=synthesizer.default_style))
        starts = np.cumsum([0, *counts])
        truth = [list(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
        right += group_lines(page) == truth
    return {"paragraphs": tries, "paragraphs_right": right}


def add_parser(esub) -> None:
    p = esub.add_parser("pages", help="read whole IAM-OnDB forms as pages (line grouping and "
                                      "page CER against line CER)")
    p.add_argument("--iam-ondb", metavar="PATH", default=None,
                   help="IAM-OnDB folder (default: ../shared/data/iam-ondb or $HANDWRITING_IAM_ONDB)")
    p.add_argument("--split", default="testset_t")
    p.add_argument("--forms", type=int, default=12, help="forms, spread over the split (default 12)")
    p.add_argument("--decoder", choices=("greedy", "beam"), default=None)
    p.add_argument("--model", dest="checkpoint", default=None, help="checkpoint (default: shipped)")
    p.add_argument("--synthesized", type=int, default=0, metavar="N",
                   help="also N paragraphs of 2-6 lines synthesized and laid out as the app "
                        "lays out typed text: how many are grouped into their lines")
    p.add_argument("--synthesizer", default=None, help="synthesizer checkpoint (default: shipped)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate_pages)


def cmd_evaluate_pages(args: argparse.Namespace) -> int:
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.service import Recognizer

    ds = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty())
    lines, _ = ds.evaluation_lines(args.split)
    pages = form_pages(lines, args.forms)
    if not pages:
        raise ValueError(f"split {args.split!r} has no lines in {args.iam_ondb or 'the default path'}")
    rec = Recognizer.from_checkpoint(args.checkpoint)
    t0 = time.perf_counter()
    result = {"split": args.split, "decoder": args.decoder or rec.default_decoder,
              **evaluate_pages(rec, pages, args.decoder),
              "seconds": round(time.perf_counter() - t0, 2), "model": str(rec.path)}
    if args.synthesized:
        from handwriting.service import Synthesizer

        result |= evaluate_paragraphs(Synthesizer.from_checkpoint(args.synthesizer),
                                      args.synthesized)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.split}: {result['lines_right']}/{result['forms']} pages with the right "
              f"number of lines ({result['grouping_exact']} grouped exactly); page CER "
              f"{100 * result['page_cer']:.2f} %, line CER {100 * result['line_cer']:.2f} % "
              f"({result['lines']} lines, {result['seconds']} s)")
    return 0
