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


# ---------------------------------------------------------------------- browsing and writers


@pytest.fixture
def ada(qtbot, tmp_path):
    """A dialog on a store where Ada has two samples and Bea none; Ada is chosen."""
    from tests.fixtures import hershey_ink

    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("Ada")
        store.add_sample("Ada", hershey_ink("hello"), "hello", "hallo", "tablet", created=1.0)
        store.add_sample("Ada", hershey_ink("world"), "world", created=2.0)
        store.add_writer("Bea")
    d = SamplesDialog(tmp_path / "s.db")
    qtbot.addWidget(d)
    d.writer_box.setCurrentText("Ada")
    return d


def cells(dialog) -> list[tuple[str, str]]:
    t = dialog.browser.table
    return [(t.item(r, 1).text(), t.item(r, 2).text()) for r in range(t.rowCount())]


def test_browsing_lists_a_writers_samples_with_a_preview(ada):
    assert cells(ada) == [("hello", "hallo"), ("world", "—")]
    assert ada.count_label.text() == "2 samples"
    icon = ada.browser.table.item(0, 0).icon()
    image = icon.pixmap(ada.browser.table.iconSize()).toImage()
    inked = sum(image.pixelColor(x, y).alpha() > 0
                for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))
    assert inked > 20  # the ink is drawn, not an empty square
    assert ada.browser.table.item(0, 3).text()[:4].isdigit()  # a date
    ada.writer_box.setCurrentText("Bea")
    assert cells(ada) == [] and "No samples" in ada.browser.empty_label.text()
    assert not ada.adapt_button.isEnabled()  # nothing to adapt on


def test_deleting_a_sample(ada, tmp_path):
    ada.browser.table.selectRow(0)
    assert ada.browser.delete_button.isEnabled()
    ada.browser.delete_button.click()
    assert cells(ada) == [("world", "—")] and ada.count_label.text() == "1 sample"
    with SampleStore(tmp_path / "s.db") as store:
        assert [s.text for s in store.samples("Ada")] == ["world"]


