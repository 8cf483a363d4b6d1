"""End to end under a real X server: xdotool moves the real pointer through a line of
Hershey script on the canvas of `handwriting-app`, the app recognizes it live, and on quit its
report holds the same text the service gives for the ink the app recorded (its autosave).
Skipped without Xvfb and xdotool (`.ci/run` installs them); ~25 s, so in the default suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handwriting.formats import read_ink
from handwriting.geometry import line_ink
from handwriting.grouping import group_lines
from tests.fixtures import hershey_ink
from tests.gui.helpers import line_strokes

pytestmark = [pytest.mark.gui,
              pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                 reason="needs Xvfb and xdotool")]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def display():
    """A private Xvfb server; yields its DISPLAY name."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x900x24",
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def xdotool(env, *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_real_pointer_writes_a_line_that_is_recognized(display, tmp_path, recognizer):
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "HANDWRITING_APP_DATA": str(tmp_path / "app-data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    report = tmp_path / "report.json"
    app = subprocess.Popen([sys.executable, "-m", "gui", "--report-json", str(report)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        window = xdotool(env, "search", "--sync", "--onlyvisible", "--name",
                         "Handwriting").split()[0]
        geometry = dict(line.split("=") for line in
                        xdotool(env, "getwindowgeometry", "--shell", window).split())
        x0, y0 = int(geometry["X"]), int(geometry["Y"])
        height = int(geometry["HEIGHT"])
        time.sleep(1.0)  # let the first layout settle
        # The canvas fills the middle of the window, between the typed-text panel above and
        # the recognized text below.
        for xy in line_strokes(hershey_ink("hello world"), x0 + 80, y0 + 0.42 * height, 60):
            moves = [a for x, y in xy.astype(int).tolist()
                     for a in ("mousemove", str(x), str(y), "sleep", "0.004")]
            xdotool(env, *moves[:5], "mousedown", "1", *moves[5:], "mouseup", "1")
        time.sleep(2.0)
        xdotool(env, "windowfocus", "--sync", window)
        xdotool(env, "key", "ctrl+q")
        app.wait(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
        _, err = app.communicate()
    assert app.returncode == 0, err

    got = json.loads(report.read_text())
    ink = read_ink(tmp_path / "app-data" / "last-session.json")  # kept at the clean quit
    assert got["strokes"] == len(ink) >= 10 and got["points"] == ink.num_points
    expected = "\n".join(recognizer.recognize(line_ink(ink, g)).text
                         for g in group_lines(ink))
    assert got["recognized"] and got["recognized"] == expected
