"""Browsing one writer's samples in the Samples dialog: a table of their ink (a small
preview), the text they meant, the recognizer's reading and the date, with Delete. It reads
and writes through `handwriting.samples.SampleStore` only."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from handwriting.ink import Ink
from handwriting.samples import Sample, SampleStore

PREVIEW = QSize(220, 44)
COLUMNS = ("Ink", "Text", "Recognized", "Date")


def ink_preview(ink: Ink, size: QSize = PREVIEW, color: QColor | None = None) -> QPixmap:
    """`ink` scaled to fit `size` (aspect kept, y down as written), on a transparent pixmap."""
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.transparent)
    if ink.is_empty:
        return pixmap
    xy = np.concatenate([s.xy for s in ink.strokes])  # (N, 2) absolute coords
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = 3.0
    scale = min((size.width() - 2 * margin) / max(hi[0] - lo[0], 1e-6),
                (size.height() - 2 * margin) / max(hi[1] - lo[1], 1e-6))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(color or QColor("black"), 1.3, Qt.PenStyle.SolidLine,
                        Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    for stroke in ink.strokes:
        pts = (stroke.xy - lo) * scale + margin  # (n, 2) in pixels
        path = QPainterPath()
        path.moveTo(*pts[0])
        for x, y in pts[1:]:
            path.lineTo(x, y)
        if len(pts) == 1:
            path.lineTo(pts[0][0] + 0.5, pts[0][1])  # a dot
        painter.drawPath(path)
    painter.end()
    return pixmap


class SamplesBrowser(QWidget):
    """The samples of the writer given to `show_writer`, newest last; emits `changed` after
    a deletion."""

    changed = Signal()

    def __init__(self, store: SampleStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.writer: str | None = None
        self.samples: list[Sample] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(PREVIEW)
        self.table.verticalHeader().setDefaultSectionSize(PREVIEW.height() + 6)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, PREVIEW.width() + 8)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.empty_label = QLabel()
        self.delete_button = QPushButton("Delete sample")
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.on_delete)
        self.table.itemSelectionChanged.connect(
            lambda: self.delete_button.setEnabled(self.selected() is not None))
        buttons = QHBoxLayout()
        buttons.addWidget(self.empty_label, 1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def show_writer(self, name: str | None) -> None:
        """List `name`'s samples (none for None or an unknown name)."""
        known = {w.name for w in self.store.writers()}
        self.writer = name if name in known else None
        self.samples = self.store.samples(self.writer) if self.writer else []
        color = self.palette().color(QPalette.ColorRole.Text)
        self.table.setRowCount(len(self.samples))
        for row, s in enumerate(self.samples):
            ink_item = QTableWidgetItem(QIcon(ink_preview(s.ink, PREVIEW, color)), "")
            ink_item.setData(Qt.ItemDataRole.UserRole, s.id)
            ink_item.setToolTip(f"{len(s.ink)} strokes, {s.ink.num_points} points, "
                                f"{s.device or 'unknown device'}")
            cells = (s.text, s.recognized or "—",
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(s.created)))
            self.table.setItem(row, 0, ink_item)
            for col, text in enumerate(cells, 1):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.empty_label.setText("" if self.samples else
                                 "No samples yet: write some on the Write tab."
                                 if self.writer else "Choose a writer above.")
        self.delete_button.setEnabled(False)

    def selected(self) -> Sample | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.samples[rows.pop()] if len(rows) == 1 else None

    @Slot()
    def on_delete(self) -> None:
        sample = self.selected()
        if sample is None:
            return
        self.store.delete_sample(sample.id)
        self.show_writer(self.writer)
        self.changed.emit()
