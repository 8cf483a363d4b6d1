"""The user's own handwriting: a SQLite store of writers and their samples (ink, the text
they meant, the recognizer's reading). Qt-free; stdlib `sqlite3` in WAL mode with foreign
keys, a `user_version` schema with migrations, and every write in one transaction."""

from __future__ import annotations

import io
import json
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwriting.appdata import adapted_model_path
from handwriting.ink import Ink, Stroke
from handwriting.results import Prime

SCHEMA_VERSION = 2
APPLICATION_ID = 0x48575254  # "HWRT": marks a file as ours, so a foreign database is refused
SQLITE_HEADER = b"SQLite format 3\x00"
MAX_IMPORT_FILES = 10_000
MAX_IMPORT_BYTES = 50_000_000  # per InkML file inside an import zip

# Version 1 had no recognizer reading or device; each step upgrades one version in place.
_SCHEMA_V1 = """
CREATE TABLE writers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created REAL NOT NULL);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    writer_id INTEGER NOT NULL REFERENCES writers(id) ON DELETE CASCADE,
    points BLOB NOT NULL,          -- float32 (N, 3): x, y, t
    stroke_lengths BLOB NOT NULL,  -- int32 (S,), sums to N
    pressure BLOB,                 -- float32 (N,) or NULL
    text TEXT NOT NULL,
    created REAL NOT NULL);
CREATE INDEX samples_writer ON samples(writer_id);
"""
_MIGRATIONS = {  # from version k to k + 1
    1: ["ALTER TABLE samples ADD COLUMN recognized TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE samples ADD COLUMN device TEXT NOT NULL DEFAULT ''"],
}

# Prompt sentences for collecting samples: few, yet together they hold every lower- and
# upper-case letter, every digit and the common punctuation of the recognizer's alphabet.
PROMPTS = (
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "Sphinx of black quartz, judge my vow?",
    "THE FIVE BOXING WIZARDS JUMP QUICKLY",
    "Call 0123 456 789 at 10:45; ask for Vic's & Zoe's aunt.",
    '"Waltz, bad nymph, for quick jigs vex" (1998) - 25% off',
)


class SampleStoreError(ValueError):
    """A database file that is corrupt, not ours, or from a newer version; names the file."""


@dataclass(frozen=True)
class Writer:
    id: int
    name: str
    created: float  # seconds since the epoch


@dataclass(frozen=True)
class Sample:
    id: int
    writer_id: int
    ink: Ink
    text: str  # what the writer meant to write
    recognized: str  # what the recognizer read when the sample was saved
    device: str  # "mouse", "tablet", "iam-ondb", ...
    created: float


def encode_ink(ink: Ink) -> tuple[bytes, bytes, bytes | None]:
    """Ink -> (points float32 (N, 3) x y t, stroke lengths int32 (S,), pressure or None)."""
    if ink.is_empty:
        raise ValueError("ink is empty: nothing to store")
    pts = np.concatenate([np.column_stack([s.xy, s.t]) for s in ink.strokes]).astype("<f4")
    lengths = np.array([len(s) for s in ink.strokes], "<i4")
    pressure = (np.concatenate([s.pressure for s in ink.strokes]).astype("<f4").tobytes()
                if ink.has_pressure else None)
    return pts.tobytes(), lengths.tobytes(), pressure


def decode_ink(points: bytes, lengths: bytes, pressure: bytes | None, text: str = "") -> Ink:
    """Inverse of `encode_ink`."""
    pts = np.frombuffer(points, "<f4").reshape(-1, 3)
    ends = np.cumsum(np.frombuffer(lengths, "<i4"))
    if len(ends) == 0 or ends[-1] != len(pts):
        raise SampleStoreError(f"stroke lengths sum to {ends[-1] if len(ends) else 0}, "
                               f"not to the {len(pts)} points stored")
    p = np.frombuffer(pressure, "<f4") if pressure is not None else None
    strokes, start = [], 0
    for end in ends:
        strokes.append(Stroke(pts[start:end, :2], pts[start:end, 2],
                              None if p is None else p[start:end]))
        start = int(end)
    return Ink(tuple(strokes), {"text": text} if text else {})


