"""Reader for IAM-OnDB line stroke XML (`<StrokeSet><Stroke><Point x y time/>`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handwriting.formats.errors import InkFormatError
from handwriting.formats.fileio import check_counts, check_finite_f32, read_bytes
from handwriting.formats.xmlsafe import local_name, parse_xml
from handwriting.ink import Ink, InkError, Stroke


def parse_iam_xml(data: bytes, source="<bytes>") -> Ink:
    """Ink from the bytes of one IAM-OnDB `lineStrokes` XML file (y points down, t in s)."""
    root = parse_xml(data, source)
    strokes = []
    n_points = 0
    for el in root.iter():
        if local_name(el.tag) != "Stroke":
            continue
        pts = [p for p in el if local_name(p.tag) == "Point"]
        if not pts:
            continue
        n_points += len(pts)
        check_counts(len(strokes) + 1, n_points, source)
        try:
            arr = np.array(
                [(float(p.get("x")), float(p.get("y")), float(p.get("time", "nan"))) for p in pts],
                dtype=np.float64,
            )
        except (TypeError, ValueError):
            raise InkFormatError(source, "a <Point> lacks a numeric x, y or time") from None
        check_finite_f32(arr[:, :2], source, "coordinates")
        t = arr[:, 2]
        if not np.all(np.abs(t) <= np.finfo(np.float32).max):  # NaN, inf, beyond float32
            t = np.arange(len(arr)) * 0.01
        try:
            strokes.append(Stroke(arr[:, :2].astype(np.float32), t.astype(np.float32)))
        except InkError as exc:
            raise InkFormatError(source, str(exc)) from None
    if not strokes:
        raise InkFormatError(source, "no <Stroke> with <Point>s found (not IAM-OnDB stroke XML?)")
    # Timestamps are absolute session seconds (~1e3); keep them relative to the first point so
    # float32 keeps millisecond precision.
    t0 = float(strokes[0].t[0])
    strokes = [Stroke(s.xy, s.t - t0) for s in strokes]
    return Ink(tuple(strokes), {"format": "iam-ondb", "source": str(source)})


def read_iam_xml(path: str | Path) -> Ink:
    path = Path(path)
    return parse_iam_xml(read_bytes(path), path)
