"""Preferences kept in QSettings (writing bias, style, speed, export stroke width and colour,
recent files, window geometry), the app-data folder, and the Preferences dialog."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QWidget,
)

from handwriting.exports import DEFAULT_DPI
from handwriting.presets import DEFAULT_STYLE
from handwriting.selfcheck import DEFAULT_CANDIDATES, MAX_CANDIDATES

ORGANIZATION = "handwriting"
APP_NAME = "Handwriting"
MAX_RECENT = 8
MIN_PNG_DPI, MAX_PNG_DPI = 30.0, 2400.0  # what handwriting.exports accepts


def settings() -> QSettings:
    """The app's settings (an INI file in the user's config folder; tests move it with
    `QSettings.setPath`)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APP_NAME)


def app_data_dir() -> Path:
    """Where autosaves go: $HANDWRITING_APP_DATA, else the platform's app-data folder."""
    env = os.environ.get("HANDWRITING_APP_DATA")
    if env:
        return Path(env)
    # Named after the application and organization that `gui.app.main` sets.
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


@dataclass
class Preferences:
    """What the app remembers between sessions."""

    bias: float = 0.75
    style: str = DEFAULT_STYLE  # the default hand; "None" in the Style control: unprimed
    speed: str = "realtime"  # realtime, fast, instant
    candidates: int = DEFAULT_CANDIDATES  # "Tries": self-checking synthesis
    match_hand: bool = True  # a writer's slant and letter width given to their written ink
    stroke_width: float = 2.5  # exported strokes, in % of the writing height
    color: str = "#1f2933"  # exported ink
    png_dpi: float = DEFAULT_DPI  # exported PNG resolution (the ink has a physical size)
    recent: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, store: QSettings | None = None) -> Preferences:
        store = store or settings()
        prefs = cls()
        for f in fields(cls):
            value = store.value(f"prefs/{f.name}")
            if value is None:
                continue
            try:
                if f.name == "recent":
                    value = [str(v) for v in (value if isinstance(value, list) else [value])]
                elif isinstance(getattr(prefs, f.name), bool):  # QSettings keeps "true"
                    value = str(value).lower() in ("true", "1")
                else:
                    value = type(getattr(prefs, f.name))(value)
            except (TypeError, ValueError):
                continue  # a hand-edited or old settings file: keep the default
            setattr(prefs, f.name, value)
        if not QColor(prefs.color).isValid():
            prefs.color = cls.color
        prefs.stroke_width = min(max(prefs.stroke_width, 0.1), 50.0)
        prefs.png_dpi = min(max(prefs.png_dpi, MIN_PNG_DPI), MAX_PNG_DPI)
        prefs.candidates = min(max(prefs.candidates, 1), MAX_CANDIDATES)
        return prefs

    def save(self, store: QSettings | None = None) -> None:
        """Store the preferences. Recent files are not written here: `add_recent` merges
        them, so one app's quit does not drop what another running app added."""
        store = store or settings()
        for name, value in asdict(self).items():
            if name != "recent":
                store.setValue(f"prefs/{name}", value)
        store.sync()

    def reload_recent(self, store: QSettings | None = None) -> None:
        """Take the recent files as stored now (another app may have added some)."""
        store = store or settings()
        store.sync()
        self.recent = _recent_list(store.value("prefs/recent"))

    def add_recent(self, path: Path, store: QSettings | None = None) -> None:
        """Put `path` first in the recent files, merged with the stored list."""
        store = store or settings()
        name = str(Path(path).resolve())
        store.sync()  # read what other running apps wrote
        stored = _recent_list(store.value("prefs/recent"))
        merged = [name] + [p for p in stored + self.recent if p != name]
        self.recent = list(dict.fromkeys(merged))[:MAX_RECENT]
        store.setValue("prefs/recent", self.recent)
        store.sync()


def _recent_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


class PreferencesDialog(QDialog):
    """Stroke width and colour of exported SVG and PNG ink, and the PNG's resolution."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.color = QColor(prefs.color)
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setRange(0.1, 50.0)
        self.width_spin.setSingleStep(0.5)
        self.width_spin.setSuffix(" % of writing height")
        self.width_spin.setValue(prefs.stroke_width)
        self.color_button = QPushButton()
        self.color_button.clicked.connect(self.on_pick_color)
        self._show_color()
        self.dpi_spin = QDoubleSpinBox()
        self.dpi_spin.setRange(MIN_PNG_DPI, MAX_PNG_DPI)
        self.dpi_spin.setDecimals(0)
        self.dpi_spin.setSingleStep(50)
        self.dpi_spin.setSuffix(" dpi")
        self.dpi_spin.setValue(prefs.png_dpi)
        self.dpi_spin.setToolTip("Pixels per inch of exported PNG images (the ink is drawn at "
                                 "its physical size; very large pictures get fewer)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Export stroke width", self.width_spin)
        form.addRow("Export ink colour", self.color_button)
        form.addRow("PNG resolution", self.dpi_spin)
        form.addRow(buttons)

    def on_pick_color(self) -> None:
        color = QColorDialog.getColor(self.color, self, "Ink colour")
        if color.isValid():
            self.color = color
            self._show_color()

    def _show_color(self) -> None:
        self.color_button.setText(self.color.name())
        self.color_button.setStyleSheet(
            f"background: {self.color.name()}; color: "
            f"{'white' if self.color.lightnessF() < 0.5 else 'black'}")

    def apply_to(self, prefs: Preferences) -> None:
        prefs.stroke_width = self.width_spin.value()
        prefs.color = self.color.name()
        prefs.png_dpi = self.dpi_spin.value()
