"""Tests for recognizer training: overfitting one batch, exact resume, self-describing
checkpoints, the `handwriting train recognizer` command and torchrun data parallelism."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from handwriting.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    export_weights,
    load_checkpoint,
    save_checkpoint,
)
from handwriting.cli import main
from handwriting.data.datasets import Augment, collate_recognizer, with_digits_oversampled
from handwriting.data.iam_ondb import REGISTER_URL, IamLine, load_iam_ondb
from handwriting.decoding import greedy_decode
from handwriting.models.configs import RecognizerConfig
from handwriting.models.recognizer import RecognizerNet
from handwriting.training.config import TrainConfig
from handwriting.training.loop import Trainer, init_from
from handwriting.training.recognizer import RecognizerTask
from tests.fixtures import hershey_ink, make_fake_iam_ondb

REPO = Path(__file__).resolve().parents[2]
TINY = {"conv_channels": 16, "hidden": 16, "layers": 1}




def _lines(texts: list[str], split: str = "trainset") -> list[IamLine]:
    return [IamLine(f"h01-000-{i:02d}", split, t, hershey_ink(t)) for i, t in enumerate(texts)]


def _read_log(out: Path) -> list[dict]:
    return [json.loads(row) for row in (out / "log.jsonl").read_text().splitlines()]


def _decode(model, task: RecognizerTask) -> list[str]:
    """Greedy transcriptions of every validation line of `task`, in eval mode."""
    batch = collate_recognizer([task.val_set[i] for i in range(len(task.val_set))])
    model.eval()
    with torch.no_grad():
        log_probs, out_lens = model(batch["x"], batch["x_lens"])
    lp = log_probs.transpose(0, 1).numpy()  # (B, T', K)
    return [greedy_decode(lp[k, : int(n)], task.alphabet) for k, n in enumerate(out_lens)]


# --------------------------------------------------------------------------- overfitting

OVERFIT_TEXTS = ["ab", "the cat", "dog", "a hen"]


@pytest.fixture(scope="module")
def overfit(tmp_path_factory):
    """A tiny recognizer trained by the Trainer on one batch of four lines, validated on them."""
    lines = _lines(OVERFIT_TEXTS)
    torch.manual_seed(0)
    task = RecognizerTask(lines, lines, RecognizerConfig(conv_channels=16, hidden=32, layers=1,
                                                         dropout=0.0))
    out = tmp_path_factory.mktemp("overfit")
    cfg = TrainConfig(out=str(out), batch_size=4, lr=2e-2, weight_decay=0.0, warmup_steps=1,
                      epochs=10**6, patience=10**6, lr_patience=10**6, log_every=1, max_steps=400,
                      progress=False)
    Trainer(task, cfg).fit()
    return task, out


def test_tiny_model_overfits_one_batch(overfit):
    task, out = overfit
    log = _read_log(out)
    losses = [e["loss"] for e in log if e["event"] == "step"]
    assert len(losses) == 400
    assert losses[-1] < losses[0] / 100, (losses[0], losses[-1])
    assert _decode(task.model, task) == OVERFIT_TEXTS
    assert task.validate(task.model)["val_cer"] == 0.0
    assert (out / "best.pt").is_file()


# --------------------------------------------------------------------------- exact resume

RESUME_TEXTS = ["ab", "the cat", "dog", "a hen", "sun", "my box"]  # 3 batches of 2 per epoch
RESUME_STEPS = 8  # epochs 0 and 1 complete (validated), two steps into epoch 2


def _resume_task() -> RecognizerTask:
    torch.manual_seed(0)
    return RecognizerTask(_lines(RESUME_TEXTS), _lines(["an ox", "cab"], "testset_v"),
                          RecognizerConfig(**TINY, dropout=0.2), augment=Augment(), seed=3)


def _resume_config(out: Path, max_steps: int) -> TrainConfig:
    # warmup and lr_patience=1 make the learning rate change across steps and epochs
    return TrainConfig(out=str(out), batch_size=2, lr=3e-3, warmup_steps=4, lr_patience=1,
                       log_every=1, max_steps=max_steps, seed=3, progress=False)


def _without_seconds(log: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in log]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    task = _resume_task()
    Trainer(task, _resume_config(out, RESUME_STEPS)).fit()
    return out, task.model.state_dict()


@pytest.mark.parametrize("stop_at", [2, 3, 5], ids=["mid-epoch-0", "end-of-epoch-0",
                                                     "mid-epoch-1"])
def test_resume_continues_exactly(uninterrupted, tmp_path, stop_at):
    ref_out, ref_weights = uninterrupted
    first = Trainer(_resume_task(), _resume_config(tmp_path, stop_at)).fit()
    assert first.step == stop_at
    resumed = Trainer(_resume_task(), _resume_config(tmp_path, RESUME_STEPS))
    resumed.resume(tmp_path / "last.pt")
    assert resumed.state.step == stop_at
    state = resumed.fit()
    assert state.step == RESUME_STEPS

    ref_log, log = _read_log(ref_out), _read_log(tmp_path)
    assert [e["event"] for e in ref_log].count("epoch") == 2  # validation ran twice
    assert _without_seconds(log) == _without_seconds(ref_log)  # steps and validations
    weights = resumed.model.state_dict()
    assert weights.keys() == ref_weights.keys()
    for name, value in ref_weights.items():
        assert torch.equal(weights[name], value), name


def test_runs_without_resume_differ_with_the_seed(uninterrupted, tmp_path):
    """The exact-resume test is not vacuous: another seed gives other losses."""
    ref_out, _ = uninterrupted
    cfg = _resume_config(tmp_path, 2)
    cfg.seed = 4
    Trainer(_resume_task(), cfg).fit()
    ref = [e["loss"] for e in _read_log(ref_out) if e["event"] == "step"][:2]
    assert [e["loss"] for e in _read_log(tmp_path) if e["event"] == "step"] != ref


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_describes_itself_and_loads_weights_only(uninterrupted):
    out, weights = uninterrupted
    ckpt = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["kind"] == "recognizer"
    assert ckpt["format_version"] == FORMAT_VERSION
    assert RecognizerConfig(**ckpt["model_config"]) == RecognizerConfig(**TINY, dropout=0.2)
    assert set(ckpt) >= {"feature_config", "standardizer", "alphabet", "data", "optimizer",
                         "trainer", "rng", "train_config", "metrics"}
    assert ckpt["trainer"]["step"] == RESUME_STEPS
    assert all(torch.equal(ckpt["state_dict"][k], v) for k, v in weights.items())
    assert load_checkpoint(out / "last.pt", "recognizer")["kind"] == "recognizer"


def test_corrupt_checkpoints_raise_checkpoint_error_naming_the_file(uninterrupted, tmp_path):
    out, _ = uninterrupted
    noise = tmp_path / "noise.pt"
    noise.write_bytes(torch.randint(0, 256, (4096,), dtype=torch.uint8,
                                    generator=torch.Generator().manual_seed(0)).numpy().tobytes())
    truncated = tmp_path / "truncated.pt"
    data = (out / "last.pt").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    not_a_checkpoint = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), not_a_checkpoint)
    for path in (noise, truncated, not_a_checkpoint, tmp_path / "missing.pt"):
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path, "recognizer")
        assert str(path) in str(info.value)
        assert "\n" not in str(info.value)


def test_checkpoint_of_the_other_kind_is_refused(uninterrupted, tmp_path):
    out, _ = uninterrupted
    with pytest.raises(CheckpointError, match="'recognizer' checkpoint, expected 'synthesizer'"):
        load_checkpoint(out / "last.pt", "synthesizer")
    synth = tmp_path / "synth.pt"
    save_checkpoint({"kind": "synthesizer", "state_dict": {}}, synth)
    task = _resume_task()
    with pytest.raises(CheckpointError, match="synth.pt"):
        init_from(task.model, synth, "recognizer")
    with pytest.raises(CheckpointError, match="synth.pt"):
        Trainer(task, _resume_config(tmp_path, 1)).resume(synth)


def test_exported_fp16_weights_give_the_same_transcriptions(overfit, tmp_path):
    task, out = overfit
    exported = tmp_path / "model.pt"
    export_weights(load_checkpoint(out / "last.pt", "recognizer"), exported)
    ckpt = load_checkpoint(exported, "recognizer")
    assert not {"optimizer", "rng", "trainer"} & set(ckpt)
    floats = [v for v in ckpt["state_dict"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)
    assert exported.stat().st_size < (out / "last.pt").stat().st_size / 4

    net = RecognizerNet(RecognizerConfig(**ckpt["model_config"]))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    assert _decode(net, task) == _decode(task.model, task) == OVERFIT_TEXTS


# --------------------------------------------------------------------------- CLI


def _train_args(tree, out, *extra) -> list[str]:
    return ["train", "recognizer", "--iam-ondb", str(tree), "--out", str(out), "--hidden", "16",
            "--layers", "1", "--batch-size", "2", "--log-every", "1", "--no-progress", *extra]


def test_cli_trains_refuses_to_overwrite_resumes_and_inits(fake_iam_ondb, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "3")) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["step"] == 3
    assert (out / "last.pt").is_file()
    assert [e["step"] for e in _read_log(out) if e["event"] == "step"] == [1, 2, 3]
    first = load_checkpoint(out / "last.pt", "recognizer")
    assert first["model_config"]["hidden"] == 16
    assert first["data"]["train_lines"] == len(load_iam_ondb(fake_iam_ondb.root).split("trainset"))

    before = (out / "last.pt").read_bytes()
    assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "5")) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and len(err.strip().splitlines()) == 1
    assert (out / "last.pt").read_bytes() == before

    assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "5", "--resume")) == 0
    capsys.readouterr()
    log = _read_log(out)
    assert [e["step"] for e in log if e["event"] == "step"] == [1, 2, 3, 4, 5]
    assert [e["step"] for e in log if e["event"] == "epoch"] == [3]  # six lines, batches of 2
    assert load_checkpoint(out / "last.pt")["trainer"]["step"] == 5

    # --init-from takes weights and config from the checkpoint; lr 0 keeps the weights
    init = tmp_path / "init"
    args = _train_args(fake_iam_ondb.root, init, "--max-steps", "1", "--lr", "0",
                       "--init-from", str(out / "last.pt"))
    args[args.index("--hidden") + 1] = "24"  # ignored: the checkpoint's config wins
    assert main(args) == 0
    capsys.readouterr()
    src, new = load_checkpoint(out / "last.pt"), load_checkpoint(init / "last.pt")
    assert new["model_config"] == src["model_config"]
    assert new["trainer"]["step"] == 1
    params = {n for n, _ in RecognizerNet(RecognizerConfig(**src["model_config"]))
              .named_parameters()}
    assert all(torch.equal(new["state_dict"][n], src["state_dict"][n]) for n in params)

    # --init-matching builds the network from the flags (a third stride-2 convolution here)
    # and loads the weights whose names and shapes match: the rest start fresh
    grown = tmp_path / "grown"
    args = _train_args(fake_iam_ondb.root, grown, "--max-steps", "1", "--lr", "0",
                       "--init-from", str(out / "last.pt"), "--init-matching",
                       "--conv-layers", "3")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "fresh: frontend.net.6.weight" in err
    new = load_checkpoint(grown / "last.pt")
    assert new["model_config"] == {**src["model_config"], "conv_layers": 3}
    assert all(torch.equal(new["state_dict"][n], src["state_dict"][n]) for n in params)


def test_cli_resume_keeps_the_runs_own_settings(fake_iam_ondb, tmp_path, capsys):
    """A bare `--resume` continues with the batch size and learning rate the run started
    with, not the command line's defaults; flags given explicitly still win."""
    out = tmp_path / "run"
    assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "2", "--lr", "0.003")) == 0
    resume = ["train", "recognizer", "--iam-ondb", str(fake_iam_ondb.root), "--out", str(out),
              "--resume", "--max-steps", "3", "--no-progress"]
    assert main(resume) == 0
    capsys.readouterr()
    cfg = load_checkpoint(out / "last.pt")["train_config"]
    assert cfg["batch_size"] == 2 and cfg["lr"] == 0.003 and cfg["max_steps"] == 3


