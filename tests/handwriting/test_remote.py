"""`RemoteService`: a service in a child process answers like the service itself, raises
what it raises, stops a stream when asked, and comes back after its process died; its typed
proxies and the services follow one protocol."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from handwriting.alphabet import DEFAULT_ALPHABET, IAM_CHARS
from handwriting.checkpoint import CheckpointError, save_checkpoint
from handwriting.features import FeatureConfig, Standardizer, point_features, preprocess
from handwriting.ink import Ink
from handwriting.models.configs import RecognizerConfig, SynthesizerConfig
from handwriting.models.recognizer import RecognizerNet
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.protocols import PROTOCOLS, methods
from handwriting.remote import PROXIES, RemoteError, RemoteService
from handwriting.service import Recognizer, Synthesizer
from tests.fixtures import hershey_ink


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote")
    torch.manual_seed(0)
    cfg = RecognizerConfig(hidden=16, layers=1, conv_channels=16)
    std = Standardizer.fit([point_features(preprocess(hershey_ink("hello world")))])
    save_checkpoint({"kind": "recognizer", "model_config": cfg.to_dict(),
                     "feature_config": FeatureConfig().to_dict(), "standardizer": std.to_dict(),
                     "alphabet": IAM_CHARS, "metrics": {"val_cer": 0.5},
                     "state_dict": RecognizerNet(cfg).state_dict()}, folder / "recognizer.pt")
    scfg = SynthesizerConfig(hidden=32, layers=2, mixtures=4, window_gaussians=3)
    save_checkpoint({"kind": "synthesizer", "model_config": scfg.to_dict(),
                     "feature_config": {"spacing": 0.14, "deslope": True}, "offset_scale": 0.1,
                     "alphabet": DEFAULT_ALPHABET.chars,
                     "state_dict": SynthesizerNet(scfg).state_dict()}, folder / "synthesizer.pt")
    return folder


@pytest.fixture(scope="module")
def remote_recognizer(checkpoints):
    service = RemoteService("recognizer", checkpoints / "recognizer.pt", threads=1)
    yield service
    service.close()


@pytest.fixture(scope="module")
def remote_synthesizer(checkpoints):
    service = RemoteService("synthesizer", checkpoints / "synthesizer.pt", threads=1)
    yield service
    service.close()


def test_recognition_in_the_child_equals_recognition_here(checkpoints, remote_recognizer):
    local = Recognizer.from_checkpoint(checkpoints / "recognizer.pt")
    ink = hershey_ink("the cat")
    there, here = remote_recognizer.recognize(ink), local.recognize(ink)
    assert there.text == here.text
    assert [h.text for h in there.nbest] == [h.text for h in here.nbest]
    np.testing.assert_allclose(there.log_probs, here.log_probs, atol=1e-5)
    assert remote_recognizer.metrics == {"val_cer": 0.5}
    assert remote_recognizer.alphabet.chars == local.alphabet.chars
    assert remote_recognizer.path == checkpoints / "recognizer.pt"


def test_the_child_groups_a_page_as_grouping_does_here(remote_recognizer):
    """The app groups its page in the recognizer's process (off its GUI thread)."""
    from handwriting.geometry import join_lines
    from handwriting.grouping import group_lines

    page = join_lines([hershey_ink("the cat sat"), hershey_ink("on the mat")])
    assert remote_recognizer.group_lines(page) == group_lines(page)
    assert len(group_lines(page)) == 2


def test_the_services_errors_come_back_and_the_child_goes_on(remote_recognizer):
    with pytest.raises(ValueError, match="ink is empty"):
        remote_recognizer.recognize(Ink(()))
    with pytest.raises(AttributeError, match="no attribute 'net'"):
        remote_recognizer.net  # noqa: B018 - only the service API crosses over
    with pytest.raises(ValueError, match="recognizer process has no call 'read'"):
        remote_recognizer.call("read", [hershey_ink("on")])  # not in the protocol
    assert remote_recognizer.recognize(hershey_ink("on")).nbest  # still serving


@pytest.mark.parametrize("kind", sorted(PROTOCOLS))
def test_services_and_proxies_follow_the_protocol_signature_for_signature(kind):
    service = {"recognizer": Recognizer, "synthesizer": Synthesizer}[kind]
    for name, method in methods(PROTOCOLS[kind]).items():
        expected = inspect.signature(method)
        assert inspect.signature(getattr(service, name)) == expected, (kind, name)
        assert inspect.signature(getattr(PROXIES[kind], name)) == expected, (kind, name)
    offered = {n for n, f in vars(PROXIES[kind]).items()
               if inspect.isfunction(f) and not n.startswith("_")}
    assert offered == set(methods(PROTOCOLS[kind]))  # a proxy offers the protocol, no more


