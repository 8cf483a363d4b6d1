"""Synthetic test data that needs no real dataset: Hershey-font ink and a fake IAM-OnDB tree.

`hershey_ink` renders text with a single-line Hershey script font (y points down, like
IAM-OnDB); `make_fake_iam_ondb` writes a small download in the official layout, with one
line for every defect the cleaning in `handwriting.data.iam_ondb` must catch.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from HersheyFonts import HersheyFonts

from handwriting.ink import Ink, Stroke

SPLITS = ("trainset", "testset_v", "testset_t", "testset_f")

# Made-up sentences in IAM's tokenization (punctuation set apart by spaces).
SENTENCES = (
    "The quick brown fox jumps over the lazy dog .",
    "Seven ships sailed north in 1984 , or so",
    "we were told by Mr . Grey on Friday .",
    "Pack my box with five dozen jugs of wine",
    "\" Where is it ? \" she asked , twice .",
    "A small garden grew between the houses",
    "Nobody could say why ( or when ) it began",
    "Jim and Kate met at 10 : 30 ; nothing more",
    "It's about 42 miles from here to there !",
    "Bright lamps lit the old stone bridge -",
)


@lru_cache(maxsize=8)
def _font(name: str) -> HersheyFonts:
    font = HersheyFonts()
    font.load_default_font(name)
    return font


def _densify(xy: np.ndarray, step: float) -> np.ndarray:
    """Points at most `step` apart along the polyline (Hershey gives only its vertices)."""
    if len(xy) < 2:
        return xy
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.concatenate(out)


def hershey_strokes(text: str, font: str = "scripts") -> list[np.ndarray]:
    """The polylines of `text` in font units: (N, 2) float64 arrays, y pointing down
    (the Hershey glyph tables already use y down: cap line -12, baseline 9)."""
    strokes = [np.array(s, dtype=np.float64) for s in _font(font).strokes_for_text(text)]
    return [s for s in strokes if len(s)]


def hershey_ink(
    text: str,
    font: str = "scripts",
    *,
    scale: float = 1.0,
    origin: tuple[float, float] = (0.0, 0.0),
    step: float = 1.0,
    speed: float = 200.0,
    pen_up_time: float = 0.08,
    t0: float = 0.0,
    pressure: bool = False,
    **meta,
) -> Ink:
    """`text` written in a Hershey script font as `Ink` (x right, y down).

    Points are `step` font units apart along each stroke and the pen moves at `speed` font
    units per second, lifting for `pen_up_time` seconds between strokes, so timestamps
    increase like a real pen's. `pressure` adds a rise-and-fall pressure profile per stroke.
    """
    polylines = hershey_strokes(text, font)
    if not polylines:
        raise ValueError(f"nothing to draw for {text!r}")
    strokes, t = [], t0
    for poly in polylines:
        xy = _densify(poly, step)
        seg = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
        times = t + np.concatenate([[0.0], np.cumsum(seg)]) / speed
        p = None
        if pressure:
            p = 0.3 + 0.6 * np.sin(np.linspace(0.15, np.pi - 0.15, len(xy)))
        strokes.append(Stroke(xy * scale + np.asarray(origin), times, p))
        t = float(times[-1]) + pen_up_time
    return Ink(tuple(strokes), {"text": text, **meta})


# --------------------------------------------------------------------------- fake IAM-OnDB


@dataclass
class FakeIamOnDB:
    """What `make_fake_iam_ondb` wrote, so tests can compare the loader against it."""

    root: Path
    raw_lines: dict[str, int]  # split -> line XML files written for its forms
    forms_listed: dict[str, int]  # split -> form ids in its task list
    texts: dict[str, str | None] = field(default_factory=dict)  # line id -> CSR text or None
    split_of: dict[str, str | None] = field(default_factory=dict)  # line id -> split
    points: dict[str, int] = field(default_factory=dict)  # line id -> points written
    defects: dict[str, str] = field(default_factory=dict)  # line id -> expected reason

    def usable(self, split: str | None) -> list[str]:
        """Ids of the lines the loader should keep for `split` (None: forms in no list)."""
        return sorted(i for i, s in self.split_of.items() if s == split and i not in self.defects)


def _stroke_xml(ink: Ink) -> str:
    rows = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        "<WhiteboardCaptureSession>",
        "  <WhiteboardDescription>",
        '    <SensorLocation corner="top_left"/>',
        '    <DiagonallyOppositeCoords x="6512" y="1376"/>',
        '    <VerticallyOppositeCoords x="966" y="1376"/>',
        '    <HorizontallyOppositeCoords x="6512" y="787"/>',
        "  </WhiteboardDescription>",
        "  <StrokeSet>",
    ]
    for s in ink.strokes:
        rows.append(
            f'    <Stroke colour="black" start_time="{s.t[0]:.2f}" end_time="{s.t[-1]:.2f}">'
        )
        for (x, y), t in zip(s.xy, s.t, strict=True):
            rows.append(f'      <Point x="{round(float(x))}" y="{round(float(y))}" time="{t:.2f}"/>')
        rows.append("    </Stroke>")
    rows += ["  </StrokeSet>", "</WhiteboardCaptureSession>", ""]
    return "\n".join(rows)


def _ascii_txt(csr: list[str]) -> str:
    # IAM's OCR section is the typed source text; the CSR section is what was written.
    return "OCR:\n\n" + "\n".join(csr) + "\n\nCSR:\n\n" + "\n".join(csr) + "\n"


def _line_ink(text: str, line_no: int, t0: float) -> Ink:
    """Ink in IAM's whiteboard units: integer-ish coordinates around 1000-6000."""
    return hershey_ink(text, scale=9.0, origin=(1000.0, 900.0 + 40 * line_no), step=2.0, t0=t0)