def test_cli_runs_with_the_same_seed_are_identical(fake_iam_ondb, tmp_path, capsys):
    for name in ("a", "b"):
        assert main(_train_args(fake_iam_ondb.root, tmp_path / name, "--max-steps", "2")) == 0
    capsys.readouterr()
    a, b = (_without_seconds(_read_log(tmp_path / name)) for name in ("a", "b"))
    assert a == b


def test_cli_resume_without_a_checkpoint_fails_cleanly(fake_iam_ondb, tmp_path, capsys):
    out = tmp_path / "empty"
    assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "1", "--resume")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "last.pt" in err


def test_cli_missing_dataset_says_where_to_register(tmp_path, capsys):
    code = main(["train", "recognizer", "--iam-ondb", "/nonexistent", "--out",
                 str(tmp_path / "run"), "--no-progress"])
    assert code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "/nonexistent" in lines[0] and "register" in lines[0] and REGISTER_URL in lines[0]
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- torchrun


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_data_parallel_on_two_cpu_processes(tmp_path):
    # 5 regular + 3 other usable trainset lines: 4 batches of 2, 2 per rank and epoch
    tree = make_fake_iam_ondb(tmp_path / "iam-ondb", lines_per_split=5).root
    assert len(load_iam_ondb(tree).split("trainset")) == 8  # also fills the cache for both ranks
    out = tmp_path / "ddp"
    _torchrun(tree, out, "--max-steps", "3")
    assert (out / "last.pt").is_file()
    log = _read_log(out)
    assert [e["step"] for e in log if e["event"] == "step"] == [1, 2, 3]  # rank 0 logs alone
    # an epoch is 2 steps: the 4 batches were split between the two ranks
    assert [e["step"] for e in log if e["event"] == "epoch"] == [2]
    assert load_checkpoint(out / "last.pt", "recognizer")["trainer"]["step"] == 3