def test_a_missing_checkpoint_fails_at_start_naming_the_file(tmp_path):
    with pytest.raises(CheckpointError, match="nothing.pt: checkpoint not found"):
        RemoteService("recognizer", tmp_path / "nothing.pt")
    with pytest.raises(ValueError, match="unknown service kind 'painter'"):
        RemoteService("painter", tmp_path / "nothing.pt")


def test_a_stream_from_the_child_draws_what_one_here_draws(checkpoints, remote_synthesizer):
    local = Synthesizer.from_checkpoint(checkpoints / "synthesizer.pt")
    plan = local.plan("two lines\nof text")
    there = list(remote_synthesizer.stream_chunks(plan, 0.75, None, 3, keep_frames=False))
    here = list(local.stream_chunks(plan, 0.75, None, 3, keep_frames=False))
    assert there[-1].steps == here[-1].steps
    for b in range(2):
        np.testing.assert_allclose(np.concatenate([c.points[b] for c in there]),
                                   np.concatenate([c.points[b] for c in here]), atol=1e-5)
    assert there[-1].finished.all() and not any(c.frames for c in there)


def test_should_stop_and_closing_early_stop_the_child(remote_synthesizer):
    plan = remote_synthesizer.plan("a line long enough to take many steps")
    full = list(remote_synthesizer.stream_chunks(plan, 0.75, None, 1, seconds=0.0))
    seen = []

    def should_stop() -> bool:
        return len(seen) >= 3

    for chunk in remote_synthesizer.stream_chunks(plan, 0.75, None, 1, should_stop=should_stop,
                                                  seconds=0.0):
        seen.append(chunk)
    assert len(seen) == 3 < len(full)
    stream = remote_synthesizer.stream_chunks(plan, 0.75, None, 1, seconds=0.0)
    first = next(stream)
    stream.close()  # the child stops; the next call is answered, not a stale chunk
    np.testing.assert_array_equal(first.points[0], full[0].points[0])
    assert remote_synthesizer.plan("next").lines == ("next",)


def test_a_dead_child_is_reported_then_replaced(checkpoints):
    service = RemoteService("recognizer", checkpoints / "recognizer.pt", threads=1)
    try:
        service._proc.kill()
        service._proc.join(5)
        with pytest.raises(RemoteError, match="recognizer process stopped"):
            service.recognize(hershey_ink("on"))
        assert not service.alive
        assert service.recognize(hershey_ink("on")).nbest  # a new child, loaded afresh
        assert service.alive
    finally:
        service.close()


def test_a_client_process_never_loads_torch(checkpoints):
    """The app's process only unpickles plain results (`results`, `traces`): ~200 MB and
    1-2 s of start-up it does not pay. Checked in a fresh interpreter."""
    code = f"""
import sys
from handwriting.remote import RemoteService
from tests.fixtures import hershey_ink
rec = RemoteService("recognizer", {str(checkpoints / "recognizer.pt")!r}, threads=1)
syn = RemoteService("synthesizer", {str(checkpoints / "synthesizer.pt")!r}, threads=1)
ink = hershey_ink("on")
ins = rec.inspect(ink)
rec.saliency(ink, ins, 0)
assert rec.recognize(ink).nbest and ins.trace.layers
chunks = list(syn.stream_chunks(syn.plan("hi"), 0.75, None, 1))
assert chunks[-1].finished.all() and chunks[0].frames
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch")
assert not loaded, loaded[:5]
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_model_process_does_not_run_the_parents_main_script(checkpoints, tmp_path):
    """"spawn" would import the parent's main script again in the child (for the app: all of
    PySide6 in every model process); the child is started without it, so even a script
    without the `if __name__ == "__main__":` guard runs once and works."""
    script = tmp_path / "unguarded.py"
    runs = tmp_path / "runs.txt"
    script.write_text("import sys\n"
                      f"open({str(runs)!r}, 'a').write('run\\n')\n"
                      "from handwriting.remote import RemoteService\n"
                      f"r = RemoteService('recognizer', {str(checkpoints / 'recognizer.pt')!r})\n"
                      "from tests.fixtures import hershey_ink\n"
                      "assert r.recognize(hershey_ink('on')).nbest\n"
                      "r.close()\n")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=120,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert result.returncode == 0, result.stderr[-2000:]
    assert runs.read_text() == "run\n"
