"""Where the app's user data lives, found the same way by the app and the CLI: the samples
database (`samples.SampleStore`) and, beside it, each writer's adapted recognizer."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def adapted_model_path(db_path: str | Path, writer_id: int) -> Path:
    """Where a writer's adapted recognizer lives: `<db>.adapted/writer-<id>.pt` beside the
    samples database (by id, so renaming a writer keeps their model). Here, not in
    `adaptation`, so that the app's process finds it without importing torch."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".adapted") / f"writer-{writer_id}.pt"


def default_db_path() -> Path:
    """The samples database in the app's data folder: $HANDWRITING_SAMPLES_DB, else
    $HANDWRITING_APP_DATA/samples.db, else the folder Qt's AppDataLocation names for the app
    (organization "handwriting", application "Handwriting"), so the CLI and the app share it."""
    env = os.environ.get("HANDWRITING_SAMPLES_DB")
    if env:
        return Path(env)
    if os.environ.get("HANDWRITING_APP_DATA"):
        return Path(os.environ["HANDWRITING_APP_DATA"]) / "samples.db"
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "handwriting" / "Handwriting" / "samples.db"
