"""Tests for IAM-OnDB preparation: on generated downloads with every known defect, and
(marked `dataset`) on the real development copy when it is present."""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.data import iam_ondb
from handwriting.data.iam_ondb import (
    EXCLUSION_REASONS,
    REGISTER_URL,
    SPLITS,
    DatasetError,
    alphabet_coverage,
    load_iam_ondb,
    locate,
    source_hash,
)
from tests.fixtures import make_fake_iam_ondb


def _refuse_prepare(*args, **kwargs):
    raise AssertionError("_prepare was called: the cache was not used")


def _lines(ds) -> list[tuple]:
    return [(ln.id, ln.split, ln.text, ln.ink.coords().tolist()) for ln in
            sorted(ds.lines, key=lambda ln: ln.id)]


@pytest.fixture(scope="module")
def loaded(fake_iam_ondb):
    return load_iam_ondb(fake_iam_ondb.root)


# --------------------------------------------------------------------------- generated data


def test_raw_line_and_form_counts_match_what_was_written(fake_iam_ondb, loaded):
    assert loaded.raw_lines == fake_iam_ondb.raw_lines
    assert loaded.forms_listed == fake_iam_ondb.forms_listed
    assert all(loaded.raw_lines[s] > 0 for s in SPLITS)


def test_usable_lines_per_split(fake_iam_ondb, loaded):
    for s in SPLITS:
        assert sorted(ln.id for ln in loaded.split(s)) == fake_iam_ondb.usable(s)
        assert all(ln.split == s for ln in loaded.split(s))
    with pytest.raises(ValueError, match="unknown split"):
        loaded.split("validation")


def test_forms_in_no_task_list_are_kept_outside_every_split(fake_iam_ondb, loaded):
    unlisted = sorted(ln.id for ln in loaded.lines if ln.split is None)
    assert unlisted == fake_iam_ondb.usable(None) and unlisted
    assert sum(loaded.raw_lines.values()) == sum(
        1 for s in fake_iam_ondb.split_of.values() if s is not None
    )


@pytest.mark.parametrize(
    "reason",
    ["struck_out", "placeholder", "no_transcription", "misaligned", "width_outlier",
     "too_little_ink", "unreadable"],
)
def test_each_defect_is_excluded_with_its_reason(fake_iam_ondb, loaded, reason):
    expected = sorted(i for i, r in fake_iam_ondb.defects.items() if r == reason)
    assert expected, f"the generator wrote no {reason} line"
    assert reason in EXCLUSION_REASONS
    got = sorted(e["id"] for e in loaded.excluded if e["reason"] == reason)
    assert got == expected
    for e in loaded.excluded:
        if e["id"] in expected:
            assert e["split"] == fake_iam_ondb.split_of[e["id"]]
    assert not {ln.id for ln in loaded.lines} & set(expected)


def test_lines_hold_their_transcription_and_ink(fake_iam_ondb, loaded):
    for ln in loaded.lines:
        assert ln.text == fake_iam_ondb.texts[ln.id]
        assert ln.ink.num_points == fake_iam_ondb.points[ln.id]
        # Stroke times are relative to the line's first point, and increase.
        t = ln.ink.times()
        assert t[0] == 0 and np.all(np.diff(t) >= 0)
        x0, y0, x1, y1 = ln.ink.bounds()
        assert 900 <= x0 < x1 <= 8000 and 500 <= y0 < y1 <= 1500
    assert alphabet_coverage(loaded) == ""


def test_summary(fake_iam_ondb, loaded):
    summary = loaded.summary()
    assert summary["source_hash"] == loaded.source_hash
    assert list(summary["splits"]) == list(SPLITS)
    for s, row in summary["splits"].items():
        usable = fake_iam_ondb.usable(s)
        texts = [fake_iam_ondb.texts[i] for i in usable]
        defects = sorted(i for i, r in fake_iam_ondb.defects.items()
                         if fake_iam_ondb.split_of[i] == s)
        assert row["forms"] == fake_iam_ondb.forms_listed[s]
        assert row["lines"] == fake_iam_ondb.raw_lines[s]
        assert row["usable"] == len(usable)
        assert row["points"] == sum(fake_iam_ondb.points[i] for i in usable)
        assert row["characters"] == sum(len(t) for t in texts)
        assert row["charset"] == "".join(sorted(set("".join(texts))))
        assert row["excluded"] == len(defects) == row["lines"] - row["usable"]
        assert sorted(row["excluded_lines"]) == defects
        assert sum(row["excluded_reasons"].values()) == len(defects)
    assert summary["splits"]["testset_v"]["excluded_reasons"] == {"width_outlier": 1}


def test_tarballs_and_extracted_trees_give_the_same_lines(loaded, fake_iam_ondb_extracted):
    assert (fake_iam_ondb_extracted.root / "lineStrokes").is_dir()
    assert (fake_iam_ondb_extracted.root / "trainset.txt").is_file()
    extracted = load_iam_ondb(fake_iam_ondb_extracted.root, cache=False)
    assert _lines(extracted) == _lines(loaded)
    assert extracted.excluded == loaded.excluded
    assert extracted.raw_lines == loaded.raw_lines


