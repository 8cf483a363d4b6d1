"""Checks that run before Qt starts: on Linux, Qt's xcb platform plugin needs system
libraries that a stock desktop may lack, and without them QApplication aborts with a core
dump. This module (no Qt import) names the missing ones and the command that installs them."""

from __future__ import annotations

import ctypes.util
import sys
from collections.abc import Callable, Mapping, Sequence

# library name for find_library -> the Debian/Ubuntu package that ships it
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-keysyms": "libxcb-keysyms1"}


def qt_platform(qt_args: Sequence[str], env: Mapping[str, str]) -> str:
    """The platform plugin Qt will load: `-platform NAME`, else $QT_QPA_PLATFORM, else
    wayland in a Wayland session and xcb otherwise (Qt 6's own order on Linux)."""
    args = list(qt_args)
    for i, arg in enumerate(args):
        if arg in ("-platform", "--platform") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(("-platform=", "--platform=")):
            return arg.split("=", 1)[1]
    if env.get("QT_QPA_PLATFORM"):
        return env["QT_QPA_PLATFORM"]
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def missing_xcb_packages(find: Callable[[str], str | None] = ctypes.util.find_library
                         ) -> list[str]:
    """Packages of the xcb libraries that `find` (ctypes' library search) does not find."""
    return [package for lib, package in XCB_LIBRARIES.items() if not find(lib)]


def startup_problem(qt_args: Sequence[str], env: Mapping[str, str],
                    platform: str = sys.platform,
                    find: Callable[[str], str | None] = ctypes.util.find_library) -> str | None:
    """One line naming the missing system libraries and how to install them, or None when
    Qt can start (or the platform is not Linux's xcb)."""
    if not platform.startswith("linux"):
        return None
    name = qt_platform(qt_args, env)
    if not name.split(";")[0].split(":")[0].startswith("xcb"):
        return None
    missing = missing_xcb_packages(find)
    if not missing:
        return None
    return (f"handwriting-app: Qt's xcb platform needs {', '.join(missing)}, not installed: "
            f"sudo apt install {' '.join(missing)}")
