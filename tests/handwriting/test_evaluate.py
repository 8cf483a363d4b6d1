"""`handwriting evaluate recognizer` on a small fake IAM-OnDB: every scorable line of a split,
or with --with-digits only those that hold a digit, and how the digits read."""

from __future__ import annotations

import json

from tests.fixtures import write_tiny_recognizer


def test_evaluate_recognizer_reports_digits_and_can_keep_only_lines_with_them(
        fake_iam_ondb, tmp_path, capsys):
    from handwriting.cli import main
    from handwriting.data.iam_ondb import load_iam_ondb

    model = write_tiny_recognizer(tmp_path / "rec.pt")
    lines, _ = load_iam_ondb(fake_iam_ondb.root).evaluation_lines("trainset")
    with_digits = [ln for ln in lines if any(c.isdigit() for c in ln.text)]
    assert 0 < len(with_digits) < len(lines)
    args = ["evaluate", "recognizer", "--iam-ondb", str(fake_iam_ondb.root), "--split",
            "trainset", "--model", str(model), "--decoder", "greedy", "--json"]
    assert main(args) == 0
    every = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main([*args, "--with-digits"]) == 0
    only = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    digits = sum(c.isdigit() for ln in lines for c in ln.text)
    assert every["lines"] == len(lines) and every["digits"] == digits
    assert only["lines"] == len(with_digits) and only["digits"] == digits and only["with_digits"]
    assert 0.0 <= only["digit_error_rate"] <= 1.0
    assert only["digit_error_rate"] == every["digit_error_rate"]  # the same digits, read alike


def _reads_the_ink(lines, targets: str):
    """A stand-in recognizer that reads each line exactly as written (its transcription
    detokenized), trained on `targets` ('detokenized' or 'transcriptions')."""
    from types import SimpleNamespace

    from handwriting.alphabet import detokenize

    written = {ln.ink.meta["id"]: detokenize(ln.text) for ln in lines}

    class ReadsTheInk:
        default_decoder, path, word_lm = "beam", "stub", None
        data = {"targets": targets}

        def log_posteriors(self, inks):
            return [ink.meta["id"] for ink in inks]

        def decode(self, line_id, decoder=None, settings=None):
            return [SimpleNamespace(text=written[line_id])]

    return ReadsTheInk()


def test_evaluate_recognizer_reports_rates_with_lob_tokenization_undone(
        fake_iam_ondb, monkeypatch, capsys):
    """Transcriptions like "Mr . Grey on Friday ." hold spaces the ink does not show: a reader
    that reads exactly what was written is charged for them in `cer`/`wer`, and not in
    `cer_detokenized`/`wer_detokenized` (both sides detokenized)."""
    from handwriting.alphabet import detokenize
    from handwriting.cli import main
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.service import Recognizer

    lines, _ = load_iam_ondb(fake_iam_ondb.root).evaluation_lines("trainset")
    tokenized = sum(detokenize(ln.text) != ln.text for ln in lines)
    assert tokenized > 0
    stub = _reads_the_ink(lines, "transcriptions")
    monkeypatch.setattr(Recognizer, "from_checkpoint", classmethod(lambda cls, *a, **k: stub))
    assert main(["evaluate", "recognizer", "--iam-ondb", str(fake_iam_ondb.root), "--split",
                 "trainset", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["cer"] > 0 and out["wer"] > 0
    assert out["cer_detokenized"] == 0 and out["wer_detokenized"] == 0
    assert out["tokenized_references"] == tokenized


def test_tune_decoder_scores_a_network_against_the_texts_it_was_trained_on(
        fake_iam_ondb, monkeypatch, capsys):
    """A network trained on detokenized transcriptions (`train recognizer
    --detokenize-targets`) is tuned against detokenized references; one trained on the
    transcriptions as they are, against those."""
    from handwriting.cli import main
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.service import Recognizer

    lines = load_iam_ondb(fake_iam_ondb.root).split("trainset")
    best = {}
    for targets in ("detokenized", "transcriptions"):
        stub = _reads_the_ink(lines, targets)
        monkeypatch.setattr(Recognizer, "from_checkpoint",
                            classmethod(lambda cls, *a, stub=stub, **k: stub))
        assert main(["tune", "decoder", "--iam-ondb", str(fake_iam_ondb.root), "--model", "x",
                     "--split", "trainset"]) == 0
        result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert result["detokenized"] == (targets == "detokenized")
        best[targets] = result["best_cer"]
    assert best["detokenized"] == 0 < best["transcriptions"]
