"""gui.bench's first-versus-steady recognition figures (pure arithmetic, no window)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from gui.bench import first_and_steady_s  # noqa: E402


def test_first_and_steady_from_first_strokes():
    out = first_and_steady_s([250.0, 40.0, None, 60.0])
    assert out == {"first_recognition_s": 0.25, "steady_recognition_s": 0.05}
    assert first_and_steady_s([None]) == {"first_recognition_s": None,
                                          "steady_recognition_s": None}
