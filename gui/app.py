"""The `handwriting-app` entry point:
`handwriting-app [--open FILE] [--text TEXT] [--style NAME | --writer NAME] [--[no-]match-hand]
[--insight] [--screenshot PNG] [--report-json PATH]`.

Qt's own options (`-platform offscreen`, `-style fusion`, ...) pass through to QApplication.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from gui.settings import APP_NAME, ORGANIZATION
from gui.startup import startup_problem

SETTLE_MS = 300  # let the last layout and paint settle before grabbing
POLL_MS = 50
WORK_TIMEOUT_S = 120.0  # models, recognition and typed text must be done by then


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handwriting-app",
        description="Write with a mouse or pen and read it back as text; type text and "
                    "watch it written; open and export ink files.")
    parser.add_argument("--open", metavar="FILE", help="an ink file to open and recognize "
                        "(IAM-OnDB .xml, .inkml, .json, .svg)")
    parser.add_argument("--text", metavar="TEXT", help="text to write below the ink")
    parser.add_argument("--seed", type=int, default=None, help="random seed for --text")
    parser.add_argument("--style", metavar="NAME",
                        help="a style preset (tidy, round, slanted, ...) to choose in the Style "
                             "control: --text is written in it; 'none': the model's own hand "
                             "(default: the last one chosen, at first tidy)")
    parser.add_argument("--writer", metavar="NAME",
                        help="a stored writer (File > Handwriting Samples) to choose in the "
                             "Style control: --text is written in their hand, and ink is read "
                             "with their adapted recognizer when they have one")
    parser.add_argument("--match-hand", action=argparse.BooleanOptionalAction, default=None,
                        help="tick (or with --no-match-hand clear) the 'Their slant & width' "
                             "box: a writer's slant and letter width given to the ink written "
                             "in their hand (default: as last left, at first ticked)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="once the work above is done, save a picture of the window and quit")
    parser.add_argument("--report-json", metavar="PATH",
                        help="on quit, write the recognized text and ink counts as JSON")
    parser.add_argument("--palette", choices=("system", "light", "dark"), default="system",
                        help="colour scheme (default: the system's)")
    parser.add_argument("--color-by-char", action="store_true",
                        help="start with the ink coloured by recognized character")
    parser.add_argument("--insight", nargs="?", const="recognition",
                        choices=("recognition", "synthesis", "lab"),
                        help="open the 'Inside the networks' panels (View menu) at start, "
                             "on this tab (default: recognition)")
    parser.add_argument("--size", metavar="WxH", type=_size,
                        help="window size in pixels, e.g. 1280x960")
    return parser


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"window size must be positive, got {text!r}")
    return w, h


def dark_palette() -> QPalette:
    """A plain dark palette (Fusion-style) for systems without a dark theme."""
    p = QPalette()
    role, c = QPalette.ColorRole, QColor
    for r, col in ((role.Window, "#2b2d31"), (role.WindowText, "#e6e6e6"),
                   (role.Base, "#1e1f22"), (role.AlternateBase, "#2b2d31"),
                   (role.Text, "#e6e6e6"), (role.Button, "#34363b"),
                   (role.ButtonText, "#e6e6e6"), (role.BrightText, "#ff6b6b"),
                   (role.Highlight, "#3d8bfd"), (role.HighlightedText, "#ffffff"),
                   (role.Link, "#6cb0ff"), (role.PlaceholderText, "#8b8f97"),
                   (role.ToolTipBase, "#34363b"), (role.ToolTipText, "#e6e6e6"),
                   (role.Mid, "#45474d"), (role.Dark, "#18191b"), (role.Light, "#4a4c52")):
        p.setColor(r, c(col))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, c("#777a80"))
    return p


def light_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, col in ((role.Window, "#efefef"), (role.WindowText, "#1b1b1b"), (role.Base, "#ffffff"),
                   (role.Text, "#1f2933"), (role.Button, "#e8e8e8"), (role.ButtonText, "#1b1b1b"),
                   (role.Highlight, "#2f6fde"), (role.HighlightedText, "#ffffff"),
                   (role.PlaceholderText, "#8a94a0"), (role.Link, "#1d5fc2")):
        p.setColor(r, QColor(col))
    return p


APP_THREADS = 2  # threads per model process


def shipped_presets() -> list[str]:
    """The names of the style presets beside the shipped synthesizer (`styles.npz`), read
    without loading the model (the synthesizer's process lists them once it has loaded)."""
    from handwriting.presets import shipped_style_names

    return shipped_style_names()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, qt_args = build_parser().parse_known_args(argv)

    if QApplication.instance() is None:  # before Qt loads its platform plugin
        problem = startup_problem(qt_args, os.environ)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    from gui.workers.base import preload

    preload(threads=APP_THREADS)  # the model processes start while Qt and the window load
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APP_NAME)
    if args.palette != "system":
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if args.palette == "dark" else light_palette())

    from gui.main_window import MainWindow

    batch = bool(args.screenshot or args.report_json)
    # A batch run (--screenshot, --report-json) gets the default window size and no
    # questions: errors go to stderr and the exit status, never to a box nobody can click.
    window = MainWindow(threads=APP_THREADS, offer_restore=not batch,
                        restore_geometry=not args.screenshot)
    window.batch = batch
    # Scripted runs ask no "Save changes?" on quit; the ink is still kept, as the app-data
    # folder's last-session.json.
    window.unattended = batch
    window.finish_work_on_close = bool(args.report_json)
    if args.color_by_char:
        window.color_action.setChecked(True)
        window.on_color_by_char(True)
    if args.size:
        window.resize(*args.size)
    if args.insight and window.ensure_insight() is not None:
        host = window.insight
        host.show()
        host.dock.tabs.setCurrentIndex(("recognition", "synthesis", "lab").index(args.insight))
    if args.style is not None:
        from gui.panels import NO_STYLE
        from handwriting.presets import UNPRIMED, shipped_styles_path

        presets = shipped_presets()
        if args.style.lower() == UNPRIMED:
            window.write_panel.request_style(NO_STYLE)
        elif args.style not in presets:
            print(f"handwriting-app: error: no style preset {args.style!r} in "
                  f"{shipped_styles_path()}; available: {', '.join([*presets, UNPRIMED])}",
                  file=sys.stderr)
            window.close()
            window.deleteLater()
            return 2
        else:
            window.write_panel.request_style(args.style)
    if args.writer is not None and not window.writers.choose(args.writer):
        print(f"handwriting-app: error: no writer {args.writer!r} in "
              f"{window.writers.db_path}", file=sys.stderr)
        window.close()
        window.deleteLater()
        return 2
    if args.match_hand is not None:
        window.write_panel.set_match_hand(args.match_hand)
    opened = window.files.open_file(args.open) if args.open else True
    if args.text:
        window.write_text(args.text, speed="instant" if args.screenshot else None,
                          seed=args.seed)
    window.show()

    status = 0
    if args.screenshot:
        waited = {"s": 0.0}

        def grab_when_done() -> None:
            if not window.is_idle() and waited["s"] < WORK_TIMEOUT_S:
                waited["s"] += POLL_MS / 1000
                QTimer.singleShot(POLL_MS, grab_when_done)
                return
            if not window.is_idle():
                print("handwriting-app: work unfinished after "
                      f"{WORK_TIMEOUT_S:.0f} s; saving the screenshot anyway", file=sys.stderr)
            QTimer.singleShot(SETTLE_MS, grab_and_quit)

        def grab_and_quit() -> None:
            nonlocal status
            out = Path(args.screenshot)
            out.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(out), "PNG"):
                print(f"handwriting-app: could not write screenshot {out}", file=sys.stderr)
                status = 1
            app.quit()

        QTimer.singleShot(SETTLE_MS, grab_when_done)

    code = app.exec()
    window.close()  # quitting through the menu closed it already; this is then a no-op
    # Closing the last window posts a Quit event of its own; left in the queue, it would end
    # the next event loop the moment it starts (matters when main() runs inside a process
    # that goes on, like the tests).
    QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    if args.report_json:
        out = Path(args.report_json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(window.report()) + "\n", encoding="utf-8")
    window.deleteLater()
    if batch and not opened:
        return 2  # the error was printed; the screenshot and report show the empty window
    return status or code


if __name__ == "__main__":
    raise SystemExit(main())
