"""The `handwriting-app` entry point: `handwriting-app [--open FILE] [--screenshot PNG]`.

Qt's own options (`-platform offscreen`, `-style fusion`, ...) pass through to QApplication.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import APP_NAME, MainWindow

SCREENSHOT_DELAY_MS = 300  # let the first layout and paint settle before grabbing


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handwriting-app",
        description="Write with a mouse or pen; open and export ink files.")
    parser.add_argument("--open", metavar="FILE", help="an ink file to open at start "
                        "(IAM-OnDB .xml, .inkml, .json, .svg)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="save a picture of the window once it is shown, then quit")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, qt_args = build_parser().parse_known_args(argv)

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    window = MainWindow()
    if args.open:
        window.open_file(args.open)
    window.show()

    status = 0
    if args.screenshot:
        def grab_and_quit() -> None:
            nonlocal status
            out = Path(args.screenshot)
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out), "PNG"):
                print(f"handwriting-app: could not write screenshot {out}", file=sys.stderr)
                status = 1
            window.close()
            app.quit()

        QTimer.singleShot(SCREENSHOT_DELAY_MS, grab_and_quit)

    code = app.exec()
    window.deleteLater()
    return status or code


if __name__ == "__main__":
    raise SystemExit(main())
