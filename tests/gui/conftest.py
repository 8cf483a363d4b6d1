"""GUI test setup: Qt runs offscreen (set before any Qt import) and each test gets a fresh
document, canvas or main window; message boxes are recorded instead of blocking."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from gui.canvas import InkCanvas  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from handwriting.document import InkDocument  # noqa: E402


@pytest.fixture
def document() -> InkDocument:
    return InkDocument()


@pytest.fixture
def canvas(qtbot, document) -> InkCanvas:
    widget = InkCanvas(document)
    widget.resize(480, 320)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    """(title, text) of every warning box the window would have shown."""
    shown: list[tuple[str, str]] = []

    def warning(parent, title, text, *args, **kwargs):
        shown.append((title, text))

    monkeypatch.setattr("gui.main_window.QMessageBox.warning", warning)
    return shown


@pytest.fixture
def window(qtbot, messages) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win
