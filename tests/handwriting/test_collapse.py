"""Failure classes of a sampled line (`handwriting.collapse`): from the window position and the
pen at every step, 'ok', 'window_stalls', 'window_skips' or 'pen_circles'."""

from __future__ import annotations

import json

import numpy as np

from handwriting.collapse import LineTrace, classify, failures, line_traces
from handwriting.results import SynthesisFrame

N = 200  # steps


def writing(n: int = N) -> np.ndarray:
    """Offsets of a pen moving right and up and down, pen up every 10 points."""
    t = np.arange(n)
    off = np.zeros((n, 3), np.float32)
    off[:, 0] = 0.1
    off[:, 1] = 0.1 * np.sign(np.sin(t))
    off[9::10, 2] = 1.0
    return off


def test_a_line_read_in_order_is_ok():
    trace = LineTrace(np.arange(N) * 0.1, writing(), n_chars=20)
    assert classify(trace) == "ok"
    assert all(v == -1 for v in failures(trace).values())


def test_a_window_held_on_one_character_while_the_pen_draws_stalls():
    w = np.minimum(np.arange(N) * 0.1, 5.0)  # stuck at character 5 from step 50
    assert classify(LineTrace(w, writing(), n_chars=20)) == "window_stalls"
    # past the end of the text the window stops by design: not a stall
    assert classify(LineTrace(w, writing(), n_chars=5)) == "ok"


def test_a_window_that_jumps_skips():
    w = np.arange(N) * 0.1
    w[100:] += 4.0
    assert classify(LineTrace(w, writing(), n_chars=30)) == "window_skips"


def test_a_pen_drawing_on_one_spot_circles():
    off = writing()
    a = np.linspace(0, 12 * np.pi, 60)
    off[80:140, 0], off[80:140, 1], off[80:140, 2] = -0.1 * np.sin(a), 0.1 * np.cos(a), 0
    assert classify(LineTrace(np.arange(N) * 0.1, off, n_chars=20)) == "pen_circles"


def test_traces_from_frames_are_in_the_lines_own_characters():
    frames = []
    for t in range(3):
        phi = np.zeros((2, 8))
        phi[:, 3 + t] = 1.0  # two priming characters, then the line's: positions 1, 2, 3
        frames.append(SynthesisFrame(t, np.full((2, 3), t, np.float32),
                                     np.array([True, t < 2]), phi, np.zeros((2, 1)),
                                     np.zeros(2), np.zeros((2, 1)), np.zeros((2, 1, 2)),
                                     np.ones((2, 1, 2)), np.zeros((2, 1)), text_offset=2))
    a, b = line_traces(frames, [4, 3])
    assert a.window.tolist() == [1.0, 2.0, 3.0] and b.window.tolist() == [1.0, 2.0]
    assert a.offsets[:, 0].tolist() == [0, 1, 2] and (a.n_chars, b.n_chars) == (4, 3)


def _tiny_checkpoint(path) -> None:
    import torch

    from handwriting.alphabet import DEFAULT_ALPHABET
    from handwriting.checkpoint import save_checkpoint
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.models.synthesizer import SynthesizerNet

    torch.manual_seed(0)
    cfg = SynthesizerConfig(n_chars=len(DEFAULT_ALPHABET), hidden=16, layers=2, mixtures=3,
                            window_gaussians=2)
    save_checkpoint({"kind": "synthesizer", "model_config": cfg.to_dict(),
                     "feature_config": {"spacing": 0.14, "deslope": True}, "offset_scale": 0.1,
                     "alphabet": DEFAULT_ALPHABET.chars,
                     "state_dict": SynthesizerNet(cfg).state_dict()}, path)


def test_legibility_json_counts_collapsed_lines_and_classes(tmp_path, capsys):
    from handwriting.cli import main

    ckpt = tmp_path / "syn.pt"
    _tiny_checkpoint(ckpt)
    phrases = tmp_path / "p.txt"
    phrases.write_text("ab cd\n" + "a longer one " * 4 + "\n")
    assert main(["evaluate", "legibility", "--model", str(ckpt), "--phrases", str(phrases),
                 "--repeats", "1", "--candidates", "1", "--json", "--samples"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["candidates"] == 1 and result["written_lines"] == 3  # "longer one" wraps
    assert 0 <= result["first_word_cer"]
    # an untrained network writes scribble: every line reads far off
    assert result["collapsed_lines"] == len(result["collapsed"]) == 3
    assert sum(result["line_classes"].values()) == 3
    assert sum(result["collapsed_classes"].values()) == 3
    assert set(result["line_classes"]) <= {"ok", "window_stalls", "window_skips", "pen_circles"}


def test_legibility_via_the_cli_writes_files_and_reads_them_back(tmp_path, capsys):
    from handwriting.cli import main

    ckpt = tmp_path / "syn.pt"
    _tiny_checkpoint(ckpt)
    phrases = tmp_path / "p.txt"
    phrases.write_text("ab\ncd\n")
    base = ["evaluate", "legibility", "--model", str(ckpt), "--phrases", str(phrases),
            "--repeats", "1", "--candidates", "1", "--json", "--samples", "--seed", "3"]
    assert main([*base, "--via-cli"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["via_cli"] is True and result["written_lines"] == 2
    assert [s["seed"] for s in result["samples"]] == [3, 4]
    assert result["line_classes"] == {"unknown": 2}
    assert main([*base, "--via-cli", "--chooser", "x.pt"]) == 2
