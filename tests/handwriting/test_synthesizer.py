"""The Graves (2013) synthesizer: mixture likelihood, attention, overfitting, sampling."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.data.datasets import SynthesizerDataset, collate_synthesizer
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.mdn import MixtureHead, mixture_log_likelihood
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.service import Synthesizer
from handwriting.synthesis import collect_lines, sample_stream
from handwriting.training.config import TrainConfig
from handwriting.training.loop import Trainer
from handwriting.training.synthesizer import SynthesizerTask, sequence_nll
from handwriting.wrapping import split_lines
from tests.fixtures import hershey_ink

TINY = dict(hidden=32, layers=2, mixtures=4, window_gaussians=3)




class _Line:
    def __init__(self, text):
        self.text, self.ink, self.id = text, hershey_ink(text), text


def test_mixture_log_likelihood_matches_scipy():
    torch.manual_seed(0)
    head = MixtureHead(8, mixtures=3)
    params = head(torch.randn(5, 8), bias=0.3)
    x = torch.randn(5, 3)
    x[:, 2] = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0])
    ours = mixture_log_likelihood(params, x).detach().numpy()
    for n in range(5):
        dens = 0.0
        for j in range(3):
            s1, s2 = params.log_sigma1[n, j].exp().item(), params.log_sigma2[n, j].exp().item()
            r = params.rho[n, j].item()
            cov = [[s1 * s1, r * s1 * s2], [r * s1 * s2, s2 * s2]]
            mean = [params.mu1[n, j].item(), params.mu2[n, j].item()]
            dens += params.log_pi[n, j].exp().item() * multivariate_normal(mean, cov).pdf(
                x[n, :2].numpy())
        e = params.eos[n].item()
        expected = np.log(dens) + np.log(e if x[n, 2] > 0.5 else 1 - e)
        assert ours[n] == pytest.approx(expected, rel=1e-4, abs=1e-4)


def test_likelihood_is_finite_for_extreme_values():
    head = MixtureHead(4, mixtures=2)
    with torch.no_grad():
        head.linear.weight.fill_(0.0)
        head.linear.bias.fill_(30.0)  # rho -> 1, huge sigmas and weights
    params = head(torch.zeros(2, 4))
    ll = mixture_log_likelihood(params, torch.tensor([[1e3, -1e3, 1.0], [0.0, 0.0, 0.0]]))
    assert torch.isfinite(ll).all()


def test_tiny_model_overfits_one_batch():
    lines = [_Line("ab"), _Line("cab")]
    task = SynthesizerTask(lines, None, SynthesizerConfig(**TINY))
    batch = task.collate([task.train_set[i] for i in range(2)])
    torch.manual_seed(0)
    opt = torch.optim.Adam(task.model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        loss = task.loss(task.model, batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(task.model.parameters(), 5.0)
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < first - 1.5  # nats per point


def test_attention_kappa_only_moves_forward():
    torch.manual_seed(1)
    net = SynthesizerNet(SynthesizerConfig(**TINY)).eval()
    frames = list(sample_stream(net, DEFAULT_ALPHABET, ["hello there"], 0.1, seed=3))
    kappa = np.stack([f.kappa[0] for f in frames])  # (T, K)
    assert len(frames) > 3
    assert np.all(np.diff(kappa, axis=0) > 0)
    assert all(np.all(f.phi >= 0) for f in frames)


def test_trained_window_moves_through_the_text_in_order():
    """Teacher-forced on a line it was fitted to, the window's peak walks the text forward."""
    lines = [_Line("abc")]
    task = SynthesizerTask(lines, None, SynthesizerConfig(**TINY))
    batch = task.collate([task.train_set[0]])
    torch.manual_seed(0)
    opt = torch.optim.Adam(task.model.parameters(), lr=1e-2)
    for _ in range(200):
        loss = task.loss(task.model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = batch["x"]
    inputs = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)
    with torch.no_grad():
        _, phi = task.model(inputs, batch["text"], batch["text_mask"])
    peak = phi[0, :, :3].argmax(-1).numpy()
    assert np.all(np.diff(peak) >= 0) or np.mean(np.diff(peak) >= 0) > 0.95
    assert peak[0] == 0 and peak[-1] == 2


