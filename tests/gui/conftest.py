"""GUI test setup: Qt runs offscreen (set before any Qt import), torch uses one thread (the
CPU is shared), settings and autosaves go to a temporary folder, and each test gets a fresh
document, canvas or main window; message boxes are recorded instead of blocking."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from gui.canvas import InkCanvas  # noqa: E402
from gui.files import DocumentFiles  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from handwriting.document import InkDocument  # noqa: E402

torch.set_num_threads(1)
MODEL_TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def _isolated_app_state(tmp_path, monkeypatch):
    """Preferences and autosaves of each test live in its own temporary folder."""
    monkeypatch.setenv("HANDWRITING_APP_DATA", str(tmp_path / "app-data"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch):
    """Windows left with modified ink are closed at teardown: answer "Save changes?" with
    Discard (a refused close would leave a window with running threads to be destroyed).
    Tests of the question itself patch `ask_save_changes` again."""
    monkeypatch.setattr(DocumentFiles, "ask_save_changes", lambda self, action: "discard")


@pytest.fixture
def document() -> InkDocument:
    return InkDocument()


@pytest.fixture
def canvas(qtbot, document) -> InkCanvas:
    widget = InkCanvas(document)
    widget.resize(480, 320)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):  # a context manager: it waits for the show inside
        widget.show()
    return widget


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    """(title, text) of every warning box the window would have shown; questions (restore
    the autosave?) are answered No unless a test patches them."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def warning(parent, title, text, *args, **kwargs):
        shown.append((title, text))

    def question(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "question", question)
    return shown


@pytest.fixture
def window(qtbot, messages) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):  # a context manager: it waits for the show inside
        win.show()
    return win


@pytest.fixture
def ready_window(qtbot, window) -> MainWindow:
    """A window whose models have loaded (or failed to)."""
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    return window


@pytest.fixture(scope="session")
def recognizer():
    """The service the app uses, to compare the app's text with (not with fixed strings:
    the shipped models are still training)."""
    from handwriting.service import Recognizer

    return Recognizer.from_checkpoint()