def test_renaming_a_writer(ada, monkeypatch, messages, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Bea", True))
    assert not ada.on_rename() and "already exists" in messages[-1][1]  # taken: refused
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Ada L.", True))
    assert ada.on_rename()
    assert ada.writer_box.currentText() == "Ada L." and len(cells(ada)) == 2
    with SampleStore(tmp_path / "s.db") as store:
        assert [w.name for w in store.writers()] == ["Ada L.", "Bea"]


def test_deleting_a_writer_asks_first(ada, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert not ada.on_delete_writer()
    assert "Delete Ada and their 2 samples" in asked[-1]
    with SampleStore(tmp_path / "s.db") as store:
        assert len(store.samples("Ada")) == 2  # kept
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert ada.on_delete_writer()
    assert [ada.writer_box.itemText(i) for i in range(ada.writer_box.count())] == ["Bea"]
    with SampleStore(tmp_path / "s.db") as store:
        assert [w.name for w in store.writers()] == ["Bea"] and store.count_samples() == 0


def test_export_then_import_a_writer(ada, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    out = tmp_path / "ada.zip"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    assert ada.on_export() == out and out.is_file()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(out), ""))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Ada 2", True))
    assert ada.on_import() == "Ada 2"  # Ada exists: asked for another name
    assert ada.writer_box.currentText() == "Ada 2"
    assert cells(ada) == [("hello", "hallo"), ("world", "—")]
    assert ada.tabs.currentWidget() is ada.browser
    with SampleStore(tmp_path / "s.db") as store:
        assert [w.name for w in store.writers()] == ["Ada", "Ada 2", "Bea"]


def test_importing_a_file_that_is_not_a_zip_is_reported(ada, monkeypatch, messages, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    bad = tmp_path / "notes.zip"
    bad.write_text("hello")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    assert ada.on_import() is None
    assert "not a zip file" in messages[-1][1]


# ---------------------------------------------------------------------- adaptation


def fake_cli(monkeypatch, script: str) -> None:
    """The adaptation's child runs `script` (Python) instead of `handwriting adapt`."""
    import gui.workers.adaptation as adaptation

    monkeypatch.setattr(adaptation, "adapt_command", lambda *a, **k: ["-c", script])


PROGRESS = ("import json, sys, time\n"
            "def say(**e): print(json.dumps(e), file=sys.stderr, flush=True)\n"
            "say(stage='measuring', steps=4)\n"
            "for k in (1, 2): say(stage='adapting', step=k, steps=4, loss=1.0)\n")


def test_adaptation_reports_progress_and_the_error_rates(ada, monkeypatch, qtbot):
    fake_cli(monkeypatch, PROGRESS + "print(json.dumps({'cer_before': 0.25, 'cer_after': 0.125,"
             " 'steps': 4, 'seconds': 3.0, 'model': 'x.pt'}))\n")
    seen = []
    ada.adaptation.progress.connect(lambda *p: seen.append(p))
    with qtbot.waitSignal(ada.adapted, timeout=30_000) as blocker:
        assert ada.on_adapt()
        assert not ada.adapt_button.isEnabled() and ada.cancel_button.isEnabled()
    assert blocker.args == ["Ada"]
    assert seen == [("measuring", 0, 4), ("adapting", 1, 4), ("adapting", 2, 4)]
    assert "25.0 % before, 12.5 % after" in ada.adapt_label.text()
    assert ada.adapt_button.isEnabled() and not ada.cancel_button.isEnabled()


def test_a_failed_adaptation_says_why(ada, monkeypatch, qtbot):
    fake_cli(monkeypatch, "import sys; print('handwriting: error: writer has no samples', "
             "file=sys.stderr); sys.exit(2)")
    with qtbot.waitSignal(ada.adaptation.failed, timeout=30_000):
        ada.on_adapt()
    assert ada.adapt_label.text() == "Adaptation failed: writer has no samples"


def test_cancelling_adaptation_leaves_no_file(ada, monkeypatch, qtbot, tmp_path):
    from handwriting.appdata import adapted_model_path

    with SampleStore(tmp_path / "s.db") as store:
        out = adapted_model_path(tmp_path / "s.db", store.writer("Ada").id)
    # a child killed while saving: its temporary file is there, the checkpoint not yet
    fake_cli(monkeypatch, PROGRESS + f"import pathlib; p = pathlib.Path({str(out)!r})\n"
             "p.parent.mkdir(parents=True, exist_ok=True)\n"
             "(p.parent / (p.name + 'abc.tmp')).write_bytes(b'half')\n"
             "say(stage='saving', steps=4)\ntime.sleep(60)\n")
    stages = []
    ada.adaptation.progress.connect(lambda stage, *_: stages.append(stage))
    ada.on_adapt()
    qtbot.waitUntil(lambda: "saving" in stages, timeout=30_000)
    with qtbot.waitSignal(ada.adaptation.cancelled, timeout=10_000):
        ada.cancel_button.click()
    assert "cancelled" in ada.adapt_label.text()
    assert list(out.parent.iterdir()) == []
    assert ada.adapt_button.isEnabled() and not ada.adaptation.running


def test_closing_the_dialog_ends_its_adaptation(ada, monkeypatch, qtbot):
    fake_cli(monkeypatch, PROGRESS + "time.sleep(60)\n")
    ada.on_adapt()
    qtbot.waitUntil(lambda: ada.progress_bar.value() == 2, timeout=30_000)
    cancelled = []
    ada.adaptation.cancelled.connect(lambda: cancelled.append(True))
    ada.accept()
    assert cancelled and not ada.adaptation.running  # killed and waited for


@pytest.mark.slow
def test_adapting_with_the_real_cli_then_cancelling_a_second_run(ada, qtbot, tmp_path):
    """`handwriting adapt` itself, on a tiny recognizer: it writes the model; a second run
    cancelled mid-way leaves that file as it was."""
    from handwriting.appdata import adapted_model_path
    from tests.fixtures import write_tiny_recognizer

    ada.base_model = write_tiny_recognizer(tmp_path / "base.pt")
    ada.adapt_steps = 2
    with qtbot.waitSignal(ada.adapted, timeout=120_000):
        ada.on_adapt()
    assert "before" in ada.adapt_label.text(), ada.adapt_label.text()
    with SampleStore(tmp_path / "s.db") as store:
        out = adapted_model_path(tmp_path / "s.db", store.writer("Ada").id)
    before = out.read_bytes()
    ada.adapt_steps = 10_000
    stages = []
    ada.adaptation.progress.connect(lambda stage, step, steps: stages.append(step))
    ada.on_adapt()
    qtbot.waitUntil(lambda: any(stages), timeout=120_000)
    with qtbot.waitSignal(ada.adaptation.cancelled, timeout=30_000):
        ada.cancel_button.click()
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        [out.name, out.with_suffix(".json").name, out.with_suffix(".md").name])


def test_compare_styles_writes_the_writers_hand_beside_the_presets(qtbot, tmp_path, messages):
    """Issue 18: a few words side by side in a preset style and in the writer's."""
    from gui.style_compare import NO_STYLE_LABEL
    from handwriting.ink import Ink
    from tests.fixtures import hershey_ink
    from tests.gui.conftest import MODEL_TIMEOUT_MS

    with SampleStore(tmp_path / "s.db") as store:
        store.add_writer("Ada")
        store.add_sample("Ada", hershey_ink("written my way"), "written my way")
    d = SamplesDialog(tmp_path / "s.db")
    qtbot.addWidget(d)
    d.presets = ("tidy",)
    d.writer_box.setEditText("Ada")
    assert d.compare_button.isEnabled()
    assert d.on_compare()
    box = d.comparison
    qtbot.waitUntil(lambda: box.done_writing, timeout=3 * MODEL_TIMEOUT_MS)
    assert not box.errors
    assert set(box.inks) == {"Writer: Ada", NO_STYLE_LABEL, "tidy"}
    assert all(isinstance(i, Ink) and i.num_points > 20 for i in box.inks.values())
    # primed with Ada's sample, the same text and seed come out otherwise than unprimed
    assert box.inks["Writer: Ada"].num_points != box.inks[NO_STYLE_LABEL].num_points
    box.accept()
    d.writer_box.setEditText("Nobody")
    assert not d.compare_button.isEnabled()
