"""W3C InkML (http://www.w3.org/2003/InkML) reader and writer: one `<trace>` per stroke, channels
X Y and optional T and F (pressure).

Reading follows the files other software writes (Microsoft Office, CROHME, MathWriting):
any namespace prefix (`<inkml:ink>`), contexts in `<definitions>` that traces, trace groups
and later `<context>` elements name by `contextRef` (a trace without one uses the current
context, at first the document's first `<traceFormat>`; without any, traces hold X Y or
X Y T), `traceFormatRef`/`inkSourceRef`, and brushes (read past: ink has no brush). The
trace value qualifiers are decoded (`!` explicit, `'` first and `"` second differences),
`penUp` traces skipped. Units: X and Y in physical units (himetric, mm, cm, in, m, pt, or
device units with a `channelProperties` resolution in them) become millimetres; without
units they stay the file's numbers. T in s, ms or us; in device units (Office) milliseconds
are assumed, or the resolution's time unit. F is scaled to 0-1 where the channel gives its
`max`. An unknown unit is read past with an `InkFormatWarning` while X and Y are usable.
Times become relative to the first timestamp so float32 keeps millisecond precision (as the
IAM-OnDB reader does). Top-level `<annotation type="truth">` becomes `meta["text"]`; other
typed annotations become `meta[type]`. Writing stores every string `meta` entry as such an
annotation.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from handwriting.formats.errors import InkFormatError, InkFormatWarning
from handwriting.formats.fileio import (
    atomic_write,
    check_finite_f32,
    f32_strings,
    read_bytes,
)
from handwriting.formats.xmlsafe import local_name, parse_xml
from handwriting.ink import Ink, InkError, Stroke

INKML_NS = "http://www.w3.org/2003/InkML"
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
    contexts, first = _contexts(root, source)
    rows: list[dict] = []
    time_known: list[bool | None] = [None]

    def walk(el: ET.Element, fmt: _Format | None) -> None:
        for child in el:
            name = local_name(child.tag)
            ref = _ref(child.get("contextRef"))
            if name == "trace":
                if child.get("type", "penDown") != "penUp":
                    _read_trace(child, contexts.get(ref, fmt) if ref else fmt, rows,
                                time_known, source)
            elif name == "traceGroup":
                walk(child, contexts.get(ref, fmt) if ref else fmt)
            elif name == "context" and el is root:  # the current context from here on
                fmt = _context_format(child, contexts, source) or contexts.get(ref, fmt)
            elif name not in ("definitions", "annotation", "annotationXML"):
                walk(child, fmt)

    walk(root, first)
    meta = _annotations(root) | {"format": "inkml", "source": str(source)}
    physical = [row.pop("mm") for row in rows]
    if physical and all(physical):
        meta["units"] = "mm"  # X and Y were in physical units: exports keep the size
    return Ink(_strokes(rows, source), meta)


def _read_trace(el: ET.Element, fmt: _Format | None, rows: list, time_known: list, source) -> None:
    values = _decode_trace(el.text or "", source, len(fmt.channels) if fmt else None)
    if values is None:
        return
    if fmt is None:  # no traceFormat: X Y or X Y T, decided by the first trace
        if values.shape[1] not in (2, 3):
            raise InkFormatError(source, f"without a <traceFormat> a point needs 2 or 3 "
                                         f"values (X Y [T]), got {values.shape[1]}")
        if time_known[0] is None:
            time_known[0] = values.shape[1] == 3
        if values.shape[1] != (3 if time_known[0] else 2):
            raise InkFormatError(source, "traces mix points with and without times")
        fmt = _Format(["X", "Y", "T"][: values.shape[1]], {})
    cols = {name: i for i, name in enumerate(fmt.channels)}
    rows.append({k: values[:, i] * fmt.scale.get(k, 1.0) + fmt.offset.get(k, 0.0)
                 for k, i in cols.items() if k in ("X", "Y", "T", "F")} | {"mm": fmt.mm})


# Channels, units and contexts

_LENGTH_MM = {"himetric": 0.01, "mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4,
              "pt": 25.4 / 72, "pc": 25.4 / 6, "um": 1e-3, "µm": 1e-3}
_TIME_S = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0}
_DEVICE = ("", "dev", "device")
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


@dataclass(frozen=True)
class _Format:
    """A trace format: channel names in order, and per channel the factor (and offset) that
    takes a value to millimetres (X, Y), seconds (T) or 0-1 (F)."""

    channels: list[str]
    scale: dict[str, float]
    offset: dict[str, float] = field(default_factory=dict)
    mm: bool = False  # X and Y are in millimetres (they had physical units)


def _ref(value: str | None) -> str:
    return (value or "").strip().lstrip("#")


def _contexts(root: ET.Element, source) -> tuple[dict[str, _Format], _Format | None]:
    """Every identified context (and trace format, ink source) as a `_Format`, by id; and the
    format of the document's first `<traceFormat>` (traces use it unless told otherwise)."""
    by_id = {el.get(_XML_ID): el for el in root.iter() if el.get(_XML_ID)}
    out: dict[str, _Format] = {}
    for key, el in by_id.items():
        if local_name(el.tag) in ("context", "inkSource", "traceFormat"):
            fmt = _context_format(el, out, source, by_id)
            if fmt is not None:
                out[key] = fmt
    first = next((el for el in root.iter() if local_name(el.tag) == "traceFormat"), None)
    if first is None:
        return out, None
    holder = next((el for el in root.iter() if local_name(el.tag) in ("inkSource", "context")
                   and any(c is first for c in el.iter())), None)
    return out, _format(first, _properties(holder), source)


