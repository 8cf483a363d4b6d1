"""The CLI as a package, one module per verb (issue 13): every command reaches a handler set
beside its parser, `--help` stays light (no torch), and both module entry points run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from handwriting.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def test_every_command_has_its_handler_beside_its_parser():
    leaves = list(_leaves(build_parser()))
    assert len(leaves) >= 20
    for path, parser in leaves:
        handler = parser.get_default("handler")
        assert callable(handler), path
        # the handler lives in the verb's own module of the cli package
        assert handler.__module__.startswith("handwriting.cli."), (path, handler.__module__)


def test_help_and_parsing_never_import_torch():
    code = ("import sys; from handwriting.cli import build_parser; p = build_parser(); "
            "p.format_help(); p.parse_args(['train', 'recognizer', '--epochs', '2']); "
            "loaded = [m for m in sys.modules if m.split('.')[0] == 'torch']; "
            "assert not loaded, loaded[:5]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_both_module_entry_points_run():
    for module in ("handwriting", "handwriting.cli"):
        result = subprocess.run([sys.executable, "-m", module, "export", "--help"],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0 and "--fp32" in result.stdout, result.stderr[-2000:]
