"""Side panels of the main window: the recognized text (a view of the document's transcript:
hovering a character marks its ink, clicking a candidate accepts it) and the typed-text
panel (text box, neatness, style, speed, Write and Stop)."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from gui.painting import char_color, is_dark
from handwriting.alphabet import detokenize
from handwriting.document import InkDocument
from handwriting.edits import DocumentEvent
from handwriting.selfcheck import DEFAULT_CANDIDATES, MAX_CANDIDATES

NO_STYLE = "None"
MY_STYLE = "Use my handwriting"
WRITER_STYLE = "Writer: {}"  # a stored writer of the sample store (File > Handwriting Samples)
SPEEDS = {"realtime": "Real time", "fast": "Fast (4×)", "instant": "Instant"}
SPEED_FACTORS = {"realtime": 1.0, "fast": 4.0, "instant": None}


def display_text(raw: str) -> tuple[str, list[int]]:
    """The text as shown (`detokenize`: 'Mr . Foot , he' -> 'Mr. Foot, he') and, for each
    shown character, its index in `raw` (detokenizing only ever removes spaces)."""
    shown = detokenize(raw)
    index, j = [], 0
    for ch in shown:
        while j < len(raw) and raw[j] != ch:
            j += 1
        if j == len(raw):  # not a pure space removal after all: show the raw text
            return raw, list(range(len(raw)))
        index.append(j)
        j += 1
    return shown, index


class RecognizedTextPanel(QWidget):
    """The chosen text of every line in bold, its other candidates as links below it.
    Emits `char_hovered(line, char)` (char indexes the line's recognized text; -1, -1 when
    the mouse leaves the text) and writes a clicked candidate back to the document."""

    char_hovered = Signal(int, int)
    PLACEHOLDER = "Write on the canvas: the recognized text appears here."

    def __init__(self, document: InkDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.color_by_char = False
        self._blocks: dict[int, tuple[int, list[int]]] = {}  # block -> (line, raw indices)
        self._hovered = (-1, -1)

        self.browser = QTextBrowser()
        self.browser.setObjectName("recognizedText")
        self.browser.setOpenLinks(False)
        self.browser.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.browser.anchorClicked.connect(self.on_anchor_clicked)
        self.browser.viewport().setMouseTracking(True)
        self.browser.viewport().installEventFilter(self)

        self.placeholder = QLabel(self.PLACEHOLDER)
        self.placeholder.setWordWrap(True)
        muted = self.placeholder.palette()
        muted.setColor(QPalette.ColorRole.WindowText,
                       muted.color(QPalette.ColorRole.PlaceholderText))
        self.placeholder.setPalette(muted)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.browser, 1)
        unsubscribe = document.subscribe(self._on_document_event)
        self.destroyed.connect(lambda *_: unsubscribe())
        self.refresh()

    # ------------------------------------------------------------------ reading
    def text(self) -> str:
        """The shown text of all lines (detokenized), one per line."""
        return "\n".join(display_text(t.text)[0] for t in self.document.transcript)

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)

    def set_color_by_char(self, on: bool) -> None:
        self.color_by_char = bool(on)
        self.refresh()

    # ------------------------------------------------------------------ model -> view
    def _on_document_event(self, event: DocumentEvent) -> None:
        if event.kind == "transcript_changed":
            self.refresh()

    def refresh(self) -> None:
        """Rebuild the text from the document's transcript."""
        transcript = self.document.transcript
        self.placeholder.setVisible(not transcript)
        self.browser.setVisible(bool(transcript))
        doc = self.browser.document()
        doc.clear()
        self._blocks = {}
        cursor = QTextCursor(doc)
        base = QFont(self.font())
        big = QTextCharFormat()
        big.setFontPointSize(base.pointSizeF() * 1.5)
        big.setFontWeight(QFont.Weight.Bold)
        small = QTextCharFormat()
        small.setFontPointSize(base.pointSizeF() * 0.95)
        small.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        dark = is_dark(self.palette())
        offset = 0
        for i, line in enumerate(transcript):
            if i:
                cursor.insertBlock()
            shown, raw_index = display_text(line.text)
            self._blocks[cursor.block().blockNumber()] = (i, raw_index)
            if self.color_by_char:
                for ch, raw in zip(shown, raw_index, strict=True):
                    fmt = QTextCharFormat(big)
                    if raw < len(line.points):
                        fmt.setForeground(char_color(offset + raw, dark))
                    cursor.insertText(ch, fmt)
            else:
                cursor.insertText(shown, big)  # one call a line, not one a character
            offset += len(line.points)
            others = [j for j in range(len(line.candidates)) if j != line.chosen]
            if others:
                cursor.insertBlock()
                cursor.insertText("or: ", small)
                links = " · ".join(
                    f'<a href="candidate:{i}:{j}">{html.escape(display_text(line.candidates[j])[0])}</a>'
                    for j in others)
                cursor.insertHtml(f'<span style="font-size:{small.fontPointSize():g}pt">'
                                  f"{links}</span>")
        self._hovered = (-1, -1)

    # ------------------------------------------------------------------ view -> model
    @Slot(QUrl)
    def on_anchor_clicked(self, url: QUrl) -> None:
        kind, line, candidate = url.toString().split(":")
        if kind == "candidate":
            self.document.choose_candidate(int(line), int(candidate))

    def char_at(self, pos: QPointF) -> tuple[int, int]:
        """(line, character of its recognized text) under viewport position `pos`."""
        doc = self.browser.document()
        offset = QPointF(self.browser.horizontalScrollBar().value(),
                         self.browser.verticalScrollBar().value())
        at = doc.documentLayout().hitTest(pos + offset, Qt.HitTestAccuracy.ExactHit)
        if at < 0:
            return -1, -1
        block = doc.findBlock(at)
        entry = self._blocks.get(block.blockNumber())
        if entry is None:
            return -1, -1
        line, raw_index = entry
        k = at - block.position()
        return (line, raw_index[k]) if 0 <= k < len(raw_index) else (-1, -1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.browser.viewport():
            if event.type() == QEvent.Type.MouseMove:
                self._hover(self.char_at(event.position()))
            elif event.type() == QEvent.Type.Leave:
                self._hover((-1, -1))
        return super().eventFilter(watched, event)

    def _hover(self, where: tuple[int, int]) -> None:
        if where != self._hovered:
            self._hovered = where
            self.char_hovered.emit(*where)


class WritePanel(QWidget):
    """Typed text -> ink: the text, neatness (the sampling bias of Graves 2013, §5.4), a
    style, the drawing speed, and Write / Stop. The window does the work."""

    write_clicked = Signal()
    stop_clicked = Signal()
    style_changed = Signal(str)  # the chosen style's text, once per change (not per rebuild)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("typedText")
        self.text_edit.setPlaceholderText("Type text here and press Write (Ctrl+Return)")
        self.text_edit.setTabChangesFocus(True)
        lines = self.text_edit.fontMetrics().lineSpacing()
        self.text_edit.setFixedHeight(round(2.6 * lines) + 12)

        self.bias_slider = QSlider(Qt.Orientation.Horizontal)
        self.bias_slider.setRange(0, 300)
        self.bias_slider.setMinimumWidth(120)
        self.bias_slider.setToolTip("Sampling bias: 0 is free and varied, 3 is neat and steady")
        self.bias_label = QLabel()
        self.bias_slider.valueChanged.connect(self.on_bias_changed)
        self.style_combo = QComboBox()
        self.style_combo.setToolTip(
            "Whose handwriting to imitate. tidy (the first choice) is the most legible hand; "
            "None is the model's own, a new one for each line. A stored writer (File > "
            "Handwriting Samples) is imitated from their samples, and their writing is read "
            "with the recognizer adapted to them when there is one (the status bar says which).")
        self._presets: tuple[str, ...] = ()
        self._writers: tuple[str, ...] = ()
        self._shown_style = ""
        # A style asked for before its item exists (a saved preset, before the synthesizer
        # has said which presets it has): chosen when it appears, unless the user picks first.
        self._pending_style: str | None = None
        self._listed = False  # whether the synthesizer has said which presets it has
        self.tries_spin = QSpinBox()
        self.tries_spin.setObjectName("triesSpin")
        self.tries_spin.setRange(1, MAX_CANDIDATES)
        self.tries_spin.setValue(DEFAULT_CANDIDATES)
        self.tries_spin.setToolTip("Write each line this many times and keep the one the "
                                   "recognizer reads best (1: write once, fastest)")
        self.hand_check = QCheckBox("Their slant && width")
        self.hand_check.setObjectName("matchHand")
        self.hand_check.setChecked(True)
        self.hand_check.setToolTip(
            "With a stored writer or Use my handwriting: give the ink the slant and letter "
            "width measured on their lines (priming alone carries them only part of the way). "
            "Off: the ink as priming makes it.")
        self.speed_combo = QComboBox()
        for key, label in SPEEDS.items():
            self.speed_combo.addItem(label, key)
        self.write_button = QPushButton("&Write")
        self.write_button.setDefault(True)
        self.write_button.clicked.connect(self.write_clicked)
        self.stop_button = QPushButton("&Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_clicked)

        controls = QGridLayout()
        controls.setHorizontalSpacing(8)
        controls.setVerticalSpacing(4)
        controls.addWidget(QLabel("Neatness"), 0, 0)
        controls.addWidget(self.bias_slider, 0, 1)
        controls.addWidget(self.bias_label, 0, 2)
        controls.addWidget(QLabel("Style"), 1, 0)
        controls.addWidget(self.style_combo, 1, 1, 1, 2)
        controls.addWidget(QLabel("Speed"), 0, 3)
        controls.addWidget(self.speed_combo, 0, 4)
        controls.addWidget(self.write_button, 1, 3)
        controls.addWidget(self.stop_button, 1, 4)
        controls.addWidget(QLabel("Tries"), 2, 0)
        controls.addWidget(self.tries_spin, 2, 1)
        controls.addWidget(self.hand_check, 2, 3, 1, 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text_edit, 1)
        layout.addLayout(controls)
        self.highlighted: int | None = None  # the character marked by `highlight_char`
        self.style_combo.currentIndexChanged.connect(self._on_style_picked)
        self.set_styles((), listed=False)
        self.set_bias(0.75)

    # ------------------------------------------------------------------ values
    def text(self) -> str:
        return self.text_edit.toPlainText()

    def bias(self) -> float:
        return self.bias_slider.value() / 100

    def set_bias(self, bias: float) -> None:
        self.bias_slider.setValue(round(min(max(bias, 0.0), 3.0) * 100))
        self.on_bias_changed(self.bias_slider.value())

    def style(self) -> str:
        return self.style_combo.currentText()

    def requested_style(self) -> str:
        """The style to write with: one asked for (`request_style`, or restored from the
        settings) whose preset is not listed yet because the synthesizer is still loading,
        else the one shown."""
        return (self._pending_style if not self._listed else None) or self.style()

    def request_style(self, name: str) -> None:
        """Choose style `name`; a preset not listed yet is chosen once the synthesizer lists
        it (`set_styles`)."""
        self.set_styles(self._presets, name, listed=self._listed)

    def presets(self) -> tuple[str, ...]:
        """The synthesizer's style presets listed in the control."""
        return self._presets

    def writer(self) -> str | None:
        """The stored writer chosen as the style, or None."""
        return self.style_combo.currentData()

    def set_styles(self, presets, current: str | None = None, listed: bool = True) -> None:
        """`None`, the synthesizer's presets, `Use my handwriting`, and the stored writers
        (`set_writers`). The choice kept is `current`, else a style asked for earlier whose
        item was missing then, else the one shown. `listed=False`: the synthesizer has not
        said yet which presets it has."""
        current = current or self._pending_style or self.style()
        self._listed = listed
        self._presets = tuple(sorted(presets))
        self.style_combo.blockSignals(True)  # one `style_changed` for the rebuild, at most
        self.style_combo.clear()
        self.style_combo.addItems([NO_STYLE, *self._presets, MY_STYLE])
        for name in self._writers:
            self.style_combo.addItem(WRITER_STYLE.format(name), name)
        index = self.style_combo.findText(current)
        self._pending_style = current if index < 0 else None
        self.style_combo.setCurrentIndex(max(index, 0))
        self.style_combo.blockSignals(False)
        self.on_style_index_changed()

    def set_writers(self, names, current: str | None = None) -> None:
        """The sample store's writers, listed after the presets as 'Writer: NAME'."""
        self._writers = tuple(names)
        self.set_styles(self._presets, current, listed=self._listed)

    @Slot(int)
    def _on_style_picked(self, index: int) -> None:
        """A style chosen in the control (by the user or `setCurrentIndex`, not a rebuild): it
        wins over one asked for earlier."""
        self._pending_style = None
        self.on_style_index_changed(index)

    @Slot()
    def on_style_index_changed(self, _index: int = -1) -> None:
        self.hand_check.setEnabled(self.writer() is not None or self.style() == MY_STYLE)
        if self.style() != self._shown_style:
            self._shown_style = self.style()
            self.style_changed.emit(self._shown_style)

    def speed(self) -> str:
        return self.speed_combo.currentData()

    def candidates(self) -> int:
        """Candidates per line for self-checking synthesis ("Tries")."""
        return self.tries_spin.value()

    def set_candidates(self, candidates: int) -> None:
        self.tries_spin.setValue(candidates)

    def match_hand(self) -> bool:
        """Whether a writer's slant and letter width are given to the ink written in their
        style ("Their slant & width"; `handwriting.likeness`)."""
        return self.hand_check.isChecked()

    def set_match_hand(self, match: bool) -> None:
        self.hand_check.setChecked(match)

    def set_speed(self, speed: str) -> None:
        index = self.speed_combo.findData(speed)
        if index >= 0:
            self.speed_combo.setCurrentIndex(index)

    def set_running(self, running: bool) -> None:
        self.write_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def highlight_char(self, index: int | None) -> None:
        """Mark character `index` of the text (the one being written) in the selection
        colour, without moving the text cursor; None clears the mark."""
        self.highlighted = index if index is not None and 0 <= index < len(self.text()) else None
        if self.highlighted is None:
            self.text_edit.setExtraSelections([])
            return
        cursor = QTextCursor(self.text_edit.document())
        cursor.setPosition(index)
        cursor.setPosition(index + 1, QTextCursor.MoveMode.KeepAnchor)
        mark = QTextEdit.ExtraSelection()
        mark.cursor = cursor
        fmt = QTextCharFormat()
        fmt.setBackground(self.palette().color(QPalette.ColorRole.Highlight))
        fmt.setForeground(self.palette().color(QPalette.ColorRole.HighlightedText))
        mark.format = fmt
        self.text_edit.setExtraSelections([mark])

    @Slot(int)
    def on_bias_changed(self, value: int) -> None:
        self.bias_label.setText(f"{value / 100:.2f}")
