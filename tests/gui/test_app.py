"""The `handwriting-app` entry point starts, shows the window, stays up, and never loads
torch at import time (recognition arrives later through the service API)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gui.app import main
from handwriting.formats import write_ink
from handwriting.ink import Ink

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def offscreen_env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def test_main_opens_a_file_and_saves_a_screenshot(tmp_path):
    ink_path = tmp_path / "line.json"
    write_ink(Ink.from_strokes([[(0, 0), (40, 30), (80, 0)], [(100, 0), (100, 30)]]), ink_path)
    shot = tmp_path / "shots" / "window.png"
    assert main(["--open", str(ink_path), "--screenshot", str(shot)]) == 0
    with Image.open(shot) as image:
        assert image.size[0] >= 600 and image.size[1] >= 400
        assert len(np.unique(np.asarray(image.convert("L")))) > 2  # not a blank grab


def test_python_dash_m_gui_starts_and_stays_up(tmp_path):
    shot = tmp_path / "x.png"
    done = subprocess.run([sys.executable, "-m", "gui", "--screenshot", str(shot)], cwd=ROOT,
                          env=offscreen_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 1000

    app = subprocess.Popen([sys.executable, "-m", "gui"], cwd=ROOT, env=offscreen_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)
        assert app.poll() is None, app.communicate()[1]
    finally:
        app.terminate()
        app.wait(timeout=10)


def test_gui_does_not_import_torch():
    code = ("import gui.app, gui.main_window, gui.canvas, sys; "
            "assert 'torch' not in sys.modules, 'gui imports torch at import time'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=offscreen_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
