"""The recognized-text panel is a view of the document's transcript (detokenized text, the
other candidates as links that write back, hover -> the character under the mouse) and the
typed-text panel holds the writing settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QUrl

from gui.panels import MY_STYLE, NO_STYLE, RecognizedTextPanel, WritePanel, display_text
from handwriting.document import TranscriptLine
from handwriting.ink import Stroke
from handwriting.results import Recognition

pytestmark = pytest.mark.gui


def transcript_line(candidates: tuple[str, ...], y: float = 0.0) -> TranscriptLine:
    """A line with one 10-point stroke per character of the best candidate."""
    n = len(candidates[0])
    strokes = tuple(Stroke.from_xy([(10 * i + k, y) for k in range(10)]) for i in range(n))
    points = tuple(tuple(np.arange(10 * i, 10 * i + 10) for i in range(len(c)))
                   for c in candidates)
    return TranscriptLine(strokes, Recognition.of_texts(candidates, points))


def test_display_text_maps_shown_characters_to_recognized_ones():
    shown, index = display_text("Mr . Foot , he 's")
    assert shown == "Mr. Foot, he's"
    assert [("Mr . Foot , he 's")[i] for i in index] == list(shown)
    assert display_text("") == ("", [])


@pytest.fixture
def panel(qtbot, document) -> RecognizedTextPanel:
    widget = RecognizedTextPanel(document)
    widget.resize(600, 200)
    qtbot.addWidget(widget)
    with qtbot.waitExposed(widget):  # a context manager: it waits for the show inside
        widget.show()
    return widget


def test_panel_shows_the_transcript_and_candidates_write_back(panel, document):
    assert panel.text() == "" and panel.placeholder.isVisible()
    document.set_transcript([transcript_line(("hi , you", "hi , yon", "bi , you")),
                             transcript_line(("ok",), y=50)])
    assert panel.text() == "hi, you\nok"
    assert not panel.placeholder.isVisible()
    plain = panel.browser.toPlainText()
    assert "hi, yon" in plain and "bi, you" in plain  # the other candidates, as links
    panel.browser.anchorClicked.emit(QUrl("candidate:0:2"))
    assert document.transcript[0].text == "bi , you"
    assert panel.text() == "bi, you\nok"


def test_hovering_a_character_reports_its_line_and_index(panel, document, qtbot):
    document.set_transcript([transcript_line(("ab , cd",))])
    doc = panel.browser.document()
    block = doc.firstBlock()
    layout = block.layout()
    # The shown text is "ab, cd": shown index 2 is the comma, raw index 3.
    line = layout.lineAt(0)
    x = (line.cursorToX(2)[0] + line.cursorToX(3)[0]) / 2
    pos = layout.position() + QPointF(x, line.y() + line.height() / 2)
    assert panel.char_at(pos - QPointF(panel.browser.horizontalScrollBar().value(), 0)) == (0, 3)
    assert panel.char_at(QPointF(590, 190)) == (-1, -1)
    with qtbot.waitSignal(panel.char_hovered) as blocker:
        panel._hover(panel.char_at(pos))
    assert blocker.args == [0, 3]


def test_write_panel_values(qtbot):
    panel = WritePanel()
    qtbot.addWidget(panel)
    assert panel.bias() == pytest.approx(0.75)
    assert panel.bias_slider.minimum() == 0 and panel.bias_slider.maximum() == 300
    panel.set_styles(["b", "a"])
    items = [panel.style_combo.itemText(i) for i in range(panel.style_combo.count())]
    assert items == [NO_STYLE, "a", "b", MY_STYLE]
    panel.set_speed("instant")
    assert panel.speed() == "instant"
    panel.set_bias(5.0)
    assert panel.bias() == 3.0 and panel.bias_label.text() == "3.00"
    panel.set_running(True)
    assert panel.stop_button.isEnabled() and not panel.write_button.isEnabled()
