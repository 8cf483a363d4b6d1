"""The sample store: round trips, migration, concurrent writers, a killed writer, and files
that are not ours."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from handwriting.ink import Ink, Stroke
from handwriting.samples import (
    _SCHEMA_V1,
    APPLICATION_ID,
    SCHEMA_VERSION,
    SampleStore,
    SampleStoreError,
    encode_ink,
)

ROOT = Path(__file__).resolve().parents[2]


def _ink(seed: int = 0, pressure: bool = False) -> Ink:
    rng = np.random.default_rng(seed)
    strokes, t0 = [], 0.0
    for n in (5, 1, 12):
        xy = rng.normal(0, 100, (n, 2)).astype(np.float32)
        t = (t0 + 0.013 * np.arange(n)).astype(np.float32)
        p = rng.random(n).astype(np.float32) if pressure else None
        strokes.append(Stroke(xy, t, p))
        t0 = float(t[-1]) + 0.2
    return Ink(tuple(strokes))


def test_round_trip_of_every_field(tmp_path):
    path = tmp_path / "s.db"
    with SampleStore(path) as store:
        w = store.add_writer("Ada")
        sid = store.add_sample("Ada", _ink(1, pressure=True), "the quick fox", recognized="the quiek fox",
                               device="tablet", created=1234.5)
        store.add_sample(w.id, _ink(2), "jumps")
    with SampleStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        [w2] = store.writers()
        assert (w2.id, w2.name, w2.created) == (w.id, "Ada", w.created)
        first, second = store.samples("Ada")
        assert (first.id, first.writer_id, first.text, first.recognized, first.device,
                first.created) == (sid, w.id, "the quick fox", "the quiek fox", "tablet", 1234.5)
        assert first.ink == _ink(1, pressure=True) and first.ink.has_pressure
        assert second.ink == _ink(2) and not second.ink.has_pressure
        assert (second.recognized, second.device) == ("", "")


def test_writers_rename_delete_cascade(tmp_path):
    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("a")
        store.add_writer("b")
        store.add_sample("a", _ink(), "x")
        store.add_sample("b", _ink(), "y")
        with pytest.raises(ValueError, match="already exists"):
            store.add_writer("b")
        with pytest.raises(ValueError, match="already exists"):
            store.rename_writer("a", "b")
        store.rename_writer("a", "c")
        assert [w.name for w in store.writers()] == ["b", "c"]
        store.delete_writer("c")
        assert store.count_samples() == 1  # ON DELETE CASCADE took c's sample
        with pytest.raises(ValueError, match="no writer 'c'"):
            store.samples("c")
        [s] = store.samples("b")
        store.delete_sample(s.id)
        with pytest.raises(ValueError, match="no sample"):
            store.delete_sample(s.id)
        with pytest.raises(ValueError, match="empty"):
            store.add_sample("b", Ink(), "x")


def test_export_import_round_trip(tmp_path):
    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("Ada")
        store.add_sample("Ada", _ink(1, pressure=True), 'say "hi" & <bye>', "say hi",
                         "tablet", 10.25)
        store.add_sample("Ada", _ink(2), "two", created=11.0)
        assert store.export_writer("Ada", tmp_path / "ada.zip") == 2
    with SampleStore(tmp_path / "other.db") as other:
        w = other.import_writer(tmp_path / "ada.zip")
        assert w.name == "Ada"
        a, b = other.samples("Ada")
        assert (a.text, a.recognized, a.device, a.created) == ('say "hi" & <bye>', "say hi",
                                                                "tablet", 10.25)
        assert a.ink == _ink(1, pressure=True) and b.ink == _ink(2) and b.text == "two"
        with pytest.raises(ValueError, match="already exists"):
            other.import_writer(tmp_path / "ada.zip")
        assert other.count_samples() == 2  # the failed import added nothing
        assert other.import_writer(tmp_path / "ada.zip", name="Ada 2").name == "Ada 2"
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with SampleStore(tmp_path / "s.db") as store, pytest.raises(ValueError, match="bad.zip"):
        store.import_writer(tmp_path / "bad.zip")


def test_migration_from_version_1(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA_V1)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=1")
    db.execute("INSERT INTO writers(name, created) VALUES ('old', 1.0)")
    pts, lengths, pressure = encode_ink(_ink(3))
    db.execute("INSERT INTO samples(writer_id, points, stroke_lengths, pressure, text, created) "
               "VALUES (1, ?, ?, ?, 'hello', 2.0)", (pts, lengths, pressure))
    db.commit()
    db.close()
    with SampleStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        [s] = store.samples("old")
        assert (s.text, s.recognized, s.device, s.created) == ("hello", "", "", 2.0)
        assert s.ink == _ink(3)
        store.add_sample("old", _ink(4), "new", recognized="nevv", device="mouse")
        assert store.samples("old")[1].recognized == "nevv"


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "new.db"
    SampleStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SampleStoreError, match="newer"):
        SampleStore(path)


@pytest.mark.parametrize("content", [
    b"hello, I am a text file\n" * 10,
    b"SQLite format 3\x00" + b"\xff" * 4000,  # a header and garbage
])
def test_corrupt_file_refused_and_untouched(tmp_path, content):
    path = tmp_path / "s.db"
    path.write_bytes(content)
    with pytest.raises(SampleStoreError, match=str(path)):
        SampleStore(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]  # no -wal, no -shm


def test_foreign_database_refused_and_untouched(tmp_path):
    path = tmp_path / "firefox.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(SampleStoreError, match="another program"):
        SampleStore(path)
    assert path.read_bytes() == before


def _writer_process(path: str, name: str, n: int) -> None:
    with SampleStore(path) as store:
        store.add_writer(name)
        for i in range(n):
            store.add_sample(name, _ink(i), f"{name} {i}")


def test_two_processes_writing_at_once(tmp_path):
    path = str(tmp_path / "s.db")
    SampleStore(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer_process, args=(path, name, 40)) for name in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with SampleStore(path) as store:
        for name in "ab":
            assert [s.text for s in store.samples(name)] == [f"{name} {i}" for i in range(40)]


KILLED_WRITER = """
import sys
from handwriting.samples import SampleStore
from tests.handwriting.test_samples import _ink
store = SampleStore(sys.argv[1])
store.add_writer("k")
i = 0
while True:
    store.add_sample("k", _ink(i), str(i))
    print(i, flush=True)  # printed only after the commit returned
    i += 1
