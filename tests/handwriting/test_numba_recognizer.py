"""The torch-free inference path: checkpoints read without torch (`ptfile`,
`checkpoint.read_checkpoint`), the recognizer's NumPy/Numba forward pass against the torch
network, and model processes that never import torch."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.checkpoint import (
    CheckpointError,
    array_digest,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
    weights_digest,
)
from handwriting.features import point_features, preprocess
from handwriting.models import numba_recognizer
from handwriting.models.configs import RecognizerConfig, SynthesizerConfig
from handwriting.models.numpy_sampler import FastWeights, synthesizer_shapes
from handwriting.models.recognizer import RecognizerNet
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.ptfile import PtFileError, read_pt
from handwriting.service import Recognizer, Synthesizer
from tests.fixtures import hershey_ink, write_tiny_recognizer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not numba_recognizer.available(), reason="needs Numba")


def test_read_pt_gives_what_torch_load_gives(tmp_path):
    torch.manual_seed(0)
    state = {"w": torch.randn(3, 4).half(), "t": torch.randn(5, 2).t(),  # not contiguous
             "n": torch.tensor(7), "e": torch.zeros(0, 3), "b": torch.tensor([True, False])}
    payload = {"kind": "x", "nested": {"a": [1, 2.5, "s", None]}, "state_dict": state}
    torch.save(payload, tmp_path / "x.pt")
    got = read_pt(tmp_path / "x.pt")
    assert got["kind"] == "x" and got["nested"] == payload["nested"]
    for k, t in state.items():
        assert got["state_dict"][k].dtype == t.numpy().dtype
        assert np.array_equal(got["state_dict"][k], t.numpy()), k
    assert array_digest(got["state_dict"]) == weights_digest(state)


def test_read_pt_refuses_what_is_not_plain_data(tmp_path):
    torch.save({"f": np.float64}, tmp_path / "g.pt")  # a global outside the allowed ones
    with pytest.raises(PtFileError, match="refusing to load"):
        read_pt(tmp_path / "g.pt")
    (tmp_path / "z.pt").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(PtFileError):
        read_pt(tmp_path / "z.pt")


def test_read_checkpoint_checks_what_load_checkpoint_checks(tmp_path):
    path = write_tiny_recognizer(tmp_path / "r.pt")
    ckpt = read_checkpoint(path, "recognizer")
    ref = load_checkpoint(path, "recognizer")
    assert ckpt.keys() == ref.keys()
    with pytest.raises(CheckpointError, match="expected 'synthesizer'"):
        read_checkpoint(path, "synthesizer")
    # flip a byte inside one stored tensor: the checksum names the file
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in items if "/data/" in n and len(items[n]) > 64)
    raw = bytearray(items[name])
    raw[10] ^= 0xFF
    items[name] = bytes(raw)
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(bad, "w") as z:
        for n, b in items.items():
            z.writestr(n, b)
    with pytest.raises(CheckpointError, match=r"bad\.pt: weights do not match their checksum"):
        read_checkpoint(bad, "recognizer")


@pytest.mark.parametrize("cfg", [RecognizerConfig(hidden=16, layers=2, conv_channels=16),
                                 RecognizerConfig(hidden=24, layers=1, conv_channels=8,
                                                  conv_layers=1, kernel=3)])
def test_numba_forward_matches_the_torch_network(cfg):
    torch.manual_seed(1)
    net = RecognizerNet(cfg).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so folding them is tested
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    weights = numba_recognizer.RecognizerWeights.from_state(net.state_dict(), cfg)
    for n in (7, 40, 333):
        x = torch.randn(1, n, cfg.n_features)
        with torch.no_grad():
            lp, lens = net(x, torch.tensor([n]))
        ref = lp[: int(lens[0]), 0].numpy()
        got = numba_recognizer.forward(weights, x[0].numpy())
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=2e-5)
        # the directions side by side in two threads compute exactly the same
        assert np.array_equal(numba_recognizer.forward(weights, x[0].numpy(), parallel=True),
                              got)


def test_an_fp16_checkpoint_runs_its_recurrences_on_halves_with_the_same_output():
    cfg = RecognizerConfig(hidden=16, layers=2, conv_channels=16)
    torch.manual_seed(2)
    net = RecognizerNet(cfg).eval()
    full = numba_recognizer.RecognizerWeights.from_state(net.state_dict(), cfg)
    assert all(u.dtype == np.float32 for layer in full.lstm for _, _, u in layer)
    half = numba_recognizer.RecognizerWeights.from_state(
        {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, cfg)
    assert all(u.dtype == np.uint16 for layer in half.lstm for _, _, u in layer)
    as_float = numba_recognizer.RecognizerWeights(
        half.conv, half.kernel, tuple(tuple((w, b, u.view(np.float16).astype(np.float32))
                                            for w, b, u in layer) for layer in half.lstm),
        half.head)
    x = torch.randn(90, cfg.n_features).numpy()
    # a half widened in the product is the float32 it stands for: the very same numbers
    assert np.array_equal(numba_recognizer.forward(half, x), numba_recognizer.forward(as_float, x))


def test_weights_that_do_not_fit_the_config_are_named(tmp_path):
    path = write_tiny_recognizer(tmp_path / "r.pt")
    ckpt = load_checkpoint(path)
    ckpt["model_config"]["hidden"] = 17
    save_checkpoint(ckpt, tmp_path / "wrong.pt")
    with pytest.raises(CheckpointError, match=r"wrong\.pt: weights do not match the config"):
        Recognizer.from_checkpoint(tmp_path / "wrong.pt", use_lm=False)


def test_recognizer_engines_agree_and_adapted_weights_reach_the_numba_engine(tmp_path):
    path = write_tiny_recognizer(tmp_path / "r.pt")
    fast = Recognizer.from_checkpoint(path, use_lm=False)
    ref = Recognizer.from_checkpoint(path, use_lm=False, engine="torch")
    assert fast.engine == "numba" and ref.engine == "torch"
    ink = hershey_ink("hello")
    np.testing.assert_allclose(fast.log_posteriors([ink])[0], ref.log_posteriors([ink])[0],
                               atol=2e-5)
    before = fast.recognize(ink).log_probs
    new = RecognizerNet(fast.config)  # other weights, as adaptation sets them
    fast.net = new.eval()
    x = fast.standardizer(point_features(preprocess(ink, fast.feature_config)))
    with torch.no_grad():
        lp, lens = new(torch.from_numpy(x)[None], torch.tensor([len(x)]))
    after = fast.recognize(ink).log_probs
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, lp[: int(lens[0]), 0].numpy(), atol=2e-5)


def test_synthesizer_fast_weights_from_arrays_match_those_from_the_network():
    torch.manual_seed(2)
    cfg = SynthesizerConfig(hidden=8, layers=3, mixtures=3, window_gaussians=2, n_chars=6)
    net = SynthesizerNet(cfg)
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == synthesizer_shapes(cfg)
    a = FastWeights.from_net(net)
    b = FastWeights.from_state({k: v.numpy() for k, v in net.state_dict().items()}, cfg)
    for la, lb in zip(a.lstm, b.lstm, strict=True):
        assert la.keys() == lb.keys() and all(np.array_equal(la[k], lb[k]) for k in la)
    assert np.array_equal(a.head["h"], b.head["h"]) and np.array_equal(a.window["one"],
                                                                      b.window["one"])


def test_synthesizer_loads_and_writes_without_its_torch_network(tmp_path):
    cfg = SynthesizerConfig(hidden=16, layers=2, mixtures=3, window_gaussians=2)
    save_checkpoint({"kind": "synthesizer", "model_config": cfg.to_dict(),
                     "feature_config": {"spacing": 0.14, "deslope": True}, "offset_scale": 0.1,
                     "alphabet": DEFAULT_ALPHABET.chars,
                     "state_dict": SynthesizerNet(cfg).state_dict()}, tmp_path / "s.pt")
    syn = Synthesizer.from_checkpoint(tmp_path / "s.pt", styles_path=tmp_path / "none.npz")
    inks = syn.write("hi", seed=3)
    assert syn._net is None and len(inks) == 1 and inks[0].num_points > 0


def test_model_processes_never_import_torch(tmp_path):
    """What a model process runs (`remote.load` + the calls the app makes), in a fresh
    interpreter: no torch module is loaded, also when self-checking reads candidates back."""
    rec = write_tiny_recognizer(tmp_path / "recognizer.pt")
    code = f"""
