"""The status bar and About box show the model card's headline figures (split, decoder),
not the checkpoint's internal validation number."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from gui.messages import ModelInfo, card_headline  # noqa: E402

CARD = """# Recognizer

| split | lines | decoder | CER | WER |
| --- | --- | --- | --- | --- |
| testset_v | 1438 | greedy | 8.26 % | 30.19 % |
| testset_v | 1438 | beam + LM (default) | 6.63 % | 23.17 % |
| testset_t | 1518 | greedy | 7.76 % | 29.92 % |
| testset_t | 1518 | beam + LM (default) | 6.13 % | 23.18 % |

Other text | with a bar.
"""


def test_headline_is_the_default_decoder_on_testset_t():
    assert card_headline(CARD) == "testset_t: CER 6.13 %, WER 23.18 %, beam + LM"
    assert card_headline("# no table") is None


def test_summary_prefers_the_card_and_labels_validation_figures():
    metrics = {"val_cer": 0.081}
    plain = ModelInfo("recognizer", Path("recognizer.pt"), 4_800_000, metrics)
    assert plain.summary == "recognizer.pt (4.8 MB, validation CER 8.1 %)"
    carded = ModelInfo("recognizer", Path("recognizer.pt"), 4_800_000, metrics,
                       headline=card_headline(CARD))
    assert "testset_t: CER 6.13 %" in carded.summary and "8.1" not in carded.summary


def test_shipped_card_has_a_headline():
    card = Path(__file__).parents[2] / "models" / "recognizer.md"
    assert card_headline(card.read_text()).startswith("testset_t: CER ")
