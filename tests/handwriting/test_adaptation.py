"""Writer adaptation: it learns, leaves the base model alone, reports progress, cancels, and
saves a checkpoint that loads with weights_only; and the CLI verbs around it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from handwriting.adaptation import (
    Cancelled,
    Example,
    adapt,
    adapted_recognizer,
    benchmark_forms,
    save_adapted,
)
from handwriting.appdata import adapted_model_path
from handwriting.checkpoint import load_checkpoint
from handwriting.cli import main
from handwriting.formats import write_ink
from handwriting.samples import SampleStore
from handwriting.service import Recognizer
from handwriting.training.config import AdaptConfig
from tests.fixtures import hershey_ink, write_tiny_recognizer


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return write_tiny_recognizer(tmp_path_factory.mktemp("ckpt") / "rec.pt")


@pytest.fixture()
def recognizer(tiny_checkpoint):
    return Recognizer.from_checkpoint(tiny_checkpoint, use_lm=False)


EXAMPLES = [Example(hershey_ink("hello"), "hello"), Example(hershey_ink("world"), "world")]


def _state(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_adaptation_learns_and_leaves_the_base_untouched(recognizer):
    base = _state(recognizer.net)
    seen = []
    config = AdaptConfig(steps=40, lr=3e-3, augment=False, trainable="top")
    result = adapt(recognizer, EXAMPLES, config,
                   progress=lambda step, steps, loss: seen.append((step, steps)))
    assert seen == [(k, 40) for k in range(1, 41)]
    assert result.steps_done == 40 and not result.cancelled and result.examples == 2
    assert sum(result.losses[-5:]) < 0.8 * sum(result.losses[:5])
    for k, v in recognizer.net.state_dict().items():
        assert torch.equal(v, base[k]), k
    # "top": only the last LSTM layer and the output layer moved
    changed = {k.split(".")[0] + "." + k.split(".")[1] if k.startswith("layers") else
               k.split(".")[0] for k, v in result.state_dict.items() if not torch.equal(v, base[k])}
    assert changed == {"layers.1", "head"}
    adapted = adapted_recognizer(recognizer, result)
    assert adapted.net is not recognizer.net
    assert torch.equal(adapted.net.head.weight, result.state_dict["head.weight"])
    # what the adapted recognizer reads with is the adapted network, in whichever engine
    # (the Numba engine once kept the base weights it had copied before the adaptation)
    ink = EXAMPLES[0].ink
    with torch.no_grad():
        x = torch.from_numpy(adapted._encode(ink).x)[None]
        want = adapted.net(x, torch.tensor([x.shape[1]]))[0][:, 0].numpy()
    np.testing.assert_allclose(adapted.log_posteriors([ink])[0], want, atol=1e-4)
    assert not np.allclose(recognizer.log_posteriors([ink])[0], want, atol=1e-4)


def test_lstm_adaptation_keeps_the_front_end(recognizer):
    base = _state(recognizer.net)
    result = adapt(recognizer, EXAMPLES, AdaptConfig(steps=2, trainable="lstm"))
    changed = {k.rsplit(".", 2)[0] for k, v in result.state_dict.items()
               if not torch.equal(v, base[k])}
    assert not any(k.startswith("frontend") for k in changed)
    assert {"layers.0", "layers.1", "head"} <= changed


def test_samples_outside_the_alphabet_are_skipped(recognizer):
    result = adapt(recognizer, EXAMPLES + [Example(hershey_ink("x"), "\u20ac")],
                   AdaptConfig(steps=1))
    assert result.examples == 2 and result.skipped == ["\u20ac"]
    with pytest.raises(ValueError, match="no usable samples"):
        adapt(recognizer, [Example(hershey_ink("x"), "\u20ac")], AdaptConfig(steps=1))


def test_cancel_stops_after_the_current_step(recognizer):
    calls = []
    result = adapt(recognizer, EXAMPLES, AdaptConfig(steps=50),
                   cancel=lambda: calls.append(1) or len(calls) > 3)
    assert result.cancelled and result.steps_done == 3
    with pytest.raises(Cancelled):
        adapt(recognizer, EXAMPLES, AdaptConfig(steps=50), cancel=lambda: True)


def test_saved_weights_load_with_weights_only_and_a_card(recognizer, tiny_checkpoint, tmp_path):
    base_bytes = tiny_checkpoint.read_bytes()
    result = adapt(recognizer, EXAMPLES, AdaptConfig(steps=2))
    out = adapted_model_path(tmp_path / "samples.db", 7)
    assert out == tmp_path / "samples.db.adapted" / "writer-7.pt"
    save_adapted(recognizer, result, out, {"writer": "Ada", "cer_before": 0.5, "cer_after": 0.25,
                                           "decoder": "greedy"})
    assert tiny_checkpoint.read_bytes() == base_bytes
    ckpt = load_checkpoint(out, "recognizer")  # weights_only=True, checksum checked
    assert ckpt["adaptation"]["writer"] == "Ada" and ckpt["adaptation"]["steps"] == 2
    loaded = Recognizer.from_checkpoint(out, use_lm=False)
    for k, v in result.state_dict.items():
        assert torch.equal(loaded.net.state_dict()[k], v.float()), k
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["base_model"] == str(tiny_checkpoint) and card["samples"] == 2
    assert "Ada" in out.with_suffix(".md").read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == ["writer-7.json", "writer-7.md",
                                                            "writer-7.pt"]


class _Line:
    def __init__(self, id, text):
        self.id, self.text, self.ink = id, text, hershey_ink(text)


def test_benchmark_splits_each_form_into_adapt_and_test_lines(recognizer):
    lines = [_Line(f"a01-000u-0{i}", t) for i, t in enumerate(["ab", "cd", "ef"], 1)]
    lines += [_Line("a01-001-01", "gh"), _Line("a01-001-02", "ij")]  # 2 lines: none left to test
    lines += [_Line("b01-002-01", "kl"), _Line("b01-002-02", "mn"), _Line("b01-002-03", "op")]
    r = benchmark_forms(recognizer, lines, forms=5, adapt_lines=2,
                        config=AdaptConfig(steps=1), decoder="greedy")
    assert r["forms"] == 2 and r["test_lines"] == 2
    assert [f["form"] for f in r["per_form"]] == ["a01-000u", "b01-002"]
    assert all(f["adapt_lines"] == 2 and f["test_lines"] == 1 for f in r["per_form"])


def test_cli_samples_and_adapt(tiny_checkpoint, tmp_path, capsys):
    db = tmp_path / "s.db"
    for i, text in enumerate(["hello", "world"]):
        write_ink(hershey_ink(text), tmp_path / f"{i}.inkml")
        assert main(["samples", "add", "--samples-db", str(db), "--writer", "Ada", "--text",
                     text, "--no-recognize", str(tmp_path / f"{i}.inkml")]) == 0
    capsys.readouterr()
    assert main(["samples", "list", "--samples-db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 1, "name": "Ada", "samples": 2}]
    assert main(["adapt", "--samples-db", str(db), "--writer", "Ada", "--model",
                 str(tiny_checkpoint), "--steps", "2", "--decoder", "greedy", "--json",
                 "--progress-json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["steps"] == 2 and out["samples"] == 2
    stages = [json.loads(line) for line in captured.err.splitlines()]
    assert [(p["stage"], p.get("step")) for p in stages] == [
        ("measuring", None), ("adapting", 1), ("adapting", 2), ("measuring", None),
        ("saving", None)]
    assert all(p["steps"] == 2 for p in stages)
    assert load_checkpoint(out["model"], "recognizer")["adaptation"]["writer"] == "Ada"
    capsys.readouterr()
    assert main(["recognize", str(tmp_path / "0.inkml"), "--samples-db", str(db), "--writer",
                 "Ada", "--decoder", "greedy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["file"] == str(tmp_path / "0.inkml")
    with SampleStore(db) as store:
        store.add_writer("Bob")
    assert main(["recognize", str(tmp_path / "0.inkml"), "--samples-db", str(db), "--writer",
                 "Bob"]) == 2
    assert "no adapted model" in capsys.readouterr().err
    assert main(["samples", "export", "--samples-db", str(db), "--writer", "Ada",
                 str(tmp_path / "ada.zip")]) == 0
    with SampleStore(tmp_path / "t.db") as other:
        assert [s.text for s in other.samples(other.import_writer(tmp_path / "ada.zip").id)] \
            == ["hello", "world"]


def test_cli_refuses_a_foreign_file_and_an_unknown_writer(tmp_path, capsys):
    bad = tmp_path / "notes.db"
    bad.write_text("my shopping list\n" * 20)
    assert main(["samples", "list", "--samples-db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1
    assert bad.read_text() == "my shopping list\n" * 20
    assert main(["adapt", "--samples-db", str(tmp_path / "s.db"), "--writer", "nobody"]) == 2
    assert "no writer 'nobody'" in capsys.readouterr().err


def test_priming_sample_covers_most_of_the_text():
    from handwriting.samples import Sample, best_priming_sample

    def s(i, text):
        return Sample(i, 1, hershey_ink("x"), text, "", "", 0.0)

    samples = [s(1, "aaaaaaaaaaaaaaaa"), s(2, "the fox"), s(3, "zebra"), s(4, "")]
    assert best_priming_sample(samples, "the box").id == 2
    assert best_priming_sample(samples, "zzz").id == 3
    assert best_priming_sample([s(4, " ")], "x") is None


def test_cli_synthesize_as_a_stored_writer(tmp_path, capsys):
    db = tmp_path / "s.db"
    with SampleStore(db) as store:
        store.add_writer("Ada")
        store.add_writer("Empty")
        store.add_sample("Ada", hershey_ink("hello there"), "hello there")
    out = tmp_path / "o.svg"
    assert main(["synthesize", "hi", "-o", str(out), "--samples-db", str(db), "--writer", "Ada",
                 "--style", "x"]) == 2
    assert "one of --writer" in capsys.readouterr().err
    assert main(["synthesize", "hi", "-o", str(out), "--samples-db", str(db),
                 "--writer", "Empty"]) == 2
    assert "no samples" in capsys.readouterr().err
    assert main(["synthesize", "hello", "-o", str(out), "--samples-db", str(db), "--writer",
                 "Ada", "--seed", "1"]) == 0
    assert out.stat().st_size > 0