def _tiny_service(seed: int = 0) -> Synthesizer:
    torch.manual_seed(seed)
    cfg = SynthesizerConfig(**TINY)
    net = SynthesizerNet(cfg)
    ckpt = {"model_config": cfg.to_dict(), "feature_config": {"spacing": 0.14, "deslope": True},
            "offset_scale": 0.1, "alphabet": DEFAULT_ALPHABET.chars,
            "state_dict": net.state_dict()}
    return Synthesizer(ckpt)


def test_sampling_with_a_seed_repeats():
    syn = _tiny_service()
    a = syn.write("seeded ink", seed=7)
    b = syn.write("seeded ink", seed=7)
    c = syn.write("seeded ink", seed=8)
    assert a[0].coords().tolist() == b[0].coords().tolist()
    assert a[0].coords().tolist() != c[0].coords().tolist()


def test_plan_validates_and_maps_characters():
    syn = _tiny_service()
    with pytest.raises(ValueError, match="empty"):
        syn.plan("   ")
    plan = syn.plan("\u201cquoted\u201d \u2014 dash \u20ac")
    assert plan.lines == ('"quoted" - dash',)
    assert plan.dropped == ("\u20ac",)
    with pytest.raises(ValueError, match="unknown style"):
        syn.style("no-such-style")


def test_split_lines_at_word_boundaries():
    assert split_lines("aa bb cc dd", max_chars=5) == ["aa bb", "cc dd"]
    assert split_lines("x" * 12, max_chars=5) == ["xxxxx", "xxxxx", "xx"]
    assert split_lines("one\ntwo") == ["one", "two"]


def greedy_lines(words: list[str], width: int) -> list[str]:
    """Lines filled word by word up to `width` (the standard library's greedy wrap): the
    line count balancing must keep."""
    return textwrap.wrap(" ".join(words), width, break_long_words=False)


def test_wrapped_lines_are_balanced_without_a_one_word_last_line():
    text = "Learning to write takes years of practice"  # greedy: "... of" / "practice"
    assert greedy_lines(text.split(), 40)[-1] == "practice"
    assert split_lines(text) == ["Learning to write takes", "years of practice"]


@given(st.lists(st.text("abcdefghij", min_size=1, max_size=12), min_size=1, max_size=60),
       st.integers(12, 50))
def test_balanced_lines_keep_the_words_the_line_count_and_the_width(words, width):
    lines = split_lines(" ".join(words), max_chars=width)
    greedy = greedy_lines(words, width)
    assert " ".join(lines) == " ".join(words)  # every word, in order, none cut
    assert len(lines) == len(greedy)
    assert max(map(len, lines)) <= max(map(len, greedy)) <= width


def test_long_text_is_bounded_and_gives_a_valid_multiline_svg(tmp_path):
    from handwriting.formats import read_ink, write_ink
    from handwriting.geometry import join_lines

    syn = _tiny_service()
    text = ("lorem ipsum dolor sit amet " * 80)[:2000]
    plan = syn.plan(text)
    assert len(plan.lines) >= 40
    inks = syn.write(text, seed=1)
    assert len(inks) == len(plan.lines)
    limit = 40 * max(len(t) for t in plan.lines) + 20
    assert all(ink.num_points <= limit for ink in inks)
    path = tmp_path / "long.svg"
    write_ink(join_lines(inks), path)
    back = read_ink(path)
    assert back.num_points > 0 and len(back) >= len(inks)


def test_priming_with_a_style_changes_the_sample():
    syn = _tiny_service()
    style = syn.style_from_ink(hershey_ink("style"), "style")
    plain = syn.write("ink", seed=5)[0].coords()
    primed = syn.write("ink", seed=5, style=style)[0].coords()
    assert plain.shape != primed.shape or not np.allclose(plain, primed)


def test_collect_lines_ends_every_line_with_pen_up():
    net = SynthesizerNet(SynthesizerConfig(**TINY)).eval()
    lines = collect_lines(sample_stream(net, DEFAULT_ALPHABET, ["ab", "abc"], 0.1, seed=0), 2)
    assert all(line[-1, 2] == 1.0 for line in lines if len(line))


def test_sequence_nll_counts_only_real_points():
    ds = SynthesizerDataset([_Line("ab"), _Line("abcdef")], DEFAULT_ALPHABET)
    net = SynthesizerNet(SynthesizerConfig(**TINY))
    b = collate_synthesizer([ds[0], ds[1]], net.cfg.n_chars)
    _, n = sequence_nll(net, b)
    assert int(n) == sum(ds.lengths())


