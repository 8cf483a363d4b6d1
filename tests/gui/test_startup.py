"""Start-up checks before Qt loads: missing xcb libraries are named with the apt command
(instead of Qt's core dump), and the app exits with status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.startup import qt_platform, startup_problem

ROOT = Path(__file__).resolve().parents[2]


def none_found(name: str) -> None:
    return None


def test_missing_xcb_libraries_are_named_with_the_apt_command():
    msg = startup_problem([], {}, "linux", none_found)
    assert msg.count("\n") == 0
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"):
        assert package in msg
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in msg
    only_cursor = startup_problem([], {}, "linux", lambda n: None if n == "xcb-cursor" else n)
    assert "libxcb-cursor0" in only_cursor and "icccm" not in only_cursor


def test_no_check_off_xcb():
    assert startup_problem([], {"QT_QPA_PLATFORM": "offscreen"}, "linux", none_found) is None
    assert startup_problem(["-platform", "wayland"], {}, "linux", none_found) is None
    assert startup_problem([], {}, "darwin", none_found) is None
    assert startup_problem([], {}, "linux", lambda n: f"lib{n}.so") is None
    assert qt_platform([], {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}) == "wayland"
    assert qt_platform(["-platform", "offscreen"], {"QT_QPA_PLATFORM": "xcb"}) == "offscreen"


def test_the_app_exits_2_with_one_line_before_qt_starts(tmp_path):
    # ctypes finds nothing: the check must stop the app before QApplication (no core dump)
    code = ("import ctypes.util, sys; ctypes.util.find_library = lambda name: None; "
            "from gui.app import main; sys.exit(main([]))")
    env = {**os.environ, "HANDWRITING_APP_DATA": str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("XDG_SESSION_TYPE", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "apt install" in done.stderr
