"""W3C InkML (http://www.w3.org/2003/InkML) reader and writer: one `<trace>` per stroke, channels
X Y and optional T (seconds, or `units="ms"`) and F (pressure, kept raw).

Reading takes the first `<traceFormat>` in the document (without one, traces hold X Y or
X Y T), decodes the trace value qualifiers (`!` explicit, `'` first and `"` second
differences), skips `penUp` traces, and makes times relative to the first timestamp so
float32 keeps millisecond precision (as the IAM-OnDB reader does). Top-level
`<annotation type="truth">` becomes `meta["text"]`; other typed annotations become
`meta[type]`. Writing stores every string `meta` entry as such an annotation.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from handwriting.formats.errors import InkFormatError
from handwriting.formats.fileio import (
    atomic_write,
    check_finite_f32,
    f32_strings,
    read_bytes,
)
from handwriting.formats.xmlsafe import local_name, parse_xml
from handwriting.ink import Ink, InkError, Stroke

INKML_NS = "http://www.w3.org/2003/InkML"
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}
# A qualifier (! explicit, ' first difference, " second difference) and a decimal or double.
_VALUE = re.compile(r"\s*([!'\"]?)\s*([-+]?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_READER_META = ("format", "source")  # facts about the file read, set by the reader


# Reading

def read_inkml(path: str | Path) -> Ink:
    path = Path(path)
    return parse_inkml(read_bytes(path), path)


def parse_inkml(data: bytes, source="<bytes>") -> Ink:
    """Ink from the bytes of an InkML document."""
    return ink_from_inkml_root(parse_xml(data, source), source)


def ink_from_inkml_root(root: ET.Element, source="<bytes>") -> Ink:
    """Ink from an already parsed (safely, see `xmlsafe`) InkML `<ink>` element."""
    if local_name(root.tag) != "ink":
        raise InkFormatError(source, f"root element is <{local_name(root.tag)}>, not InkML <ink>")
    channels, t_scale = _trace_format(root, source)
    rows, time_known = [], None
    for el in root.iter():
        if local_name(el.tag) != "trace" or el.get("type", "penDown") == "penUp":
            continue
        values = _decode_trace(el.text or "", source, len(channels) if channels else None)
        if values is None:
            continue
        if channels is None:  # no traceFormat: X Y or X Y T, decided by the first trace
            if values.shape[1] not in (2, 3):
                raise InkFormatError(source, f"without a <traceFormat> a point needs 2 or 3 "
                                             f"values (X Y [T]), got {values.shape[1]}")
            time_known = values.shape[1] == 3 if time_known is None else time_known
            if values.shape[1] != (3 if time_known else 2):
                raise InkFormatError(source, "traces mix points with and without times")
            cols = {"X": 0, "Y": 1, **({"T": 2} if time_known else {})}
        else:
            cols = {name: i for i, name in enumerate(channels)}
        rows.append({k: values[:, i] for k, i in cols.items() if k in ("X", "Y", "T", "F")})
    return Ink(_strokes(rows, t_scale, source), _annotations(root) | {
        "format": "inkml", "source": str(source)})


def _trace_format(root: ET.Element, source) -> tuple[list[str] | None, float]:
    """Regular channel names of the first `<traceFormat>` and the scale of T to seconds."""
    fmt = next((el for el in root.iter() if local_name(el.tag) == "traceFormat"), None)
    if fmt is None:
        return None, 1.0
    channels, t_scale = [], 1.0
    for ch in fmt:  # direct children only: <intermittentChannels> values may be absent
        if local_name(ch.tag) != "channel":
            continue
        name = (ch.get("name") or "").strip()
        channels.append(name)
        if name == "T":
            units = (ch.get("units") or "s").strip()
            if units not in _TIME_UNITS:
                raise InkFormatError(source, f"unsupported time units {units!r}")
            t_scale = _TIME_UNITS[units]
    if "X" not in channels or "Y" not in channels:
        raise InkFormatError(source, f"<traceFormat> lacks an X or Y channel (has {channels})")
    return channels, t_scale


def _decode_trace(text: str, source, n_channels: int | None) -> np.ndarray | None:
    """(N, C) float64 values of one trace's text, differences resolved; None if empty.
    Without `n_channels` the first point decides C."""
    points = [_split_point(p, source, i) for i, p in enumerate(text.split(",")) if p.strip()]
    if not points:
        return None
    n = n_channels or len(points[0][1])
    out = np.empty((len(points), n), np.float64)
    mode, prev, vel = ["!"] * n, np.zeros(n), np.zeros(n)
    for i, (qualifiers, values) in enumerate(points):
        if len(values) < n:
            raise InkFormatError(source, f"point {i + 1} of a trace has {len(values)} values, "
                                         f"expected {n}")
        for c in range(n):  # values past n belong to intermittent channels
            mode[c] = qualifiers[c] or mode[c]  # a qualifier holds until the next one
            if mode[c] == "!":
                v = values[c]
            elif mode[c] == "'":
                v = prev[c] + values[c]
            else:
                v = prev[c] + vel[c] + values[c]
            vel[c], prev[c] = v - prev[c], v
            out[i, c] = v
    return check_finite_f32(out, source, "a trace")


def _split_point(point: str, source, i: int) -> tuple[list[str], list[float]]:
    """Qualifiers and numbers of one point; numbers may touch (`3-5` is 3 and -5)."""
    qualifiers, values, pos = [], [], 0
    while pos < len(point) and point[pos:].strip():
        m = _VALUE.match(point, pos)
        if m is None:
            bad = point[pos:].strip()[:20]
            raise InkFormatError(source, f"unreadable trace value {bad!r} near point {i + 1}")
        qualifiers.append(m.group(1))
        values.append(float(m.group(2).replace(" ", "")))
        pos = m.end()
    return qualifiers, values


def _strokes(rows: list[dict], t_scale: float, source) -> tuple[Stroke, ...]:
    has_t = bool(rows) and "T" in rows[0]
    t0 = float(rows[0]["T"][0]) * t_scale if has_t else 0.0
    strokes, t_next = [], 0.0
    for row in rows:
        n = len(row["X"])
        if has_t:
            t = row["T"] * t_scale - t0
        else:  # synthetic times, spaced as `Ink.from_strokes` spaces them
            t = t_next + 0.01 * np.arange(n)
            t_next = float(t[-1]) + 0.05
        try:
            strokes.append(Stroke(np.stack([row["X"], row["Y"]], axis=1), t, row.get("F")))
        except InkError as exc:
            raise InkFormatError(source, str(exc)) from None
    return tuple(strokes)


def _annotations(root: ET.Element) -> dict:
    meta = {}
    for el in root:
        kind = el.get("type")
        if local_name(el.tag) == "annotation" and kind and kind not in _READER_META:
            meta["text" if kind == "truth" else kind] = el.text or ""
    return meta


# Writing

def ink_to_inkml_string(ink: Ink) -> str:
    """The InkML document for `ink`: T in seconds, F only when every stroke has pressure."""
    # A literal xmlns attribute: ET's default_namespace= refuses unqualified attributes.
    root = ET.Element("ink", xmlns=INKML_NS)
    for key, value in ink.meta.items():
        if isinstance(key, str) and isinstance(value, str) and key not in _READER_META:
            if _XML_FORBIDDEN.search(key + value):
                raise ValueError(f"meta[{key!r}] holds characters XML cannot store")
            note = ET.SubElement(root, "annotation", type="truth" if key == "text" else key)
            note.text = value
    names = ["X", "Y", "T"] + (["F"] if ink.has_pressure else [])
    fmt = ET.SubElement(ET.SubElement(root, "context"), "traceFormat")
    for name in names:
        attrs = {"name": name, "type": "decimal"} | ({"units": "s"} if name == "T" else {})
        ET.SubElement(fmt, "channel", attrs)
    for s in ink.strokes:
        cols = [s.xy[:, 0], s.xy[:, 1], s.t] + ([s.pressure] if ink.has_pressure else [])
        text = zip(*(f32_strings(c) for c in cols), strict=True)
        ET.SubElement(root, "trace").text = ", ".join(" ".join(p) for p in text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_inkml(ink: Ink, path: str | Path) -> None:
    """Write `ink` as InkML, atomically (see `ink_to_inkml_string`)."""
    atomic_write(path, ink_to_inkml_string(ink).encode("utf-8"))
