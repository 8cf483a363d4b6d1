"""The core library must import without Qt (STYLE.md principle 1): checked in a fresh
interpreter, since this test session may already have loaded PySide6 for the GUI tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Every core module; add new ones here as they appear.
CORE_MODULES = (
    "handwriting",
    "handwriting.ink",
    "handwriting.geometry",
    "handwriting.alphabet",
    "handwriting.formats",
    "handwriting.data.iam_ondb",
    "handwriting.remote",
    "handwriting.results",
    "handwriting.traces",
    "handwriting.counting",
)


def test_core_imports_without_pyside6():
    code = (
        f"import {', '.join(CORE_MODULES)}; import sys; "
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))); "
        "assert not qt, f'Qt loaded by the core: {qt}'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr
