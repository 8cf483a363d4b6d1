"""Adapting the recognizer to a stored writer from the app: `handwriting adapt ... --json
--progress-json` runs in a child process (`QProcess`), so that the app's process never
imports torch; its progress lines become signals, Cancel kills it. The CLI writes the adapted
weights atomically, so a killed run leaves the previous file (or none), never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal, Slot

import handwriting


def adapt_command(db_path: Path, writer: str, base_model: Path | None = None,
                  steps: int | None = None) -> list[str]:
    """The arguments of `python` for adapting `writer` of the database at `db_path`."""
    args = ["-m", "handwriting", "adapt", "--samples-db", str(db_path), "--writer", writer,
            "--json", "--progress-json"]
    if base_model is not None:
        args += ["--model", str(base_model)]
    if steps is not None:
        args += ["--steps", str(steps)]
    return args


class AdaptationProcess(QObject):
    """One adaptation at a time. `progress(stage, step, steps)`: stage is "measuring",
    "adapting" or "saving"; `finished(summary)`: the CLI's JSON line (`cer_before`,
    `cer_after`, `model`, ...); `failed(message)`: its one-line error; `cancelled()`."""

    progress = Signal(str, int, int)
    finished = Signal(dict)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._output: Path | None = None
        self._stderr = b""
        self._errors: list[str] = []
        self._cancelling = False

    @property
    def running(self) -> bool:
        return self._proc is not None

    def start(self, db_path: str | Path, writer: str, output: Path,
              base_model: Path | None = None, steps: int | None = None) -> None:
        """Adapt `writer`; `output` is where the CLI will write (cleaned up on cancel)."""
        if self._proc is not None:
            raise RuntimeError("an adaptation is already running")
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        # the child runs this very `handwriting` package, wherever the app was started from
        root = str(Path(handwriting.__file__).resolve().parents[1])
        env.insert("PYTHONPATH", os.pathsep.join(p for p in (root, env.value("PYTHONPATH")) if p))
        proc.setProcessEnvironment(env)
        proc.setProgram(sys.executable)
        proc.setArguments(adapt_command(Path(db_path), writer, base_model, steps))
        proc.readyReadStandardError.connect(self.on_stderr)
        proc.finished.connect(self.on_finished)
        proc.errorOccurred.connect(self.on_error)
        self._proc, self._output = proc, Path(output)
        self._stderr, self._errors, self._cancelling = b"", [], False
        proc.start()

    def cancel(self) -> None:
        """Kill the child; `cancelled` follows once it has gone."""
        if self._proc is not None:
            self._cancelling = True
            self._proc.kill()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the child has ended (for closing a window and tests)."""
        return self._proc is None or self._proc.waitForFinished(msecs)

    @Slot()
    def on_stderr(self) -> None:
        if self._proc is None:
            return
        self._stderr += bytes(self._proc.readAllStandardError())
        *lines, self._stderr = self._stderr.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict) and "stage" in event:
                self.progress.emit(str(event["stage"]), int(event.get("step", 0)),
                                   int(event.get("steps", 0)))
            elif line:
                self._errors.append(line)

    @Slot(QProcess.ProcessError)
    def on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._proc is not None:
            self._end()
            self.failed.emit(f"could not start {sys.executable}")

    @Slot(int, QProcess.ExitStatus)
    def on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        proc = self._proc
        if proc is None:
            return
        self.on_stderr()
        out = bytes(proc.readAllStandardOutput()).decode("utf-8", "replace").strip()
        cancelling, output = self._cancelling, self._output
        self._end()
        if cancelling:
            _remove_temps(output)
            self.cancelled.emit()
            return
        summary = None
        with contextlib.suppress(ValueError, IndexError):
            summary = json.loads(out.splitlines()[-1])
        if code == 0 and status == QProcess.ExitStatus.NormalExit and isinstance(summary, dict):
            self.finished.emit(summary)
        else:
            last = self._errors[-1] if self._errors else f"exit status {code}"
            self.failed.emit(last.removeprefix("handwriting: error: "))

    def _end(self) -> None:
        self._proc.deleteLater()
        self._proc = None


def _remove_temps(path: Path | None) -> None:
    """Temporary files a killed save could leave beside `path` (the checkpoint's own and
    its card's); the files themselves are only ever replaced whole."""
    if path is None or not path.parent.is_dir():
        return
    for tmp in [*path.parent.glob(f"{path.name}*.tmp"),
                *path.parent.glob(f".{path.stem}.*.tmp")]:
        with contextlib.suppress(OSError):
            tmp.unlink()