import sys
from pathlib import Path
from handwriting import remote
from tests.fixtures import hershey_ink
r = remote.load("recognizer", Path({str(rec)!r}), 1)
assert r.recognize(hershey_ink("on")).nbest
s = remote.load("synthesizer", Path({str(ROOT / 'models' / 'synthesizer.pt')!r}), 1)
s._reader = r
s.warm_up()
assert s.write("on", seed=1, candidates=2)
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch")
assert not loaded, loaded[:5]
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def _model_process_run(skip: bool) -> dict:
    """Recognize and write in a fresh interpreter, as a model process does, with or without
    `skip_blas_probe`: what it read and wrote, and whether SciPy's linalg got loaded."""
    code = f"""
import json, sys
from pathlib import Path
from handwriting import remote
from handwriting.models.numba_startup import skip_blas_probe
from tests.fixtures import hershey_ink
if {skip}:
    skip_blas_probe()
r = remote.load("recognizer", Path({str(ROOT / 'models' / 'recognizer.pt')!r}), 1)
rec = r.recognize(hershey_ink("the cat"))
s = remote.load("synthesizer", Path({str(ROOT / 'models' / 'synthesizer.pt')!r}), 1)
ink = s.write("on", seed=1, candidates=1)[0]
print(json.dumps({{"nbest": [h.text for h in rec.nbest], "lp": rec.log_probs.tolist(),
                  "ink": ink.coords().tolist(), "scipy": "scipy.linalg" in sys.modules}}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_model_processes_skip_scipy_and_compute_the_same():
    """Numba's BLAS probe imported scipy.linalg (~0.4 s, ~20 MB) into each model process for
    calls the kernels never make; skipped, the results are the same to the bit."""
    plain, skipped = _model_process_run(False), _model_process_run(True)
    assert plain["scipy"] and not skipped["scipy"]
    assert skipped["nbest"] == plain["nbest"]
    assert skipped["lp"] == plain["lp"] and skipped["ink"] == plain["ink"]