"""


def test_killed_mid_write_keeps_every_committed_sample(tmp_path):
    path = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    committed = []
    deadline = time.monotonic() + 60
    while len(committed) < 50 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed += [int(line) for line in proc.stdout.read().split()]  # printed before the kill
    assert len(committed) >= 50, "the writer did not get going"
    with SampleStore(path) as store:  # opening runs quick_check
        texts = [s.text for s in store.samples("k")]
        assert texts[:len(committed)] == [str(i) for i in committed]
        assert len(texts) in (len(committed), len(committed) + 1)  # one may have committed unprinted
        assert all(s.ink == _ink(int(s.text)) for s in store.samples("k"))
        store.add_sample("k", _ink(0), "after")  # still writable


def test_prompts_cover_the_alphabet_digits_and_punctuation():
    from handwriting.alphabet import IAM_CHARS
    from handwriting.samples import PROMPTS

    chars = set("".join(PROMPTS))
    assert chars <= set(IAM_CHARS)
    import string

    assert set(string.ascii_letters + string.digits + ".,;:!?\"'()-&%") <= chars


def test_a_deleted_writers_adapted_model_goes_with_them(tmp_path):
    """The next writer gets the deleted one's id back, so their model would be read as theirs."""
    from handwriting.appdata import adapted_model_path

    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("keep")
        old = store.add_writer("gone")
        model = adapted_model_path(tmp_path / "s.db", old.id)
        model.parent.mkdir()
        for suffix in (".pt", ".json", ".md"):
            model.with_suffix(suffix).write_text("weights")
        store.delete_writer("gone")
        assert store.add_writer("new").id == old.id  # SQLite reuses the highest id
        assert list(model.parent.iterdir()) == []
