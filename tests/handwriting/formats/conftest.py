"""Fixtures for the ink file format tests: small inks with and without pressure."""

from __future__ import annotations

import pytest

from handwriting.ink import Ink, Stroke


@pytest.fixture
def plain_ink(text_ink) -> Ink:
    """`text_ink` without pressure."""
    return text_ink.with_strokes(Stroke(s.xy, s.t) for s in text_ink.strokes)


@pytest.fixture
def small_ink() -> Ink:
    """Two strokes and a dot, y down, with a transcription."""
    return Ink.from_strokes([[(0, 0), (10, 20), (30, 10)], [(40, 0), (40, 30)], [(55, 25)]],
                            text="hi!")