def test_task_lists_found_in_splits_folder_or_top_level(fake_iam_ondb, fake_iam_ondb_extracted):
    nested, top = locate(fake_iam_ondb.root), locate(fake_iam_ondb_extracted.root)
    assert set(nested.splits) == set(top.splits) == set(SPLITS)
    for s in SPLITS:
        assert nested.splits[s] == fake_iam_ondb.root / "splits" / f"{s}.txt"
        assert top.splits[s] == fake_iam_ondb_extracted.root / f"{s}.txt"
    assert nested.strokes.name == "lineStrokes-all.tar.gz"
    assert top.strokes.name == "lineStrokes"


def test_held_back_testset_f_is_listed_but_has_no_lines(fake_iam_ondb_dev):
    ds = load_iam_ondb(fake_iam_ondb_dev.root, cache=False)
    assert ds.raw_lines["testset_f"] == 0 and ds.forms_listed["testset_f"] == 1
    assert ds.split("testset_f") == []
    assert ds.raw_lines == fake_iam_ondb_dev.raw_lines


def test_second_load_comes_from_the_cache(fake_iam_ondb, loaded, monkeypatch):
    assert loaded.cache_path is not None and (loaded.cache_path / "meta.json").is_file()
    assert loaded.cache_path.is_relative_to(iam_ondb.cache_root())
    monkeypatch.setattr(iam_ondb, "_prepare", _refuse_prepare)  # the cache, or a failure
    again = load_iam_ondb(fake_iam_ondb.root)
    assert again.cache_path == loaded.cache_path
    assert _lines(again) == _lines(loaded)
    assert again.excluded == loaded.excluded
    assert again.summary() == loaded.summary()


def test_cache_false_prepares_and_writes_nothing(fake_iam_ondb, loaded):
    ds = load_iam_ondb(fake_iam_ondb.root, cache=False)
    assert ds.cache_path is None
    assert _lines(ds) == _lines(loaded)


def test_session_cache_is_isolated_from_home(loaded):
    assert not iam_ondb.cache_root().is_relative_to(Path.home() / ".cache")


def test_identical_sources_share_a_hash(fake_iam_ondb, tmp_path):
    twin = make_fake_iam_ondb(tmp_path)
    assert source_hash(locate(twin.root)) == source_hash(locate(fake_iam_ondb.root))


def test_a_changed_source_gets_a_new_hash(tmp_path, monkeypatch):
    fake = make_fake_iam_ondb(tmp_path, lines_per_split=1)
    first = load_iam_ondb(fake.root)
    with open(fake.root / "splits" / "trainset.txt", "a") as fh:
        fh.write("n01-999x\n")  # move the unlisted form into the trainset
    assert source_hash(locate(fake.root)) != first.source_hash
    monkeypatch.setattr(iam_ondb, "_prepare", _refuse_prepare)
    with pytest.raises(AssertionError, match="cache was not used"):
        load_iam_ondb(fake.root)
    monkeypatch.undo()
    second = load_iam_ondb(fake.root)
    assert second.cache_path != first.cache_path
    assert second.raw_lines["trainset"] == first.raw_lines["trainset"] + 2


