"""`handwriting explain`: the figures and summary.json for one ink file, with a tiny random
recognizer (always) and the shipped one (when models/recognizer.pt is there); bad input
raises the errors the CLI turns into one-line messages."""

from __future__ import annotations

import argparse
import json

import pytest
from PIL import Image

from handwriting.cli import explain
from handwriting.formats import InkFormatError, write_ink
from handwriting.results import models_dir
from handwriting.service import Recognizer
from tests.fixtures import hershey_ink, write_tiny_recognizer

SHIPPED = models_dir() / "recognizer.pt"




@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return write_tiny_recognizer(tmp_path_factory.mktemp("ckpt") / "rec.pt")


@pytest.fixture(scope="module")
def ink_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ink") / "line.json"
    write_ink(hershey_ink("move the lid"), path)
    return path


def _args(*argv):
    parser = argparse.ArgumentParser()
    explain.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["explain", *map(str, argv)])


def _check_outputs(out, fmt: str) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    names = [f"{n}.{fmt}" for n in explain.FIGURES]
    assert summary["files"] == names + ["summary.json"]
    for name in names:
        path = out / name
        assert path.stat().st_size > 1000
        if fmt == "png":
            with Image.open(path) as img:
                assert img.width >= 300 and img.height >= 100
        else:
            assert "<svg" in path.read_text()[:500]
    return summary


def test_explain_writes_the_figures_with_a_tiny_model(tiny_model, ink_file, tmp_path):
    out = tmp_path / "figs"
    assert explain.cmd_explain(_args(ink_file, "--out", out, "--model", tiny_model,
                                     "--unit", 3, "--layer", 0)) == 0
    summary = _check_outputs(out, "png")
    assert summary["layer"] == 0 and summary["unit"] == 3 and summary["stride"] == 4
    from handwriting.formats import read_ink

    rec = Recognizer.from_checkpoint(tiny_model)
    assert summary["text"] == rec.recognize(read_ink(ink_file)).text


def test_explain_svg_draws_ink_as_paths(tiny_model, ink_file, tmp_path):
    out = tmp_path / "svg"
    assert explain.cmd_explain(_args(ink_file, "--out", out, "--model", tiny_model,
                                     "--format", "svg")) == 0
    _check_outputs(out, "svg")
    assert (out / "neuron.svg").read_text().count("<path") > 5
    assert "data:image/png" in (out / "cells.svg").read_text()


@pytest.mark.skipif(not SHIPPED.is_file(), reason="models/recognizer.pt not present")
def test_explain_with_the_shipped_recognizer(ink_file, tmp_path):
    out = tmp_path / "shipped"
    assert explain.cmd_explain(_args(ink_file, "--out", out, "--char", 0)) == 0
    summary = _check_outputs(out, "png")
    assert summary["text"] and summary["char"] == 0
    assert summary["layer"] == Recognizer.from_checkpoint().config.layers // 2


def test_bad_input_raises_the_clis_errors(tiny_model, ink_file, tmp_path):
    with pytest.raises(InkFormatError):
        explain.cmd_explain(_args(tmp_path / "missing.json", "--out", tmp_path / "o"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InkFormatError):
        explain.cmd_explain(_args(tmp_path / "bad.json", "--out", tmp_path / "o"))
    with pytest.raises(ValueError, match="--unit 99"):
        explain.cmd_explain(_args(ink_file, "--out", tmp_path / "o", "--model", tiny_model,
                                  "--unit", 99))
    with pytest.raises(ValueError, match="--layer 5"):
        explain.cmd_explain(_args(ink_file, "--out", tmp_path / "o", "--model", tiny_model,
                                  "--layer", 5))
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a folder"):
        explain.cmd_explain(_args(ink_file, "--out", tmp_path / "file", "--model", tiny_model))
