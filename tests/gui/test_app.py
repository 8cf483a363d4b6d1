"""The `handwriting-app` entry point: opens and recognizes a file, writes typed text, saves
a screenshot once that work is done, reports what it did as JSON, honours a dark palette,
and never loads torch at import time (the models load in the worker threads)."""

from __future__ import annotations

import json
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
from handwriting.grouping import group_lines
from handwriting.ink import Ink
from tests.fixtures import hershey_ink

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


def offscreen_env(tmp_path: Path) -> dict[str, str]:
    """Offscreen Qt, with settings and autosaves in `tmp_path` (never the user's)."""
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen",
            "HANDWRITING_APP_DATA": str(tmp_path / "app-data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_main_opens_a_file_and_saves_a_screenshot(tmp_path):
    ink_path = tmp_path / "line.json"
    write_ink(Ink.from_strokes([[(0, 0), (40, 30), (80, 0)], [(100, 0), (100, 30)]]), ink_path)
    shot = tmp_path / "shots" / "window.png"
    assert main(["--open", str(ink_path), "--screenshot", str(shot)]) == 0
    with Image.open(shot) as image:
        assert image.size[0] >= 600 and image.size[1] >= 400
        assert len(np.unique(np.asarray(image.convert("L")))) > 2  # not a blank grab


def test_insight_and_size_options(tmp_path):
    ink_path = tmp_path / "hello.json"
    write_ink(hershey_ink("hello", scale=3.0), ink_path)
    shot = tmp_path / "insight.png"
    assert main(["--open", str(ink_path), "--insight", "synthesis", "--size", "900x640",
                 "--screenshot", str(shot)]) == 0
    with Image.open(shot) as image:
        assert image.size[0] == 900 and image.size[1] >= 640
    with pytest.raises(SystemExit):
        main(["--size", "900by640"])


def test_open_recognizes_and_reports_like_the_service(tmp_path, recognizer):
    ink = hershey_ink("hello world", scale=3.0)
    write_ink(ink, tmp_path / "hello.json")
    report = tmp_path / "report.json"
    assert main(["--open", str(tmp_path / "hello.json"), "--report-json", str(report),
                 "--screenshot", str(tmp_path / "s.png")]) == 0
    got = json.loads(report.read_text())
    assert got == {"recognized": recognizer.recognize(ink).text, "strokes": len(ink),
                   "points": ink.num_points, "synthesized_text": None,
                   "synthesized_points": 0}


def test_text_is_written_and_reported(tmp_path):
    report = tmp_path / "report.json"
    assert main(["--text", "ab cd", "--seed", "1", "--report-json", str(report),
                 "--screenshot", str(tmp_path / "s.png")]) == 0
    got = json.loads(report.read_text())
    assert got["synthesized_text"] == "ab cd" and got["synthesized_points"] > 0
    assert got["points"] == got["synthesized_points"] and got["strokes"] > 0
    assert isinstance(got["recognized"], str)


def test_dark_palette_screenshot(tmp_path):
    ink_path = tmp_path / "hello.json"
    write_ink(hershey_ink("hello world", scale=3.0), ink_path)
    shot = tmp_path / "dark.png"
    done = subprocess.run([sys.executable, "-m", "gui", "--palette", "dark", "--open",
                           str(ink_path), "--screenshot", str(shot)], cwd=ROOT,
                          env=offscreen_env(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    grey = np.asarray(Image.open(shot).convert("L")).astype(int)
    h = grey.shape[0]
    canvas = grey[h // 4: h // 2]  # a band through the canvas
    assert np.median(canvas) < 60  # a dark background ...
    assert (canvas > 180).sum() > 200  # ... with light ink on it


def test_python_dash_m_gui_starts_and_stays_up(tmp_path):
    shot = tmp_path / "x.png"
    env = offscreen_env(tmp_path)
    done = subprocess.run([sys.executable, "-m", "gui", "--screenshot", str(shot)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 1000

    app = subprocess.Popen([sys.executable, "-m", "gui"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)
        assert app.poll() is None, app.communicate()[1]
    finally:
        app.terminate()
        app.wait(timeout=10)


def test_gui_does_not_import_torch(tmp_path):
    code = ("import gui.app, gui.main_window, gui.canvas, gui.workers, gui.writing, sys; "
            "assert 'torch' not in sys.modules, 'gui imports torch at import time'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=offscreen_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.dataset
def test_an_iam_ondb_line_reads_as_the_cli_reads_it(real_iam_ondb, tmp_path):
    # The first test line that `group_lines` keeps whole (about 1 % of IAM-OnDB lines,
    # quotes far above the rest of a short line, come apart into two).
    line = next(ln for ln in real_iam_ondb.split("testset_t")
                if len(group_lines(ln.ink)) == 1)
    path = tmp_path / f"{line.id}.json"
    write_ink(line.ink, path)
    env = offscreen_env(tmp_path)
    cli = subprocess.run([sys.executable, "-m", "handwriting", "recognize", str(path), "--json"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    report = tmp_path / "report.json"
    app = subprocess.run([sys.executable, "-m", "gui", "--open", str(path), "--report-json",
                          str(report), "--screenshot", str(tmp_path / "s.png")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert app.returncode == 0, app.stderr
    got = json.loads(report.read_text())
    assert got["recognized"] == json.loads(cli.stdout)[0]["text"]
    assert got["strokes"] == len(line.ink) and got["points"] == line.ink.num_points


def test_the_app_and_the_cli_read_a_two_line_page_alike(tmp_path, capsys):
    from handwriting import cli
    from tests.handwriting.test_pages import two_line_page

    path = tmp_path / "page.json"
    write_ink(two_line_page(), path)
    assert cli.main(["recognize", str(path), "--json"]) == 0
    (read,) = json.loads(capsys.readouterr().out)
    report = tmp_path / "report.json"
    assert main(["--open", str(path), "--report-json", str(report),
                 "--screenshot", str(tmp_path / "s.png")]) == 0
    got = json.loads(report.read_text())
    assert len(read["lines"]) == 2 and got["recognized"].count("\n") == 1
    assert got["recognized"] == read["text"]
