"""Checkpoints and runs that can be trusted: checksummed weights, validated configs, tidy
writes and logs, one line and exit 2 for every OS error from the CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import torch

from handwriting import cli
from handwriting.checkpoint import (
    CheckpointError,
    config_from,
    load_checkpoint,
    save_checkpoint,
    weights_digest,
)
from handwriting.cli import main
from handwriting.formats.jsonink import write_json_ink
from handwriting.models.configs import RecognizerConfig
from handwriting.results import models_dir
from handwriting.service import Recognizer, Synthesizer
from handwriting.training.config import TrainConfig
from handwriting.training.loop import Trainer, truncate_log
from handwriting.training.recognizer import RecognizerTask
from tests.fixtures import hershey_ink

SHIPPED = models_dir() / "recognizer.pt"


def _tiny_task() -> RecognizerTask:
    from handwriting.data.iam_ondb import IamLine

    lines = [IamLine(f"h01-000-{i:02d}", "trainset", t, hershey_ink(t))
             for i, t in enumerate(["ab", "the cat", "dog", "a hen"])]
    torch.manual_seed(0)
    return RecognizerTask(lines, lines[:2], RecognizerConfig(conv_channels=8, hidden=8, layers=1))


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    Trainer(_tiny_task(), TrainConfig(out=str(out), batch_size=2, max_steps=2, log_every=1,
                                      progress=False)).fit()
    return out / "last.pt"


def _resave(src: Path, dst: Path, edit) -> Path:
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    edit(ckpt)
    torch.save(ckpt, dst)  # bypasses save_checkpoint: what a crafted or damaged file looks like
    return dst


# ------------------------------------------------------------------ weights


def test_the_shipped_checkpoints_carry_a_weights_checksum():
    for name in ("recognizer.pt", "synthesizer.pt"):
        ckpt = torch.load(models_dir() / name, map_location="cpu", weights_only=True)
        assert ckpt.get("weights_sha256") == weights_digest(ckpt["state_dict"]), name


def test_flipped_bytes_inside_the_weights_are_found(tmp_path):
    data = bytearray(SHIPPED.read_bytes())
    # Corrupt bytes inside the largest tensor's storage (the middle of the file), as a bad
    # disk or download would: the zip container still reads, only the numbers change.
    mid = len(data) // 2
    for i in range(mid, mid + 5000):
        data[i] ^= 0x5A
    bad = tmp_path / "recognizer.pt"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        Recognizer.from_checkpoint(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_nan_weights_are_refused(small_ckpt, tmp_path):
    def poison(ckpt):
        name = next(k for k, v in ckpt["state_dict"].items() if v.is_floating_point())
        ckpt["state_dict"][name][0] = float("nan")
        ckpt.pop("weights_sha256", None)  # a checksum computed over the NaN would match

    bad = _resave(small_ckpt, tmp_path / "nan.pt", poison)
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_checkpoint(bad, "recognizer")


def test_checkpoints_saved_before_checksums_still_load(small_ckpt, tmp_path):
    old = _resave(small_ckpt, tmp_path / "old.pt", lambda c: c.pop("weights_sha256"))
    assert load_checkpoint(old, "recognizer")["kind"] == "recognizer"


# ------------------------------------------------------------------ configs


@pytest.mark.parametrize("edit, match", [
    (lambda c: c["model_config"].update(hidden=1e9), "hidden = 1000000000.0 is not an integer"),
    (lambda c: c["model_config"].update(hidden=10**9), "out of range"),
    (lambda c: c["model_config"].update(hidden=100000), "do not match the config"),
    (lambda c: c["model_config"].update(dropout=float("nan")), "finite"),
    (lambda c: c["model_config"].update(colour="red"), "unknown keys colour"),
    (lambda c: c.pop("standardizer"), "lacks standardizer"),
    (lambda c: c.update(model_config=[1, 2]), "model_config must be a dict"),
], ids=["float-hidden", "huge-hidden", "mismatched-hidden", "nan", "unknown-key",
        "missing-key", "not-a-dict"])
def test_crafted_configs_give_one_line_naming_the_file(small_ckpt, tmp_path, edit, match):
    bad = _resave(small_ckpt, tmp_path / "crafted.pt", edit)
    with pytest.raises(CheckpointError, match=match) as info:
        Recognizer.from_checkpoint(bad, use_lm=False)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_crafted_config_from_the_cli_exits_2(small_ckpt, tmp_path, capsys):
    bad = _resave(small_ckpt, tmp_path / "crafted.pt",
                  lambda c: c["model_config"].update(hidden=1e9))
    ink = tmp_path / "line.json"
    write_json_ink(hershey_ink("ab"), ink)
    assert main(["recognize", str(ink), "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("handwriting: error: ") and str(bad) in err
    assert len(err.strip().splitlines()) == 1


def test_config_from_takes_defaults_for_keys_older_checkpoints_lack():
    assert config_from("x.pt", RecognizerConfig, {"hidden": 32}) == RecognizerConfig(hidden=32)


def test_synthesizer_checks_its_config_too(tmp_path):
    src = models_dir() / "synthesizer.pt"
    bad = _resave(src, tmp_path / "synth.pt", lambda c: c["model_config"].update(mixtures=-3))
    with pytest.raises(CheckpointError, match="mixtures = -3 is out of range"):
        Synthesizer.from_checkpoint(bad)


# ------------------------------------------------------------------ tidy writes


def test_save_removes_temp_files_a_killed_save_left(tmp_path):
    stale = tmp_path / "last.ptabc123.tmp"
    stale.write_bytes(b"x" * 1000)
    other = tmp_path / "notes.tmp"  # not ours: kept
    other.write_text("keep")
    save_checkpoint({"kind": "recognizer", "state_dict": {"w": torch.ones(2)}}, tmp_path / "last.pt")
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "notes.tmp"]


def test_save_fsyncs_before_the_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    save_checkpoint({"kind": "recognizer", "state_dict": {}}, tmp_path / "a.pt")
    assert calls.index("fsync") < calls.index("replace")
    assert calls[-1] == "fsync"  # the folder, so the rename itself is durable


def test_resume_truncates_the_log_to_the_resumed_step(tmp_path):
    cfg = dict(batch_size=2, log_every=1, progress=False, out=str(tmp_path))
    Trainer(_tiny_task(), TrainConfig(**cfg, max_steps=2)).fit()
    shutil.copy(tmp_path / "last.pt", tmp_path / "at2.pt")
    Trainer(_tiny_task(), TrainConfig(**cfg, max_steps=4)).fit()  # a fresh run, logs 1..4
    # The process was killed after step 4 with its last checkpoint at step 2:
    shutil.copy(tmp_path / "at2.pt", tmp_path / "last.pt")
    with open(tmp_path / "log.jsonl", "a") as fh:
        fh.write('{"event": "step", "st')  # cut short by the kill
    trainer = Trainer(_tiny_task(), TrainConfig(**cfg, max_steps=4))
    trainer.resume(tmp_path / "last.pt")
    trainer.fit()
    steps = [json.loads(x)["step"] for x in (tmp_path / "log.jsonl").read_text().splitlines()
             if json.loads(x)["event"] == "step"]
    assert steps[-4:] == [1, 2, 3, 4][-4:] and steps.count(3) == 1 and steps.count(4) == 1


def test_truncate_log_keeps_events_without_steps(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"event": "start"}\n{"event": "step", "step": 1}\n{"event": "step", "step": 2}\n')
    truncate_log(log, 1)
    assert log.read_text().splitlines() == ['{"event": "start"}', '{"event": "step", "step": 1}']


def test_trainer_leaves_the_process_group_it_joined(monkeypatch, tmp_path):
    import handwriting.training.loop as loop

    port = __import__("socket").socket()
    port.bind(("127.0.0.1", 0))
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port.getsockname()[1]))
    port.close()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setattr(loop, "_dist_info", lambda: (0, 2))  # take the multi-process path
    trainer = Trainer(_tiny_task(), TrainConfig(out=str(tmp_path), progress=False))
    assert torch.distributed.is_initialized()
    trainer.close()
    assert not torch.distributed.is_initialized()


# ------------------------------------------------------------------ OS errors from the CLI


def _one_line_exit_2(capsys, argv, *expect):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("handwriting: error: "), err
    assert len(err.strip().splitlines()) == 1, err
    for e in expect:
        assert e in err, err
    return err


def test_output_naming_a_directory_is_one_line(tmp_path, capsys):
    folder = tmp_path / "looks-like.svg"
    folder.mkdir()
    _one_line_exit_2(capsys, ["synthesize", "hi", "-o", str(folder)], str(folder))


def test_out_dir_naming_a_file_is_one_line(tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("hello\n")
    f = tmp_path / "afile"
    f.write_text("x")
    _one_line_exit_2(capsys, ["synthesize", "--text-file", str(texts), "--out-dir", str(f)],
                     str(f))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _one_line_exit_2(capsys, ["synthesize", "hi", "-o", str(ro / "x.svg")], str(ro))


def test_every_oserror_becomes_one_line(tmp_path, capsys, monkeypatch):
    def disk_full(args):
        raise OSError(28, "No space left on device", str(tmp_path / "out.svg"))

    monkeypatch.setattr(cli.synthesize, "cmd_synthesize", disk_full)
    _one_line_exit_2(capsys, ["synthesize", "hi", "-o", str(tmp_path / "out.svg")],
                     "out.svg: No space left on device")


def test_training_refuses_an_unwritable_out_before_loading_data(tmp_path, capsys, monkeypatch):
    import handwriting.data.iam_ondb as iam

    monkeypatch.setattr(iam, "load_iam_ondb", lambda *a, **k: pytest.fail("data was loaded"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_exit_2(capsys, ["train", "recognizer", "--out", str(blocker / "run"),
                              "--no-progress"], "is a file")
    assert not (blocker.parent / "run").exists()


def test_errors_after_parsing_name_the_file(tmp_path, capsys):
    good, empty = tmp_path / "good.json", tmp_path / "empty.json"
    write_json_ink(hershey_ink("ab"), good)
    empty.write_text('{"format": "handwriting-ink", "version": 1, "strokes": []}')
    _one_line_exit_2(capsys, ["recognize", str(good), str(empty)], str(empty))


def test_text_file_is_validated_before_anything_is_written(tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("hello\n" + "a" * 6000 + "\n")
    out = tmp_path / "out"
    _one_line_exit_2(capsys, ["synthesize", "--text-file", str(texts), "--out-dir", str(out)],
                     "texts.txt, line 2")
    assert not out.exists() or not any(out.iterdir())


def test_text_file_naming_a_folder_is_one_line(tmp_path, capsys):
    _one_line_exit_2(capsys, ["synthesize", "--text-file", str(tmp_path), "--out-dir",
                              str(tmp_path / "o")], str(tmp_path))


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A real 4 KB file system (needs root and mount; skipped elsewhere)."""
    import subprocess

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tiny_tmpfs, capsys):
    out = tiny_tmpfs / "x.png"
    _one_line_exit_2(capsys, ["synthesize", "hello there my friend, how are you", "-o",
                              str(out)], f"{out}: No space left on device")
    assert list(tiny_tmpfs.iterdir()) == []


def test_a_read_only_file_system_is_one_line(tiny_tmpfs, capsys):
    import subprocess

    subprocess.run(["mount", "-o", "remount,ro", str(tiny_tmpfs)], check=True)
    _one_line_exit_2(capsys, ["synthesize", "hi", "-o", str(tiny_tmpfs / "x.svg")],
                     "Read-only file system")
