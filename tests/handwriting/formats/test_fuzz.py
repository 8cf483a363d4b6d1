"""Mutation fuzzing of every reader (IAM XML, InkML, JSON, SVG).

Each example takes a valid seed file from `fuzz_corpus/`, applies a few byte-level and
number-level mutations, and feeds the result to the reader and on to the recognizer's
feature extraction. The only acceptable outcomes are valid ink (finite, non-empty strokes)
or `InkFormatError` / `InkError`: any other exception, a hang or a blow-up is a bug. Inputs
that once failed are kept in the corpus and replayed on every run.

The default suite runs a short pass; the long run is
`HANDWRITING_FUZZ_EXAMPLES=20000 pytest -m slow tests/handwriting/formats/test_fuzz.py`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handwriting.features import preprocess
from handwriting.formats.errors import InkFormatError
from handwriting.formats.iam_ondb import parse_iam_xml
from handwriting.formats.inkml import parse_inkml
from handwriting.formats.jsonink import parse_json_ink
from handwriting.formats.svg import parse_svg_ink
from handwriting.ink import Ink, InkError

CORPUS = Path(__file__).with_name("fuzz_corpus")
PARSERS = {".xml": parse_iam_xml, ".inkml": parse_inkml, ".json": parse_json_ink,
           ".svg": parse_svg_ink}
NUMBERS = [b"0", b"-0", b"1e308", b"-1e308", b"1e-320", b"nan", b"NaN", b"inf", b"-Infinity",
           b"99999999999999999999999", b"3.4e38", b"1e39", b"-", b".", b"1e", b"0x10", b""]


def _check(ext: str, data: bytes) -> None:
    try:
        ink = PARSERS[ext](data, f"fuzz{ext}")
    except InkFormatError:
        return
    assert isinstance(ink, Ink)
    for s in ink.strokes:
        assert len(s.xy) >= 1 and np.all(np.isfinite(s.xy)) and np.all(np.isfinite(s.t))
    if ink.is_empty:
        return
    try:
        preprocess(ink)
    except InkError:
        pass  # too long, degenerate: refused with a message, which is the contract


@st.composite
def mutated(draw, ext: str) -> bytes:
    seeds = sorted(CORPUS.glob(f"*{ext}"))
    data = bytearray(draw(st.sampled_from(seeds)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["number", "number", "flip", "insert", "delete", "dup"]))
        n = len(data)
        if op == "number":
            spans = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?(e-?\d+)?", data)]
            if spans:
                a, b = draw(st.sampled_from(spans))
                data[a:b] = draw(st.sampled_from(NUMBERS) | st.binary(max_size=6))
        elif op == "flip" and n:
            i = draw(st.integers(0, n - 1))
            data[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
                [b"<", b">", b"\"", b"{", b"}", b"[", b"]", b",", b"&amp;", b"<!--", b"\x00"]))
        elif op == "delete" and n:
            i = draw(st.integers(0, n - 1))
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "dup" and n:
            i = draw(st.integers(0, n - 1))
            j = min(n, i + draw(st.integers(1, 256)))
            data[j:j] = data[i:j] * draw(st.integers(1, 3))
    return bytes(data)


def _examples() -> int:
    return int(os.environ.get("HANDWRITING_FUZZ_EXAMPLES", "60"))


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus_replays(path):
    _check(path.suffix if path.suffix in PARSERS else "." + path.name.split(".")[-2], path.read_bytes())


def _fuzz(ext: str) -> None:
    @settings(max_examples=_examples(), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutated(ext))
    def run(data):
        _check(ext, data)

    run()


@pytest.mark.parametrize("ext", sorted(PARSERS))
def test_readers_survive_mutations(ext):
    _fuzz(ext)