def _torchrun(tree: Path, out: Path, *extra: str) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           "-m", "handwriting", *_train_args(tree, out, "--threads", "1", *extra)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_torchrun_resume_continues_exactly(tmp_path, capsys):
    tree = make_fake_iam_ondb(tmp_path / "iam-ondb", lines_per_split=5).root
    # a fixed starting point, so that only the resume can make the runs differ
    assert main(_train_args(tree, tmp_path / "init", "--max-steps", "1")) == 0
    capsys.readouterr()
    init = ("--init-from", str(tmp_path / "init" / "last.pt"))
    _torchrun(tree, tmp_path / "whole", "--max-steps", "4", *init)
    _torchrun(tree, tmp_path / "parts", "--max-steps", "1", *init)
    _torchrun(tree, tmp_path / "parts", "--max-steps", "4", "--resume")
    whole, parts = (load_checkpoint(tmp_path / d / "last.pt")["state_dict"]
                    for d in ("whole", "parts"))
    assert _without_seconds(_read_log(tmp_path / "parts")) == _without_seconds(
        _read_log(tmp_path / "whole"))
    assert all(torch.equal(parts[k], v) for k, v in whole.items())


# --------------------------------------------------------------------------- oversampling


def test_lines_with_digits_are_repeated_in_place():
    lines = _lines(["no digits here", "call at 7:45", "none", "in 1987"])
    out = with_digits_oversampled(lines, 3)
    assert [line.text for line in out] == ["no digits here", *["call at 7:45"] * 3, "none",
                                           *["in 1987"] * 3]
    assert with_digits_oversampled(lines, 1) == lines
    with pytest.raises(ValueError, match="factor 0"):
        with_digits_oversampled(lines, 0)


