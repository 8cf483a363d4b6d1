"""IAM-OnDB: read the official download as a user has it, clean it, cache it.

Layout accepted (in PATH or extracted beside it): `lineStrokes-all.tar.gz` or `lineStrokes/`,
`ascii-all.tar.gz` or `ascii/`, and the IAM-OnDB-t1 task lists `trainset.txt`,
`testset_v.txt`, `testset_t.txt`, `testset_f.txt` in PATH or `PATH/splits/`.

Cleaning (every excluded line is recorded with its reason, see `EXCLUSION_REASONS`):
known defects from the dataset README (misaligned transcriptions, placeholder text), lines
with '#' (struck-out words), lines without a transcription or with too little ink, and a
width-per-character outlier filter (ink holding more or fewer words than its text).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.formats.errors import InkFormatError
from handwriting.formats.iam_ondb import parse_iam_xml
from handwriting.geometry import ink_height
from handwriting.ink import Ink, Stroke

SPLITS = ("trainset", "testset_v", "testset_t", "testset_f")
PREP_VERSION = 2
REGISTER_URL = "https://fki.tic.heia-fr.ch/databases/iam-on-line-handwriting-database"
DEFAULT_PATH = Path("../shared/data/iam-ondb")

KNOWN_MISALIGNED = {"a08-551z-08", "a08-551z-09"}
PLACEHOLDER = "please enter transcription here"
# Width per character, in units of the line's robust height (geometry.ink_height): lines
# outside this band hold more (or less) ink than their text. Chosen from the trainset
# distribution (median about 0.5; see data/iam-ondb/README.md).
WIDTH_PER_CHAR_RANGE = (0.2, 1.2)
MIN_POINTS = 20

EXCLUSION_REASONS = {
    "misaligned": "transcription out of step with the ink (known defect)",
    "placeholder": "placeholder transcription 'Please Enter Transcription here'",
    "struck_out": "contains '#', IAM's mark for struck-out words",
    "no_transcription": "no CSR transcription line for this ink",
    "too_little_ink": f"fewer than {MIN_POINTS} points",
    "width_outlier": "width per character outside "
    f"{WIDTH_PER_CHAR_RANGE} line heights (ink and text disagree)",
    "unreadable": "stroke XML could not be parsed",
}

_LINE_RE = re.compile(r"([a-z]\d\d-\d{3}[a-z]?)-(\d\d)\.xml$")


class DatasetError(ValueError):
    """The IAM-OnDB folder is missing or incomplete; the message says what to do."""


@dataclass(frozen=True)
class IamLine:
    id: str  # a01-000u-01
    split: str | None  # one of SPLITS, or None for forms in no task list
    text: str
    ink: Ink


@dataclass
class IamOnDB:
    """The prepared corpus: usable lines by split, excluded ones with reasons, raw counts."""

    lines: list[IamLine]
    excluded: list[dict]  # {"id", "split", "reason"}
    raw_lines: dict[str, int]
    forms_listed: dict[str, int]
    source_hash: str
    cache_path: Path | None = None
    # Excluded lines that still have ink and a transcription: not trained on, but scored by
    # evaluation, so that the benchmark covers every line of a split.
    excluded_lines: list[IamLine] = field(default_factory=list)
    _by_split: dict = field(default_factory=dict, repr=False)

    def split(self, name: str) -> list[IamLine]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        if not self._by_split:
            for line in self.lines:
                self._by_split.setdefault(line.split, []).append(line)
        return self._by_split.get(name, [])

    def evaluation_lines(self, name: str) -> tuple[list[IamLine], list[dict]]:
        """Every line of split `name` that can be scored (usable and excluded-but-readable),
        and the excluded ones that cannot (no ink or no transcription), with reasons."""
        self.split(name)  # validates the name
        scored = [ln for ln in self.lines + self.excluded_lines if ln.split == name]
        have = {ln.id for ln in scored}
        missing = [e for e in self.excluded if e["split"] == name and e["id"] not in have]
        return sorted(scored, key=lambda ln: ln.id), missing

    def summary(self) -> dict:
        out = {"source_hash": self.source_hash, "splits": {}}
        for s in SPLITS:
            lines = self.split(s)
            reasons: dict[str, int] = {}
            ex = [e for e in self.excluded if e["split"] == s]
            for e in ex:
                reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
            out["splits"][s] = {
                "forms": self.forms_listed.get(s, 0),
                "lines": self.raw_lines.get(s, 0),
                "usable": len(lines),
                "points": int(sum(ln.ink.num_points for ln in lines)),
                "characters": int(sum(len(ln.text) for ln in lines)),
                "excluded": len(ex),
                "excluded_reasons": dict(sorted(reasons.items())),
                "excluded_lines": [e["id"] for e in ex],
                "charset": "".join(sorted({c for ln in lines for c in ln.text})),
            }
        return out


# --------------------------------------------------------------------------- locating files


@dataclass(frozen=True)
class Sources:
    strokes: Path  # tarball or folder holding lineStrokes/
    ascii: Path
    splits: dict[str, Path]  # split name -> task list (may lack testset_f? no: all required)


def default_path() -> Path:
    env = os.environ.get("HANDWRITING_IAM_ONDB")
    return Path(env) if env else DEFAULT_PATH


def locate(path: str | Path | None = None) -> Sources:
    """Find the IAM-OnDB files under `path`; raise `DatasetError` saying what is missing."""
    root = Path(path) if path is not None else default_path()
    if not root.is_dir():
        raise DatasetError(
            f"IAM-OnDB not found at {root}: register and download lineStrokes-all.tar.gz, "
            f"ascii-all.tar.gz and the IAM-OnDB-t1 task lists from {REGISTER_URL}, "
            "then pass --iam-ondb PATH"
        )

    def pick(tar_name: str, dir_name: str) -> Path:
        for cand in (root / tar_name, root / dir_name, root / "original" / dir_name):
            if cand.exists():
                return cand
        raise DatasetError(f"{root}: neither {tar_name} nor {dir_name}/ found")

    splits = {}
    for s in SPLITS:
        for cand in (root / f"{s}.txt", root / "splits" / f"{s}.txt"):
            if cand.is_file():
                splits[s] = cand
                break
        else:
            raise DatasetError(f"{root}: task list {s}.txt not found (in the folder or splits/)")
    return Sources(pick("lineStrokes-all.tar.gz", "lineStrokes"),
                   pick("ascii-all.tar.gz", "ascii"), splits)


def _iter_files(src: Path, suffix: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every file ending in `suffix`, from a tarball or a folder tree."""
    if src.is_dir():
        for p in sorted(src.rglob(f"*{suffix}")):
            yield p.name, p.read_bytes()
        return
    try:
        with tarfile.open(src, "r:*") as tar:
            for m in tar:
                if m.isfile() and m.name.endswith(suffix):
                    f = tar.extractfile(m)
                    if f is not None:
                        yield Path(m.name).name, f.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DatasetError(f"{src}: cannot read archive ({exc})") from None


