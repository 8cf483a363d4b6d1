"""`import handwriting`, the public face for scripts and notebooks: light to import (no torch,
no Qt: the app's process imports `handwriting.*` modules), its names resolve to the modules
that define them, and the shipped weights are found in a checkout and in an installed wheel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import handwriting
from handwriting import results

ROOT = Path(__file__).resolve().parents[2]


def test_import_handwriting_loads_neither_torch_nor_qt():
    code = ("import json, sys, handwriting; dir(handwriting); "
            "print(json.dumps(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('torch', 'PySide6', 'shiboken6'))))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []


def test_the_public_names_resolve_to_their_own_modules():
    from handwriting.formats.registry import read_ink, write_ink
    from handwriting.ink import Ink
    from handwriting.pages import read_page
    from handwriting.service import Recognizer, Synthesizer

    assert handwriting.read_ink is read_ink and handwriting.write_ink is write_ink
    assert handwriting.Ink is Ink and handwriting.read_page is read_page
    assert handwriting.Recognizer is Recognizer and handwriting.Synthesizer is Synthesizer
    for name in handwriting.__all__:
        assert getattr(handwriting, name) is not None
    assert set(handwriting.__all__) <= set(dir(handwriting))


def test_an_unknown_name_is_an_attribute_error_and_submodules_still_import():
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = handwriting.no_such_name
    from handwriting import pages  # a submodule, not a public name

    assert pages.read_page is handwriting.read_page


def test_models_dir_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HANDWRITING_MODELS", str(tmp_path))
    assert results.models_dir() == tmp_path


def test_models_dir_finds_the_weights_an_installed_package_carries(monkeypatch, tmp_path):
    # An installed wheel: the package folder holds `_models` (setup.py maps models/ there).
    (tmp_path / "_models").mkdir()
    monkeypatch.delenv("HANDWRITING_MODELS", raising=False)
    monkeypatch.setattr(results.resources, "files", lambda package: tmp_path)
    assert results.models_dir() == tmp_path / "_models"


def test_models_dir_falls_back_to_the_checkouts_models_folder(monkeypatch):
    monkeypatch.delenv("HANDWRITING_MODELS", raising=False)
    assert results.models_dir() == ROOT / "models"
    assert (results.models_dir() / "recognizer.pt").is_file()