class SampleStore:
    """`SampleStore(path)` opens the database at `path`, creating it if the file is missing
    or empty. A file that is not a SQLite database, or another program's database, raises
    `SampleStoreError` naming it and is never written to."""

    def __init__(self, path: str | Path, timeout: float = 30.0):
        self.path = Path(path)
        self._check_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)  # the app-data folder, first time
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------------ opening

    def _check_file(self) -> None:
        """Refuse a foreign or corrupt file before any connection could write to it."""
        if self.path.is_dir():
            raise SampleStoreError(f"{self.path}: is a folder, not a samples database")
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as fh:
            header = fh.read(100)
        if not header.startswith(SQLITE_HEADER) or len(header) < 100:
            raise SampleStoreError(f"{self.path}: not a SQLite database (refusing to touch it)")
        # Read through a read-only connection, not the header: in WAL mode the newest
        # application id can still sit in the -wal file of a process that was killed.
        try:
            ro = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                app_id = ro.execute("PRAGMA application_id").fetchone()[0]
            finally:
                ro.close()
        except sqlite3.DatabaseError as exc:
            raise SampleStoreError(f"{self.path}: unreadable database ({exc})") from None
        if app_id != APPLICATION_ID:
            raise SampleStoreError(f"{self.path}: a SQLite database of another program "
                                   f"(application id {app_id:#x}); refusing to touch it")

    def _open(self) -> None:
        db = self._db
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SampleStoreError(f"{self.path}: schema version {version} is newer than "
                                       f"this program's {SCHEMA_VERSION}; update handwriting")
            # checked before anything is written: a damaged file is reported, not changed
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise SampleStoreError(f"{self.path}: database fails its integrity check")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a kill
            with self._write():
                # re-read inside the write lock: another process may have created it meanwhile
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                        raise SampleStoreError(f"{self.path}: a database with tables but no "
                                               "schema version; refusing to touch it")
                    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    for stmt in _SCHEMA_V1.split(";"):
                        if stmt.strip():
                            db.execute(stmt)
                    version = 1
                while version < SCHEMA_VERSION:
                    for stmt in _MIGRATIONS[version]:
                        db.execute(stmt)
                    version += 1
                db.execute(f"PRAGMA user_version={version}")
        except sqlite3.DatabaseError as exc:
            raise SampleStoreError(f"{self.path}: unreadable database ({exc})") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: the write lock is taken up front (BEGIN IMMEDIATE), so two
        processes writing at once wait for each other instead of failing mid-way."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SampleStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # ------------------------------------------------------------------ writers

    def add_writer(self, name: str) -> Writer:
        name = _check_name(name)
        with self._write() as db:
            try:
                cur = db.execute("INSERT INTO writers(name, created) VALUES (?, ?)",
                                 (name, time.time()))
            except sqlite3.IntegrityError:
                raise ValueError(f"writer {name!r} already exists in {self.path}") from None
        return self.writer(cur.lastrowid)

    def writer(self, key: int | str) -> Writer:
        """A writer by id or by name; `ValueError` naming it when there is none."""
        col = "id" if isinstance(key, int) else "name"
        row = self._db.execute(f"SELECT id, name, created FROM writers WHERE {col} = ?",
                               (key,)).fetchone()
        if row is None:
            raise ValueError(f"no writer {key!r} in {self.path}")
        return Writer(*row)

    def writers(self) -> list[Writer]:
        return [Writer(*r) for r in
                self._db.execute("SELECT id, name, created FROM writers ORDER BY name")]

    def rename_writer(self, key: int | str, new_name: str) -> Writer:
        w, new_name = self.writer(key), _check_name(new_name)
        with self._write() as db:
            try:
                db.execute("UPDATE writers SET name = ? WHERE id = ?", (new_name, w.id))
            except sqlite3.IntegrityError:
                raise ValueError(f"writer {new_name!r} already exists in {self.path}") from None
        return self.writer(w.id)

    def delete_writer(self, key: int | str) -> None:
        """Delete a writer, (ON DELETE CASCADE) all their samples and their adapted
        recognizer: SQLite gives the next writer the highest id again, and with it the
        adapted model's file name (`adapted_model_path`), which must not read them as this one."""
        w = self.writer(key)
        with self._write() as db:
            db.execute("DELETE FROM writers WHERE id = ?", (w.id,))
        model = adapted_model_path(self.path, w.id)
        for path in (model, model.with_suffix(".json"), model.with_suffix(".md")):
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ samples

    def add_sample(self, writer: int | str, ink: Ink, text: str, recognized: str = "",
                   device: str = "", created: float | None = None) -> int:
        """Store one sample; returns its id."""
        if not isinstance(ink, Ink):
            raise ValueError(f"expected Ink, got {type(ink).__name__}")
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        w = self.writer(writer)
        points, lengths, pressure = encode_ink(ink)
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO samples(writer_id, points, stroke_lengths, pressure, text, "
                "recognized, device, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (w.id, points, lengths, pressure, text, recognized, device,
                 time.time() if created is None else float(created)))
        return int(cur.lastrowid)

    def samples(self, writer: int | str) -> list[Sample]:
        """A writer's samples, oldest first."""
        w = self.writer(writer)
        rows = self._db.execute(
            "SELECT id, writer_id, points, stroke_lengths, pressure, text, recognized, device, "
            "created FROM samples WHERE writer_id = ? ORDER BY created, id", (w.id,))
        return [Sample(r[0], r[1], decode_ink(r[2], r[3], r[4], r[5]), r[5], r[6], r[7], r[8])
                for r in rows]

    def count_samples(self) -> int:
        return self._db.execute("SELECT count(*) FROM samples").fetchone()[0]

    def delete_sample(self, sample_id: int) -> None:
        with self._write() as db:
            if db.execute("DELETE FROM samples WHERE id = ?", (sample_id,)).rowcount == 0:
                raise ValueError(f"no sample {sample_id} in {self.path}")

    # ------------------------------------------------------------------ exchange

    def export_writer(self, writer: int | str, zip_path: str | Path) -> int:
        """Write a writer's samples to a zip of InkML files (one per sample, the intended
        text as its truth annotation) plus `writer.json`; returns the number of samples."""
        from handwriting.formats.fileio import atomic_write
        from handwriting.formats.inkml import ink_to_inkml_string

        w = self.writer(writer)
        samples = self.samples(w.id)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("writer.json", json.dumps({"name": w.name, "created": w.created,
                                                   "samples": len(samples)}))
            for k, s in enumerate(samples, 1):
                meta = {"text": s.text, "recognized": s.recognized, "device": s.device,
                        "created": repr(s.created)}
                zf.writestr(f"{k:04d}.inkml", ink_to_inkml_string(Ink(s.ink.strokes, meta)))
        atomic_write(zip_path, buf.getvalue())
        return len(samples)

    def import_writer(self, zip_path: str | Path, name: str | None = None) -> Writer:
        """Read a zip written by `export_writer` as a new writer (named `name`, else the name
        stored in the zip); all of it in one transaction, or nothing on any error."""
        from handwriting.formats.inkml import parse_inkml

        zip_path = Path(zip_path)
        try:
            zf = zipfile.ZipFile(zip_path)
        except zipfile.BadZipFile:
            raise ValueError(f"{zip_path}: not a zip file") from None
        with zf:
            infos = [i for i in zf.infolist() if i.filename.lower().endswith(".inkml")]
            if len(infos) > MAX_IMPORT_FILES:
                raise ValueError(f"{zip_path}: {len(infos)} InkML files, more than "
                                 f"{MAX_IMPORT_FILES}")
            manifest = {}
            if "writer.json" in zf.namelist():
                try:
                    manifest = json.loads(zf.read("writer.json"))
                except ValueError:
                    raise ValueError(f"{zip_path}: writer.json is not valid JSON") from None
            name = _check_name(name or str(manifest.get("name", zip_path.stem)))
            inks = []
            for info in sorted(infos, key=lambda i: i.filename):
                if info.file_size > MAX_IMPORT_BYTES:
                    raise ValueError(f"{zip_path}:{info.filename}: {info.file_size} bytes, "
                                     f"more than {MAX_IMPORT_BYTES}")
                inks.append(parse_inkml(zf.read(info), f"{zip_path}:{info.filename}"))
        with self._write() as db:
            try:
                wid = db.execute("INSERT INTO writers(name, created) VALUES (?, ?)",
                                 (name, float(manifest.get("created", time.time())))).lastrowid
            except sqlite3.IntegrityError:
                raise ValueError(f"writer {name!r} already exists in {self.path}") from None
            for ink in inks:
                points, lengths, pressure = encode_ink(ink)
                m = ink.meta
                db.execute(
                    "INSERT INTO samples(writer_id, points, stroke_lengths, pressure, text, "
                    "recognized, device, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (wid, points, lengths, pressure, m.get("text", ""), m.get("recognized", ""),
                     m.get("device", ""), _float(m.get("created"), time.time())))
        return self.writer(wid)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"writer name {name!r} is empty")
    if len(name) > 200:
        raise ValueError(f"writer name {name[:40]!r}... is longer than 200 characters")
    return name.strip()


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def writer_prime(samples, text: str) -> Prime | None:
    """What writing `text` in a stored writer's hand primes with: their `best_priming_sample`,
    and all their samples with text to measure their hand on (slant and letter width, more
    steadily over many lines than over one). None when no sample has text."""
    best = best_priming_sample(samples, text)
    if best is None:
        return None
    return Prime(best.ink, best.text, tuple((s.ink, s.text) for s in samples if s.text.strip()))


def best_priming_sample(samples, text: str) -> Sample | None:
    """The sample whose text shares the most distinct characters with `text` (ties: the
    longer text), so that priming (Graves 2013, §5.5) shows the network as many of the
    letters to write. None when no sample has text. The CLI and the app both use it."""
    want = set(text)
    usable = [s for s in samples if s.text.strip()]
    if not usable:
        return None
    return max(usable, key=lambda s: (len(want & set(s.text)), len(s.text), -s.id))