def source_hash(src: Sources) -> str:
    """Hash of everything preparation reads (file bytes for archives and task lists, names,
    sizes and mtimes for extracted trees) plus the preparation version."""
    h = hashlib.sha256(f"prep-v{PREP_VERSION}".encode())
    for p in [src.strokes, src.ascii, *src.splits.values()]:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    st = f.stat()
                    h.update(f"{f.relative_to(p)}:{st.st_size}:{st.st_mtime_ns}".encode())
        else:
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- parsing


def read_task_list(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="latin-1").splitlines() if ln.strip()]


def parse_csr(text: str) -> list[str]:
    """The CSR lines of one IAM ascii form file (empty lines dropped)."""
    if "CSR:" not in text:
        return []
    body = text.split("CSR:", 1)[1]
    return [ln.strip() for ln in body.splitlines() if ln.strip()]


def clean_text(text: str) -> str:
    """IAM tokenizes punctuation with spaces ('Mr . Foot'); keep it as transcribed (the
    benchmark scores raw transcriptions) but collapse runs of whitespace."""
    return " ".join(text.split())


def exclusion_reason(line_id: str, text: str | None, ink: Ink | None) -> str | None:
    """Why a raw line is unusable, or None when it is kept."""
    if ink is None:
        return "unreadable"
    if line_id in KNOWN_MISALIGNED:
        return "misaligned"
    if text is None:
        return "no_transcription"
    if text.strip().lower() == PLACEHOLDER:
        return "placeholder"
    if "#" in text:
        return "struck_out"
    if ink.num_points < MIN_POINTS:
        return "too_little_ink"
    h = max(ink_height(ink), 1e-6)
    x0, _, x1, _ = ink.bounds()
    wpc = (x1 - x0) / h / max(len(text), 1)
    lo, hi = WIDTH_PER_CHAR_RANGE
    if not lo <= wpc <= hi:
        return "width_outlier"
    return None


