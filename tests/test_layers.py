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


# Packages whose __init__ is the public face of their private modules: importing a name
# from there is the one path (handwriting.service._recognizer is never imported directly).
PUBLIC_FACES = {"handwriting", "handwriting.service", "handwriting.formats"}


def test_every_name_is_imported_from_where_it_is_defined():
    """STYLE.md: a name has one import path, no re-exports "for older callers"."""
    import ast

    trees, defined = {}, {}
    for p in sorted((ROOT / "handwriting").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py")):
        mod = ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        trees[mod] = tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in tree.body:
            names = ([node.name] if isinstance(node, ast.FunctionDef | ast.ClassDef)
                     else [t.id for t in getattr(node, "targets", [getattr(node, "target", None)])
                           if isinstance(t, ast.Name)])
            for name in names:
                defined.setdefault(name, set()).add(mod)
    elsewhere = []
    for p in sorted(ROOT.glob("*/**/*.py")):
        if p.parts[len(ROOT.parts)] not in ("handwriting", "gui", "tests"):
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.split(".")[0] in ("handwriting", "gui")):
                continue
            for alias in node.names:
                homes = defined.get(alias.name, set())
                if (homes and node.module not in homes and node.module not in PUBLIC_FACES
                        and f"{node.module}.{alias.name}" not in trees):
                    elsewhere.append(f"{p.relative_to(ROOT)}: {alias.name} from {node.module} "
                                     f"(defined in {', '.join(sorted(homes))})")
    assert not elsewhere, "\n".join(elsewhere)