def _context_format(el: ET.Element, known: dict[str, _Format], source,
                    by_id: dict | None = None) -> _Format | None:
    """The format a `<context>`, `<inkSource>` or `<traceFormat>` element defines or names."""
    if local_name(el.tag) == "traceFormat":
        return _format(el, {}, source)
    fmt_el = next((c for c in el.iter() if local_name(c.tag) == "traceFormat"), None)
    if fmt_el is not None:
        return _format(fmt_el, _properties(el), source)
    for attr in ("traceFormatRef", "inkSourceRef", "contextRef"):
        key = _ref(el.get(attr))
        if key in known:
            return known[key]
        if by_id and key in by_id and by_id[key] is not el:
            return _context_format(by_id[key], known, source, by_id)
    return None


def _properties(holder: ET.Element | None) -> dict[str, tuple[float, str]]:
    """Channel resolutions of an ink source or context: {channel: (value, units)}."""
    out: dict[str, tuple[float, str]] = {}
    for el in holder.iter() if holder is not None else ():
        if local_name(el.tag) == "channelProperty" and el.get("name") == "resolution":
            try:
                out[el.get("channel", "")] = (float(el.get("value", "")), el.get("units", ""))
            except ValueError:
                continue
    return out


def _format(fmt: ET.Element, resolution: dict[str, tuple[float, str]], source) -> _Format:
    """Channel names of `fmt` (direct children: `<intermittentChannels>` values may be
    absent) with the factors that take X, Y to millimetres, T to seconds and F to 0-1."""
    channels, attrs = [], {}
    for ch in fmt:
        if local_name(ch.tag) == "channel":
            name = (ch.get("name") or "").strip()
            channels.append(name)
            attrs[name] = ch
    if "X" not in channels or "Y" not in channels:
        raise InkFormatError(source, f"<traceFormat> lacks an X or Y channel (has {channels})")
    scale: dict[str, float] = {}
    offset: dict[str, float] = {}
    xy = [_unit_factor(attrs[c], resolution.get(c), _LENGTH_MM, source) for c in ("X", "Y")]
    mm = all(f is not None for f in xy)
    if mm:
        scale["X"], scale["Y"] = xy
    elif all(resolution.get(c, (0, ""))[0] > 0 for c in ("X", "Y")):  # device units: aspect
        scale["X"], scale["Y"] = (1.0 / resolution[c][0] for c in ("X", "Y"))
    if "T" in attrs:
        t = _unit_factor(attrs["T"], resolution.get("T"), _TIME_S, source, device=1e-3)
        if t is None:
            channels = [c if c != "T" else "T?" for c in channels]  # unusable: synthetic times
        else:
            scale["T"] = t
    if "F" in attrs:
        lo, hi = (_number(attrs["F"].get(k)) for k in ("min", "max"))
        if hi is not None and hi > (lo or 0.0):
            scale["F"], offset["F"] = 1.0 / (hi - (lo or 0.0)), -(lo or 0.0) / (hi - (lo or 0.0))
    return _Format(channels, scale, offset, mm)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _unit_factor(channel: ET.Element, resolution: tuple[float, str] | None, table: dict,
                 source, device: float | None = None) -> float | None:
    """Factor from a channel's values to the unit of `table`; None when unknown (device
    units without a resolution in a known unit, where `device` is not given). A resolution
    `value` in `1/U` means values count U / value."""
    name = channel.get("name")
    if resolution is not None and resolution[0] > 0:
        per = resolution[1].strip()
        unit = per[2:].strip() if per.startswith("1/") else per
        if unit in table:
            return table[unit] / resolution[0]
        if unit not in _DEVICE:
            _warn(source, f"channel {name} resolution in unknown units {per!r}: ignored")
    units = (channel.get("units") or "").strip()
    if units in table:
        return table[units]
    if units in _DEVICE:
        return device if units else (1.0 if device is not None else None)
    _warn(source, f"channel {name} in unknown units {units!r}: "
                  + ("read as plain numbers" if device is None else "times left out"))
    return None


def _warn(source, problem: str) -> None:
    warnings.warn(f"{source}: {problem}", InkFormatWarning, stacklevel=4)


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


def _strokes(rows: list[dict], source) -> tuple[Stroke, ...]:
    has_t = bool(rows) and all("T" in row for row in rows)
    t0 = float(rows[0]["T"][0]) if has_t else 0.0
    strokes, t_next = [], 0.0
    for row in rows:
        n = len(row["X"])
        if has_t:
            t = row["T"] - t0
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