def test_trainer_runs_the_synthesizer_task(tmp_path):
    task = SynthesizerTask([_Line("ab"), _Line("ba")], [_Line("ab")], SynthesizerConfig(**TINY))
    st = Trainer(task, TrainConfig(out=str(tmp_path), batch_size=2, epochs=2, progress=False,
                                   warmup_steps=1)).fit()
    assert st.epoch == 2 and np.isfinite(st.best_metric)
    assert (tmp_path / "best.pt").is_file()


@pytest.fixture
def tiny_synth_checkpoint(tmp_path):
    from tests.fixtures import write_tiny_synthesizer

    return write_tiny_synthesizer(tmp_path / "syn.pt")


def test_cli_synthesize_single_and_batch(tmp_path, tiny_synth_checkpoint, capsys):
    from handwriting.cli import main
    from handwriting.formats import read_ink

    out = tmp_path / "one.svg"
    assert main(["synthesize", "two\nlines", "-o", str(out), "--seed", "1",
                 "--model", str(tiny_synth_checkpoint)]) == 0
    assert read_ink(out).num_points > 0
    texts = tmp_path / "lines.txt"
    texts.write_text("first\n\nthird\n")
    assert main(["synthesize", "--text-file", str(texts), "--out-dir", str(tmp_path / "d"),
                 "--format", "json", "--model", str(tiny_synth_checkpoint)]) == 0
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["0001.json", "0003.json"]
    assert read_ink(tmp_path / "d" / "0003.json").meta["text"] == "third"
    assert main(["synthesize", "abc", "-o", str(tmp_path / "x.doc"),
                 "--model", str(tiny_synth_checkpoint)]) == 2
    assert main(["synthesize", "", "-o", str(out), "--model", str(tiny_synth_checkpoint)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "handwriting: error: text is empty: nothing to write"


def test_cli_writes_in_the_default_hand_unless_asked_for_none(tmp_path, tiny_synth_checkpoint,
                                                              capsys):
    """Without --style the CLI primes every line with `presets.DEFAULT_STYLE` (one hand per
    text, the most legible preset); `--style none` asks for the model's own hand."""
    from handwriting.cli import main
    from handwriting.formats import read_ink
    from handwriting.presets import DEFAULT_STYLE, UNPRIMED

    def write(*extra: str):
        out = tmp_path / f"{len(list(tmp_path.iterdir()))}.json"
        assert main(["synthesize", "ab cd", "-o", str(out), "--seed", "3", "--format", "json",
                     "--candidates", "1", "--model", str(tiny_synth_checkpoint), *extra]) == 0
        return read_ink(out).coords()

    default, tidy, none = write(), write("--style", DEFAULT_STYLE), write("--style", UNPRIMED)
    np.testing.assert_array_equal(default, tidy)
    assert default.shape != none.shape or not np.allclose(default, none)
    assert main(["synthesize", "ab", "-o", str(tmp_path / "x.svg"), "--style", "nope",
                 "--model", str(tiny_synth_checkpoint)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown style 'nope'" in err and UNPRIMED in err


def test_the_service_names_its_default_hand_and_none_is_unprimed(tiny_synth_checkpoint):
    from handwriting.presets import DEFAULT_STYLE, default_style

    syn = _tiny_service()
    assert syn.style("none") is None and syn.style(None) is None
    assert syn.default_style is None  # no presets: unprimed
    shipped = Synthesizer.from_checkpoint(tiny_synth_checkpoint)  # the shipped presets
    assert shipped.default_style == DEFAULT_STYLE
    assert shipped.style(shipped.default_style) is shipped.styles[DEFAULT_STYLE]
    assert default_style({DEFAULT_STYLE: 1, "x": 2}) == DEFAULT_STYLE
    assert default_style({"x": 2}) is None  # no such preset shipped: unprimed


def test_cli_legibility_repeats_each_phrase_with_its_own_seed(tmp_path, tiny_synth_checkpoint,
                                                              capsys):
    from handwriting.cli import main

    phrases = tmp_path / "phrases.txt"
    phrases.write_text("# a comment\nab\ncd\n")
    args = ["evaluate", "legibility", "--model", str(tiny_synth_checkpoint), "--phrases",
            str(phrases), "--json", "--samples", "--seed", "5"]
    assert main([*args, "--repeats", "2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["repeats"] == 2 and len(result["cer_per_repeat"]) == 2
    assert [s["seed"] for s in result["samples"]] == [5, 6, 7, 8]
    assert [s["text"] for s in result["samples"]] == ["ab", "cd", "ab", "cd"]
    assert 0 <= result["cer"] and result["cer"] == pytest.approx(
        sum(result["cer_per_repeat"]) / 2, abs=1e-3)  # each repeat: the same characters
    assert result["style"] == "tidy"  # the CLI's default hand, measured by default
    assert main([*args, "--repeats", "0"]) == 2
    assert "--repeats must be at least 1, got 0" in capsys.readouterr().err


def test_chunks_carry_every_point_once_and_end_with_all_lines_finished():
    syn = _tiny_service()
    plan = syn.plan("first line\nand a second")
    frames = list(syn.stream(plan, seed=4))
    lines = collect_lines(iter(frames), 2)
    chunks = list(syn.stream_chunks(plan, seed=4, seconds=0.0))
    assert len(chunks) == len(frames) + 1  # one a step (seconds=0), and the closing one
    assert chunks[-1].steps == len(frames) and chunks[-1].finished.all()
    assert sum(len(c.frames) for c in chunks) == len(frames)
    for b in range(2):
        got = np.concatenate([c.points[b] for c in chunks])
        # collect_lines also marks each line's last point as the end of its stroke
        np.testing.assert_allclose(got[:-1], lines[b][:-1])
    finished_at = [int(np.argmax([c.finished[b] for c in chunks])) for b in range(2)]
    for b in range(2):  # once a line is finished, no chunk adds to it
        assert not any(len(c.points[b]) for c in chunks[finished_at[b] + 1:])
    lean = list(syn.stream_chunks(plan, seed=4, keep_frames=False))
    assert not any(c.frames for c in lean) and lean[-1].steps == len(frames)


def test_nll_in_raw_offsets_follows_the_files_units(monkeypatch, capsys):
    """`evaluate synthesizer` reports NLL over raw pen offsets (Graves 2013's units) beside
    ours: scaling a file's coordinates by 10 leaves our NLL unchanged and adds exactly
    2 log 10 nats per point (the Jacobian of two continuous coordinates)."""
    import handwriting.data.iam_ondb as iam
    from handwriting.cli import main
    from handwriting.data.iam_ondb import IamLine
    from tests.fixtures import hershey_ink

    texts = ["the cat sat", "on a mat", "with a hat"]

    class Fake:
        def __init__(self, k):
            self.k = k

        def split(self, name):
            return [IamLine(f"a01-000-{i:02d}", name, t,
                            hershey_ink(t).map_xy(lambda xy: (xy * self.k).astype(np.float32)))
                    for i, t in enumerate(texts)]

    results = []
    for k in (1.0, 10.0):
        monkeypatch.setattr(iam, "load_iam_ondb", lambda *a, k=k, **kw: Fake(k))
        assert main(["evaluate", "synthesizer", "--split", "testset_v", "--json"]) == 0
        results.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    a, b = results
    assert a["nll_per_line"] == pytest.approx(b["nll_per_line"], abs=0.02)
    per_line_points = a["points"] / a["lines"]
    expected = 2 * np.log(10.0) * per_line_points
    assert b["nll_per_line_raw_offsets"] - a["nll_per_line_raw_offsets"] == pytest.approx(
        expected, abs=0.05)


def test_cli_batch_names_dropped_characters_once_and_an_unwritable_line(
        tmp_path, tiny_synth_checkpoint, capsys):
    from handwriting.cli import main

    texts = tmp_path / "lines.txt"
    texts.write_text("a\U0001F600b\nc\U0001F600d\x07\n", encoding="utf-8")
    base = ["synthesize", "--text-file", str(texts), "--out-dir", str(tmp_path / "d"),
            "--candidates", "1", "--model", str(tiny_synth_checkpoint)]
    assert main(base) == 0
    err = capsys.readouterr().err
    assert err.count("dropped characters") == 1 and "'\U0001F600\\x07'" in err
    texts.write_text("fine\n\u043f\u0440\u0438\u0432\u0435\u0442\n", encoding="utf-8")
    assert main(base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{texts}, line 2: no writable characters" in err[0]
