"""Side panels of the main window. For now only the recognized-text panel, which shows
whatever text it is given; the recognizer is wired in through the service API elsewhere."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class RecognizedTextPanel(QWidget):
    """The recognized text of the canvas's ink, in a large selectable label; empty until a
    recognizer calls `set_text`."""

    PLACEHOLDER = "No recognizer connected."

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_label = QLabel()
        self.text_label.setObjectName("recognizedText")
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setWordWrap(True)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.text_label.setFont(font)

        self.placeholder = QLabel(self.PLACEHOLDER)
        muted = self.placeholder.palette()
        muted.setColor(QPalette.ColorRole.WindowText,
                       muted.color(QPalette.ColorRole.PlaceholderText))
        self.placeholder.setPalette(muted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.addWidget(self.text_label)
        layout.addWidget(self.placeholder)
        layout.addStretch(1)
        self.set_text("")

    def text(self) -> str:
        return self.text_label.text()

    def set_text(self, text: str) -> None:
        self.text_label.setText(text)
        self.text_label.setVisible(bool(text))
        self.placeholder.setVisible(not text)