def _write_tar(path: Path, files: dict[str, str]) -> None:
    # Fixed mtimes make the archive bytes (and so the loader's source hash) reproducible.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for name in sorted(files):
                data = files[name].encode("latin-1")
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 1_000_000_000
                tar.addfile(info, io.BytesIO(data))


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="latin-1")


def make_fake_iam_ondb(
    root: str | Path,
    lines_per_split: int = 3,
    include_testset_f: bool = True,
    as_tarballs: bool = True,
    splits_subfolder: bool = True,
) -> FakeIamOnDB:
    """Write a small IAM-OnDB download into `root` and describe it.

    Each split gets one regular form of `lines_per_split` lines. Defects: a struck-out line
    ('#'), the placeholder form z01-000z, a line without CSR text, the known misaligned line
    a08-551z-08, a line of a few points, a truncated XML file, a width outlier in testset_v,
    and a form that no task list names.
    `include_testset_f=False` mimics the development copy: testset_f is listed, its ink held
    back. `as_tarballs=False` writes extracted `lineStrokes/` and `ascii/` folders instead.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    # form id -> (split or None, CSR lines, texts to draw per written line number)
    forms: dict[str, tuple[str | None, list[str], dict[int, str]]] = {}
    defects: dict[str, str] = {}
    k = 0

    def regular(n: int) -> list[str]:
        nonlocal k
        out = [SENTENCES[(k + i) % len(SENTENCES)] for i in range(n)]
        k += n
        return out

    for i, split in enumerate(SPLITS):
        csr = regular(lines_per_split)
        forms[f"{'abcd'[i]}0{i + 1}-000u"] = (split, csr, dict(enumerate(csr, 1)))
    # A struck-out word: IAM writes '#' in the transcription.
    csr = [*regular(1), "and then # the cat sat down"]
    forms["a01-001w"] = ("trainset", csr, {1: csr[0], 2: "and then the cat sat down"})
    defects["a01-001w-02"] = "struck_out"
    # The placeholder form: ink was written, the text never typed in.
    forms["z01-000z"] = ("trainset", ["Please Enter Transcription here"] * 2,
                         {1: "some words written here", 2: "and a few more of them"})
    defects.update({"z01-000z-01": "placeholder", "z01-000z-02": "placeholder"})
    # More line XML files than CSR lines.
    csr = regular(2)
    forms["a02-010"] = ("trainset", csr, {1: csr[0], 2: csr[1], 3: "a third line of ink"})
    defects["a02-010-03"] = "no_transcription"
    # The documented misaligned line (only its XML file is written; the CSR has 8 lines).
    csr = regular(8)
    forms["a08-551z"] = ("trainset", csr, {8: csr[7]})
    defects["a08-551z-08"] = "misaligned"
    # A lone full stop (too few points to learn from) and a truncated XML file.
    forms["a03-020"] = ("trainset", [".", "broken file"], {1: ".", 2: "broken file"})
    defects.update({"a03-020-01": "too_little_ink", "a03-020-02": "unreadable"})
    # Ink holding a whole sentence, text holding two words.
    forms["c01-001"] = ("testset_v", ["two words"], {1: SENTENCES[0] + " " + SENTENCES[3]})
    defects["c01-001-01"] = "width_outlier"
    # A form in no task list: loaded with split None, counted in no split.
    csr = regular(2)
    forms["n01-999x"] = (None, csr, dict(enumerate(csr, 1)))

    stroke_files, ascii_files = {}, {}
    fake = FakeIamOnDB(root, dict.fromkeys(SPLITS, 0), dict.fromkeys(SPLITS, 0))
    t0 = 300.0
    for form, (split, csr, drawn) in forms.items():
        if split is not None:
            fake.forms_listed[split] += 1
        if split == "testset_f" and not include_testset_f:
            continue  # listed, but ink and text held back
        folder = f"{form[:3]}/{form.split('-')[0]}-{form.split('-')[1][:3]}"
        ascii_files[f"ascii/{folder}/{form}.txt"] = _ascii_txt(csr)
        for num, text in drawn.items():
            line_id = f"{form}-{num:02d}"
            ink = _line_ink(text, num, t0)
            t0 = float(ink.strokes[-1].t[-1]) + 3.0
            xml = _stroke_xml(ink)
            if defects.get(line_id) == "unreadable":
                xml = xml[: len(xml) // 2]
            stroke_files[f"lineStrokes/{folder}/{line_id}.xml"] = xml
            fake.points[line_id] = ink.num_points
            fake.texts[line_id] = csr[num - 1] if num <= len(csr) else None
            fake.split_of[line_id] = split
            if split is not None:
                fake.raw_lines[split] += 1
        fake.defects.update({i: r for i, r in defects.items() if i.startswith(form)})

    if as_tarballs:
        _write_tar(root / "lineStrokes-all.tar.gz", stroke_files)
        _write_tar(root / "ascii-all.tar.gz", ascii_files)
    else:
        _write_tree(root, {**stroke_files, **ascii_files})
    lists = root / "splits" if splits_subfolder else root
    lists.mkdir(exist_ok=True)
    for split in SPLITS:
        ids = [f for f, (s, _, _) in forms.items() if s == split]
        (lists / f"{split}.txt").write_text("".join(f"{f}\n" for f in ids))
    return fake


def write_tiny_recognizer(path: Path) -> Path:
    """An untrained 2x16 recognizer checkpoint at `path` (seeded): a model that loads and
    runs in milliseconds, for tests of the paths around a model rather than its accuracy."""
    import torch

    from handwriting.alphabet import IAM_CHARS
    from handwriting.checkpoint import save_checkpoint
    from handwriting.features import FeatureConfig, Standardizer, point_features, preprocess
    from handwriting.models.configs import RecognizerConfig
    from handwriting.models.recognizer import RecognizerNet

    torch.manual_seed(0)
    cfg = RecognizerConfig(hidden=16, layers=2, conv_channels=16)
    std = Standardizer.fit([point_features(preprocess(hershey_ink("hello world")))])
    save_checkpoint({"kind": "recognizer", "model_config": cfg.to_dict(),
                     "feature_config": FeatureConfig().to_dict(), "standardizer": std.to_dict(),
                     "alphabet": IAM_CHARS, "state_dict": RecognizerNet(cfg).state_dict()}, path)
    return path


def write_tiny_synthesizer(path: Path) -> Path:
    """An untrained 2x32 synthesizer checkpoint at `path` (seeded), the synthesis
    counterpart of `write_tiny_recognizer`: it samples scribble, in milliseconds."""
    import torch

    from handwriting.alphabet import DEFAULT_ALPHABET
    from handwriting.checkpoint import save_checkpoint
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.models.synthesizer import SynthesizerNet

    torch.manual_seed(0)
    cfg = SynthesizerConfig(hidden=32, layers=2, mixtures=4, window_gaussians=3)
    save_checkpoint({"kind": "synthesizer", "model_config": cfg.to_dict(),
                     "feature_config": {"spacing": 0.14, "deslope": True}, "offset_scale": 0.1,
                     "alphabet": DEFAULT_ALPHABET.chars,
                     "state_dict": SynthesizerNet(cfg).state_dict()}, path)
    return path