def _prepare(src: Sources, progress: bool) -> tuple[list[IamLine], list[dict], dict, dict, list]:
    form_split: dict[str, str] = {}
    forms_listed = {}
    for s, p in src.splits.items():
        forms = read_task_list(p)
        forms_listed[s] = len(forms)
        for f in forms:
            form_split[f] = s
    transcripts: dict[str, list[str]] = {}
    for name, data in _iter_files(src.ascii, ".txt"):
        transcripts[name[:-4]] = parse_csr(data.decode("latin-1"))

    files = _iter_files(src.strokes, ".xml")
    if progress:
        from tqdm import tqdm

        files = tqdm(files, desc="IAM-OnDB lines", unit=" lines", leave=False)
    lines, excluded, raw, kept = [], [], dict.fromkeys(SPLITS, 0), []
    for name, data in files:
        m = _LINE_RE.search(name)
        if not m:
            continue
        form, num = m.group(1), int(m.group(2))
        line_id = f"{form}-{num:02d}"
        split = form_split.get(form)
        if split:
            raw[split] += 1
        csr = transcripts.get(form, [])
        text = clean_text(csr[num - 1]) if 0 < num <= len(csr) else None
        if text is None and any(c.strip().lower() == PLACEHOLDER for c in csr):
            text = PLACEHOLDER  # the form's one placeholder line stands for all its lines
        try:
            ink = parse_iam_xml(data, name)
        except InkFormatError:
            ink = None
        reason = exclusion_reason(line_id, text, ink)
        if reason:
            excluded.append({"id": line_id, "split": split, "reason": reason})
            if ink is not None and text is not None:
                kept.append(IamLine(line_id, split, text, ink))
        else:
            lines.append(IamLine(line_id, split, text, ink))
    if not lines and not excluded:
        raise DatasetError(f"{src.strokes}: no IAM-OnDB line stroke files (*-NN.xml) found")
    return lines, excluded, raw, forms_listed, kept


# --------------------------------------------------------------------------- cache


def cache_root() -> Path:
    env = os.environ.get("HANDWRITING_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "handwriting"


def _save_cache(path: Path, ds: IamOnDB) -> None:
    path.mkdir(parents=True, exist_ok=True)
    every = ds.lines + ds.excluded_lines
    strokes = [s for ln in every for s in ln.ink.strokes]
    pts = np.concatenate([np.zeros((0, 3), np.float32)]
                         + [np.column_stack([s.xy, s.t]) for s in strokes]).astype(np.float32)
    meta = {
        "version": PREP_VERSION,
        "source_hash": ds.source_hash,
        "lines": [{"id": ln.id, "split": ln.split, "text": ln.text, "strokes": len(ln.ink)}
                  for ln in every],
        "usable": len(ds.lines),
        "excluded": ds.excluded,
        "raw_lines": ds.raw_lines,
        "forms_listed": ds.forms_listed,
    }
    fd, tmp = tempfile.mkstemp(dir=path, suffix=".npz.tmp")  # per-process: ranks may race
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, points=pts, stroke_lens=np.array([len(s) for s in strokes], np.int32))
    os.replace(tmp, path / "lines.npz")
    fd, tmp = tempfile.mkstemp(dir=path, suffix=".json.tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(meta))
    os.replace(tmp, path / "meta.json")  # written last: its presence marks a complete cache


def _load_cache(path: Path) -> IamOnDB | None:
    try:
        meta = json.loads((path / "meta.json").read_text())
        arrays = np.load(path / "lines.npz")
        pts, lens = arrays["points"], arrays["stroke_lens"]
    except (OSError, ValueError, KeyError):
        return None
    if meta.get("version") != PREP_VERSION:
        return None
    bounds = np.concatenate([[0], np.cumsum(lens)])
    lines, k = [], 0
    for rec in meta["lines"]:
        strokes = []
        for _ in range(rec["strokes"]):
            seg = pts[bounds[k]:bounds[k + 1]]
            strokes.append(Stroke(seg[:, :2], seg[:, 2]))
            k += 1
        lines.append(IamLine(rec["id"], rec["split"], rec["text"],
                             Ink(tuple(strokes), {"format": "iam-ondb", "id": rec["id"]})))
    n = meta["usable"]
    return IamOnDB(lines[:n], meta["excluded"], meta["raw_lines"], meta["forms_listed"],
                   meta["source_hash"], path, excluded_lines=lines[n:])


def load_iam_ondb(path: str | Path | None = None, cache: bool = True,
                  progress: bool = False) -> IamOnDB:
    """Prepared IAM-OnDB from `path` (default ../shared/data/iam-ondb), cached by source hash."""
    src = locate(path)
    key = source_hash(src)
    cpath = cache_root() / "iam-ondb" / key
    if cache:
        ds = _load_cache(cpath)
        if ds is not None:
            return ds
    lines, excluded, raw, forms_listed, kept = _prepare(src, progress)
    ds = IamOnDB(lines, excluded, raw, forms_listed, key, excluded_lines=kept)
    if cache:
        try:
            _save_cache(cpath, ds)
            ds.cache_path = cpath
        except OSError:
            pass  # a read-only cache folder only costs speed
    return ds


def alphabet_coverage(ds: IamOnDB) -> str:
    """Characters in usable lines that the default alphabet lacks (should be empty)."""
    return "".join(sorted({c for ln in ds.lines for c in ln.text if c not in DEFAULT_ALPHABET}))