def test_cli_oversamples_digit_lines_and_records_it(fake_iam_ondb, tmp_path, capsys):
    """`--oversample-digits 3` makes each epoch hold the trainset's digit lines three times:
    the epoch is longer by exactly those copies, and the checkpoint says so."""
    train = load_iam_ondb(fake_iam_ondb.root).split("trainset")
    digit_lines = sum(any(c.isdigit() for c in line.text) for line in train)
    assert digit_lines  # the fixture's sentences hold "1984", "10 : 30", "42"
    tiny = ["train", "synthesizer", "--iam-ondb", str(fake_iam_ondb.root), "--hidden", "8",
            "--layers", "1", "--mixtures", "2", "--window-gaussians", "2", "--batch-size", "1",
            "--log-every", "1", "--no-progress", "--epochs", "1"]
    epoch_steps = {}
    for times in (1, 3):
        out = tmp_path / f"x{times}"
        assert main([*tiny, "--out", str(out), "--oversample-digits", str(times)]) == 0
        capsys.readouterr()
        epoch_steps[times] = [e["step"] for e in _read_log(out) if e["event"] == "epoch"]
    assert epoch_steps[3] == [epoch_steps[1][0] + 2 * digit_lines]
    data = load_checkpoint(tmp_path / "x3" / "last.pt")["data"]
    assert data["train_lines"] == len(train)
    assert data["train_items_per_epoch"] == len(train) + 2 * digit_lines

    assert main([*tiny, "--out", str(tmp_path / "bad"), "--oversample-digits", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "0" in err


def test_cli_detokenize_targets_trains_on_the_ink_s_spacing_and_says_so(fake_iam_ondb, tmp_path,
                                                                       capsys):
    """`--detokenize-targets`: the targets and the validation texts are the transcriptions
    with IAM's LOB tokenization undone ("Mr . Grey ." -> "Mr. Grey."), and the checkpoint
    records which texts the network learnt."""
    from handwriting.alphabet import DEFAULT_ALPHABET, detokenize
    from handwriting.data.datasets import RecognizerDataset

    lines = load_iam_ondb(fake_iam_ondb.root).split("trainset")
    tokenized = [ln for ln in lines if detokenize(ln.text) != ln.text]
    assert tokenized
    ds = RecognizerDataset(tokenized, DEFAULT_ALPHABET, detokenized=True)
    assert ds.texts == [detokenize(ln.text) for ln in tokenized]
    assert [DEFAULT_ALPHABET.decode(t.tolist()) for t in ds.targets] == ds.texts
    assert RecognizerDataset(tokenized, DEFAULT_ALPHABET).texts == [ln.text for ln in tokenized]
    for flag, targets in (("--detokenize-targets", "detokenized"), (None, "transcriptions")):
        out = tmp_path / targets
        assert main(_train_args(fake_iam_ondb.root, out, "--max-steps", "1",
                                *([flag] if flag else []))) == 0
        capsys.readouterr()
        assert load_checkpoint(out / "last.pt", "recognizer")["data"]["targets"] == targets
