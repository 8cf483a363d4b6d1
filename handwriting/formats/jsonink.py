"""JSON ink: this project's own lossless, human-readable ink file (`.json`).

The format, version 1::

    {
      "format": "handwriting-ink",      # required, exactly this string
      "version": 1,                     # required integer; readers refuse newer versions
      "strokes": [                      # required, in writing order; may be empty
        {"x": [...], "y": [...],        # required: equally long lists of finite numbers,
         "t": [...],                    #   at least one point; t in seconds
         "p": [...]}                    # optional pressure, same length (absent: no pressure)
      ],
      "meta": {...}                     # optional object: free-form metadata (e.g. "text")
    }

Numbers are written as the shortest decimals that read back as the same float32 values, so a
round trip is exact. NaN and Infinity (which Python's `json` would accept) are refused, as are
unknown stroke keys. `meta["format"]` and `meta["source"]` describe the file an ink was read
from: the reader sets them and the writer leaves them out.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from handwriting.formats.errors import InkFormatError
from handwriting.formats.fileio import (
    MAX_STROKES,
    atomic_write,
    check_counts,
    check_finite_f32,
    f32_strings,
    read_bytes,
)
from handwriting.ink import Ink, InkError, Stroke

FORMAT_NAME = "handwriting-ink"
FORMAT_VERSION = 1
_STROKE_KEYS = {"x", "y", "t", "p"}
_READER_META = ("format", "source")


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NonFinite(f"non-finite number {name} is not allowed")


# Reading

def read_json_ink(path: str | Path) -> Ink:
    path = Path(path)
    return parse_json_ink(read_bytes(path), path)


def parse_json_ink(data: bytes, source="<bytes>") -> Ink:
    """Ink from the bytes of a JSON ink file; every problem is an `InkFormatError`."""
    if not data.strip():
        raise InkFormatError(source, "file is empty")
    # Every stroke spells the key "x": counting them first refuses millions of tiny strokes
    # in milliseconds instead of after building millions of Python objects.
    if data.count(b'"x"') > MAX_STROKES:
        raise InkFormatError(source, f"more than {MAX_STROKES} strokes")
    try:
        doc = json.loads(data, parse_constant=_refuse_constant)
    except _NonFinite as exc:
        raise InkFormatError(source, str(exc)) from None
    except UnicodeDecodeError:
        raise InkFormatError(source, "file is not UTF-8 text (binary?)") from None
    except json.JSONDecodeError as exc:
        raise InkFormatError(source, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise InkFormatError(source, "JSON nested too deeply") from None
    return ink_from_json_dict(doc, source)


def ink_from_json_dict(doc, source="<dict>") -> Ink:
    """Ink from an already decoded JSON ink document (validated as strictly as a file)."""
    if not isinstance(doc, dict):
        raise InkFormatError(source, f"top level must be an object, got {_kind(doc)}")
    if doc.get("format") != FORMAT_NAME:
        raise InkFormatError(source, f'"format" must be {FORMAT_NAME!r}, got {doc.get("format")!r}')
    version = doc.get("version")
    if type(version) is not int:
        raise InkFormatError(source, f'"version" must be an integer, got {_kind(version)}')
    if not 1 <= version <= FORMAT_VERSION:
        raise InkFormatError(source, f"unsupported version {version} (this reader knows "
                                     f"1 to {FORMAT_VERSION})")
    strokes = doc.get("strokes")
    if not isinstance(strokes, list):
        raise InkFormatError(source, f'"strokes" must be a list, got {_kind(strokes)}')
    meta = doc.get("meta", {})
    if not isinstance(meta, dict):
        raise InkFormatError(source, f'"meta" must be an object, got {_kind(meta)}')
    check_counts(len(strokes), sum(len(s["x"]) for s in strokes
                                   if isinstance(s, dict) and isinstance(s.get("x"), list)),
                 source)
    out = [_stroke(s, i, source) for i, s in enumerate(strokes)]
    return Ink(tuple(out), {**meta, "format": FORMAT_NAME, "source": str(source)})


def _stroke(obj, i: int, source) -> Stroke:
    where = f"stroke {i}"
    if not isinstance(obj, dict):
        raise InkFormatError(source, f"{where} must be an object, got {_kind(obj)}")
    missing = sorted({"x", "y", "t"} - obj.keys())
    if missing:
        raise InkFormatError(source, f"{where} lacks {', '.join(map(repr, missing))}")
    unknown = sorted(obj.keys() - _STROKE_KEYS)
    if unknown:
        raise InkFormatError(source, f"{where} has unknown keys {', '.join(map(repr, unknown))}")
    cols = {k: _numbers(obj[k], f"{where} {k!r}", source) for k in ("x", "y", "t")}
    p = None if obj.get("p") is None else _numbers(obj["p"], f"{where} 'p'", source)
    try:
        return Stroke(np.stack([cols["x"], cols["y"]], axis=1), cols["t"], p)
    except (InkError, ValueError) as exc:  # ValueError: np.stack of unequal lengths
        raise InkFormatError(source, f"{where}: {exc}") from None


def _numbers(values, where: str, source) -> np.ndarray:
    if not isinstance(values, list):
        raise InkFormatError(source, f"{where} must be a list of numbers, got {_kind(values)}")
    for v in values:
        if type(v) not in (int, float):  # bool is an int subclass: refuse it too
            raise InkFormatError(source, f"{where} must hold only numbers, found {_kind(v)}")
    try:
        arr = np.array(values, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        raise InkFormatError(source, f"{where} holds an out-of-range number") from None
    return check_finite_f32(arr, source, where)  # 1e999 parses as inf


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null", int: "an integer", float: "a number"}.get(type(value),
                                                                     type(value).__name__)


# Writing

def ink_to_json_dict(ink: Ink) -> dict:
    """The JSON ink document for `ink` as plain Python data."""
    strokes = []
    for s in ink.strokes:
        d = {"x": _floats(s.xy[:, 0]), "y": _floats(s.xy[:, 1]), "t": _floats(s.t)}
        if s.pressure is not None:
            d["p"] = _floats(s.pressure)
        strokes.append(d)
    meta = {k: v for k, v in ink.meta.items() if k not in _READER_META}
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "strokes": strokes, "meta": meta}


def ink_to_json_string(ink: Ink, indent: int | None = None) -> str:
    """JSON ink text; raises `ValueError` naming a `meta` value JSON cannot hold."""
    try:
        return json.dumps(ink_to_json_dict(ink), indent=indent, allow_nan=False,
                          ensure_ascii=False, default=_plain)
    except ValueError as exc:
        raise ValueError(f"cannot write ink as JSON: {exc} (in meta?)") from None


def write_json_ink(ink: Ink, path: str | Path, indent: int | None = None) -> None:
    """Write `ink` as JSON ink, atomically."""
    atomic_write(path, ink_to_json_string(ink, indent).encode("utf-8"))


def _floats(arr: np.ndarray) -> list[float]:
    return [float(s) for s in f32_strings(arr)]


def _plain(value):
    """JSON-able stand-ins for the numpy and path values metadata tends to hold."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"meta value of type {type(value).__name__} is not JSON serializable")
