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
