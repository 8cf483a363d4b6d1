"""The Samples dialog: view -> model (writing and saving lands in the sample store) and
model -> view (stored writers and counts are shown)."""

from __future__ import annotations

import pytest

from gui.samples_dialog import SamplesDialog
from handwriting.samples import PROMPTS, SampleStore
from tests.gui.helpers import drag, zigzag

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot, tmp_path):
    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("Bea")
    d = SamplesDialog(tmp_path / "s.db")
    qtbot.addWidget(d)
    with qtbot.waitExposed(d):
        d.show()
    return d


def test_writing_and_saving_stores_the_ink_with_the_prompt(dialog, tmp_path, messages):
    assert [dialog.writer_box.itemText(i) for i in range(dialog.writer_box.count())] == ["Bea"]
    dialog.writer_box.setEditText("Ada")
    assert not dialog.on_save()  # nothing written yet
    assert messages and "first" in messages[-1][1]
    drag(dialog.canvas, zigzag(40, 80))
    drag(dialog.canvas, zigzag(60, 90))
    assert dialog.on_save()
    assert dialog.document.ink.is_empty and dialog.prompt == PROMPTS[1]
    assert dialog.count_label.text() == "1 sample"
    with SampleStore(tmp_path / "s.db") as store:
        [s] = store.samples("Ada")
        assert s.text == PROMPTS[0] and len(s.ink) == 2 and s.device == "app"
        assert sorted(w.name for w in store.writers()) == ["Ada", "Bea"]


def test_a_sample_needs_a_writer(dialog, messages):
    dialog.writer_box.setEditText("  ")
    drag(dialog.canvas, zigzag(40, 80))
    assert not dialog.on_save()
    assert "name" in messages[-1][1]
    assert not dialog.document.ink.is_empty  # the ink is kept


def test_the_file_menu_opens_the_dialog_on_the_app_data_database(window, tmp_path):
    window.samples_action.trigger()
    dialog = window.samples_dialog
    assert dialog.isVisible()
    assert dialog.store.path == tmp_path / "app-data" / "samples.db"
    dialog.writer_box.setEditText("Ada")
    drag(dialog.canvas, zigzag(40, 80))
    assert dialog.on_save()
    dialog.accept()
    with SampleStore(tmp_path / "app-data" / "samples.db") as store:
        assert [s.text for s in store.samples("Ada")] == [PROMPTS[0]]


def test_a_foreign_database_is_reported_not_opened(window, tmp_path, messages):
    (tmp_path / "app-data").mkdir(exist_ok=True)
    (tmp_path / "app-data" / "samples.db").write_text("not a database\n" * 10)
    window.samples_action.trigger()
    assert "not a SQLite database" in messages[-1][1]
    assert (tmp_path / "app-data" / "samples.db").read_text() == "not a database\n" * 10
