"""The layering written down in pyproject.toml ([tool.importlinter]) holds: the core never
imports Qt or the app, and the app's process never imports torch (lint-imports follows every
import, function-level ones included; the exceptions are listed with their reasons)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "BROKEN" not in run.stdout


MAX_MODULE_LINES = 400  # STYLE.md: split a module before it passes ~400 lines


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / "handwriting").rglob("*.py"))
            + sorted((ROOT / "gui").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, long