def test_a_touched_extracted_file_gets_a_new_hash(tmp_path):
    # Extracted trees are hashed by name, size and mtime (reading every byte is slow).
    fake = make_fake_iam_ondb(tmp_path, lines_per_split=1, as_tarballs=False)
    before = source_hash(locate(fake.root))
    line = next((fake.root / "lineStrokes").rglob("*.xml"))
    st = line.stat()
    os.utime(line, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert source_hash(locate(fake.root)) != before


def test_missing_folder_says_where_to_register(tmp_path):
    with pytest.raises(DatasetError, match="register") as info:
        load_iam_ondb(tmp_path / "nowhere")
    assert REGISTER_URL in str(info.value)
    assert str(tmp_path / "nowhere") in str(info.value)


@pytest.mark.parametrize("split", SPLITS)
def test_missing_task_list_is_named(tmp_path, split):
    fake = make_fake_iam_ondb(tmp_path, lines_per_split=1)
    (fake.root / "splits" / f"{split}.txt").unlink()
    with pytest.raises(DatasetError, match=f"{split}.txt"):
        load_iam_ondb(fake.root)


@pytest.mark.parametrize("name", ["lineStrokes-all.tar.gz", "ascii-all.tar.gz"])
def test_missing_archive_is_named(tmp_path, name):
    fake = make_fake_iam_ondb(tmp_path, lines_per_split=1)
    (fake.root / name).unlink()
    with pytest.raises(DatasetError, match=name):
        locate(fake.root)


def test_corrupt_archive_raises_dataset_error(tmp_path):
    fake = make_fake_iam_ondb(tmp_path, lines_per_split=1)
    (fake.root / "lineStrokes-all.tar.gz").write_bytes(b"not a tarball at all")
    with pytest.raises(DatasetError, match="cannot read archive"):
        load_iam_ondb(fake.root, cache=False)


def test_a_download_without_line_files_is_refused_clearly(tmp_path):
    for name in ("lineStrokes-all.tar.gz", "ascii-all.tar.gz"):
        tarfile.open(tmp_path / name, "w:gz").close()
    for s in SPLITS:
        (tmp_path / f"{s}.txt").write_text("a01-000u\n")
    for cache in (False, True):
        with pytest.raises(DatasetError, match="no IAM-OnDB line stroke files"):
            load_iam_ondb(tmp_path, cache=cache)


@pytest.mark.parametrize("line_id, reason", [("z01-000z-02", "placeholder"),
                                             ("a08-551z-09", "misaligned")])
def test_documented_defects_name_every_line_of_theirs(tmp_path, line_id, reason):
    # As in the real download: z01-000z has one placeholder CSR line for all its ink lines,
    # and a08-551z has one ink line more than CSR lines.
    make_fake_iam_ondb(tmp_path, lines_per_split=1, as_tarballs=False)
    (tmp_path / "ascii/z01/z01-000/z01-000z.txt").write_text(
        "OCR:\n\nCSR:\n\nPlease Enter Transcription here\n")
    a08 = tmp_path / "lineStrokes/a08/a08-551/a08-551z-08.xml"
    shutil.copy(a08, a08.with_name("a08-551z-09.xml"))
    reasons = {e["id"]: e["reason"] for e in load_iam_ondb(tmp_path, cache=False).excluded}
    assert reasons[line_id] == reason


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


def test_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HANDWRITING_IAM_ONDB", str(tmp_path))
    assert iam_ondb.default_path() == tmp_path
    monkeypatch.delenv("HANDWRITING_IAM_ONDB")
    assert iam_ondb.default_path() == iam_ondb.DEFAULT_PATH


def test_parse_csr_and_clean_text():
    form = "OCR:\n\nTyped source\n\nCSR:\n\nfirst  line\n\nsecond line .\n"
    assert iam_ondb.parse_csr(form) == ["first  line", "second line ."]
    assert iam_ondb.parse_csr("OCR:\n\nno csr section\n") == []
    assert iam_ondb.clean_text(" Mr .\tFoot  said ") == "Mr . Foot said"


def test_extracted_tree_in_an_original_subfolder(tmp_path, fake_iam_ondb_extracted):
    src_root, root = fake_iam_ondb_extracted.root, tmp_path / "copy"
    for name in ("lineStrokes", "ascii"):
        shutil.copytree(src_root / name, root / "original" / name)
    for s in SPLITS:
        shutil.copy(src_root / f"{s}.txt", root)
    assert locate(root).strokes == root / "original" / "lineStrokes"
    assert load_iam_ondb(root, cache=False).raw_lines == fake_iam_ondb_extracted.raw_lines


# --------------------------------------------------------------------------- the real copy


@pytest.mark.dataset
def test_real_raw_counts(real_iam_ondb):
    assert real_iam_ondb.raw_lines == {
        "trainset": 5364, "testset_v": 1438, "testset_t": 1518, "testset_f": 0,
    }
    assert real_iam_ondb.forms_listed == {
        "trainset": 775, "testset_v": 192, "testset_t": 216, "testset_f": 544,
    }


@pytest.mark.dataset
def test_real_known_defects_are_excluded(real_iam_ondb):
    reasons = {e["id"]: e["reason"] for e in real_iam_ondb.excluded}
    assert reasons["a08-551z-08"] == "misaligned"
    assert "a08-551z-09" in reasons  # its CSR has only 8 lines: no transcription at all
    assert reasons["z00-001-01"] == reasons["z01-000z-01"] == "placeholder"
    assert not any(ln.id.startswith("z01-000z") for ln in real_iam_ondb.lines)
    assert reasons["l07-851z-08"] == "width_outlier"
    assert sum(r == "struck_out" for r in reasons.values()) > 0
    assert not any("#" in ln.text for ln in real_iam_ondb.lines)


@pytest.mark.dataset
def test_real_usable_lines_fit_the_alphabet(real_iam_ondb):
    assert alphabet_coverage(real_iam_ondb) == ""
    summary = real_iam_ondb.summary()["splits"]
    for s in ("trainset", "testset_v", "testset_t"):
        assert summary[s]["usable"] >= 0.95 * summary[s]["lines"]
        assert set(summary[s]["charset"]) <= set(DEFAULT_ALPHABET.chars)


@pytest.mark.dataset
def test_real_second_load_comes_from_the_cache(real_iam_ondb, real_iam_ondb_path, monkeypatch):
    monkeypatch.setattr(iam_ondb, "_prepare", _refuse_prepare)
    again = load_iam_ondb(real_iam_ondb_path)
    assert again.cache_path == real_iam_ondb.cache_path is not None
    assert len(again.lines) == len(real_iam_ondb.lines)
    assert again.excluded == real_iam_ondb.excluded
