"""The built wheel works without the checkout: it is installed in a fresh venv and, from a
folder outside the repository, recognizes a fixture ink file and writes a word as ink, through
the CLI and through `import handwriting` (the README's "Use it from Python" example, as
written), with the weights and resources the wheel carries.

Slow (about 20 s, most of it loading torch three times), so the README's test command skips
it; `.ci/run` runs it after the tests. torch is not downloaded: the fresh venv borrows this
venv's installed dependencies through a `.pth` file and the wheel goes in with `--no-deps
--no-index`. The build uses this venv's setuptools when it is as recent as pyproject.toml asks
(>= 68), else pip's isolated build fetches it (a venv made by Python 3.11 has 65.5).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the build reads: the packages (setup.py), the metadata and the weights in models/.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "handwriting", "gui", "models")
FIXTURE = ROOT / "data" / "fixtures" / "quick.json"

# Run before and after the README's "Use it from Python" example.
BEFORE_EXAMPLE = """
import json, sys
import handwriting
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "PySide6"))
"""
AFTER_EXAMPLE = """
from handwriting.results import models_dir
print(json.dumps({"file": handwriting.__file__, "models": str(models_dir()), "heavy": heavy,
                  "strokes": len(handwriting.read_ink("hello.svg").strokes)}))
"""


def readme_example() -> str:
    """The python block under the README's "Use it from Python" heading."""
    section = (ROOT / "README.md").read_text().split("## Use it from Python", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def _setuptools_is_recent() -> bool:
    """pyproject.toml asks for setuptools>=68; with it here, the build needs no download."""
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


def build_wheel(out: Path) -> Path:
    """Build the wheel from a copy of the sources (an in-tree build would leave `build/` and
    `*.egg-info` in the checkout) and return its path."""
    src = out / "src"
    src.mkdir(parents=True)
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    isolation = ["--no-build-isolation"] if _setuptools_is_recent() else []
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation,
                          "-q", "-w", str(out / "dist"), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    (wheel,) = (out / "dist").glob("handwriting-*.whl")
    return wheel


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel, with this venv's site-packages on its path for the
    dependencies; returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    python = where / "bin" / "python"
    run = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                          "-q", "--no-deps", "--no-index", str(wheel)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()
    # Added after the venv's own site-packages, so the wheel's `handwriting` comes first;
    # the .pth files in there (this checkout's editable install) are not run.
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    Path(site, "_handwriting_test_deps.pth").write_text("\n".join(deps) + "\n")
    return where / "bin"


def test_the_wheel_carries_the_weights_and_resources(tmp_path):
    names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
    for weights in sorted((ROOT / "models").glob("*.pt")) + [ROOT / "models" / "styles.npz"]:
        assert f"handwriting/_models/{weights.name}" in names
    for resource in sorted((ROOT / "handwriting" / "resources").iterdir()):
        assert f"handwriting/resources/{resource.name}" in names
    assert "handwriting/cli.py" in names or "handwriting/cli/__init__.py" in names
    assert "gui/app.py" in names


@pytest.mark.slow
def test_the_installed_wheel_reads_and_writes_ink_outside_the_checkout(tmp_path):
    bin_dir = fresh_venv(tmp_path / "venv", build_wheel(tmp_path / "build"))
    work = tmp_path / "work"  # outside the checkout: nothing can come from the sources
    work.mkdir()
    shutil.copy2(FIXTURE, work / "quick.json")
    (work / "data" / "fixtures").mkdir(parents=True)  # where the README's example reads it
    shutil.copy2(FIXTURE, work / "data" / "fixtures" / "quick.json")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "HANDWRITING_MODELS", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", HANDWRITING_APP_DATA=str(tmp_path / "app-data"))

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        return done.stdout

    (read,) = json.loads(run(str(bin_dir / "handwriting"), "recognize", "--json", "quick.json"))
    assert read["text"].strip()
    assert "wrote hello.svg" in run(str(bin_dir / "handwriting"), "synthesize", "hello",
                                    "-o", "hello.svg", "--seed", "1")
    assert "<path" in (work / "hello.svg").read_text()

    (work / "hello.svg").unlink()
    script = BEFORE_EXAMPLE + readme_example() + AFTER_EXAMPLE
    *printed, last = run(str(bin_dir / "python"), "-c", script).splitlines()
    library = json.loads(last)
    installed = (tmp_path / "venv").resolve()
    assert Path(library["file"]).resolve().is_relative_to(installed)
    assert Path(library["models"]).resolve().is_relative_to(installed)
    assert library["heavy"] == []  # `import handwriting` loaded neither torch nor Qt
    assert printed[0] == read["text"]  # the library reads the page as the CLI does
    assert library["strokes"] > 0
