"""Stored writers in the main window: the style control lists the sample store's writers,
writing in a writer's style primes synthesis with their sample that covers the text best,
and choosing a writer switches recognition to their adapted recognizer (the base model
otherwise), which the status bar names."""

from __future__ import annotations

import numpy as np
import pytest

from gui.panels import MY_STYLE, NO_STYLE, WRITER_STYLE
from handwriting.appdata import adapted_model_path
from handwriting.samples import SampleStore
from tests.fixtures import hershey_ink, write_tiny_recognizer
from tests.gui.conftest import MODEL_TIMEOUT_MS

pytestmark = pytest.mark.gui


def styles(window) -> list[str]:
    combo = window.write_panel.style_combo
    return [combo.itemText(i) for i in range(combo.count())]


def choose(window, style: str) -> None:
    combo = window.write_panel.style_combo
    combo.setCurrentIndex(combo.findText(style))  # as a click in the list does


@pytest.fixture
def db(tmp_path):
    """The app-data sample store (the one the Samples dialog uses) with Ada's samples."""
    path = tmp_path / "app-data" / "samples.db"
    with SampleStore(path) as store:
        store.add_writer("Ada")
        store.add_sample("Ada", hershey_ink("zebra"), "zebra", created=1.0)
        store.add_sample("Ada", hershey_ink("the fox"), "the fox", created=2.0)
        store.add_sample("Ada", hershey_ink("aaaaaaaaaaaa"), "aaaaaaaaaaaa", created=3.0)
        store.add_writer("Bob")
    return path


def test_stored_writers_are_listed_and_prime_synthesis_with_their_best_sample(
        db, window, monkeypatch):
    window.writers.refresh()  # as when the Samples dialog closes
    assert WRITER_STYLE.format("Ada") in styles(window)
    assert WRITER_STYLE.format("Bob") in styles(window)
    assert styles(window).index(WRITER_STYLE.format("Ada")) > styles(window).index(NO_STYLE)
    sent = []
    monkeypatch.setattr(window.workers, "synthesize",
                        lambda text, bias, style, prime, *a, **k: sent.append((style, prime)) or 1)
    choose(window, WRITER_STYLE.format("Ada"))
    assert window.write_panel.writer() == "Ada"
    assert window.write_text("the box", speed="instant")
    [(style, (ink, text, hand_from, match_hand))] = sent
    assert match_hand  # the writer's slant and letter width: on unless unticked
    assert style is None and text == "the fox"  # the sample sharing most of t, h, e, b, o, x
    assert ink.num_points == hershey_ink("the fox").num_points
    # Ada's hand (slant, letter width) is measured on all her lines, not the prime's alone
    assert sorted(t for _, t in hand_from) == ["aaaaaaaaaaaa", "the fox", "zebra"]
    choose(window, WRITER_STYLE.format("Bob"))  # no samples: nothing to imitate
    assert not window.write_text("the box")
    assert len(sent) == 1 and "Bob has no samples" in window.statusBar().currentMessage()


def test_their_slant_and_width_is_a_choice_for_writers_only(db, window, monkeypatch):
    """"Their slant & width" (on by default) is sent with a writer's prime; off, the job says
    so and the written ink keeps priming's own slant and width. It means nothing for a
    preset, so it is greyed out there."""
    sent = []
    monkeypatch.setattr(window.workers, "synthesize",
                        lambda text, bias, style, prime, *a, **k: sent.append(prime) or 1)
    window.writers.refresh()
    panel = window.write_panel
    choose(window, WRITER_STYLE.format("Ada"))
    assert panel.hand_check.isEnabled() and panel.match_hand()
    assert window.write_text("the box", speed="instant")
    panel.hand_check.setChecked(False)
    assert window.write_text("the box", speed="instant")
    assert [p.match_hand for p in sent] == [True, False]
    assert sent[0][:3] == sent[1][:3]  # the same prime and lines to measure the hand on
    panel.style_combo.setCurrentText(MY_STYLE)
    assert panel.hand_check.isEnabled()
    panel.style_combo.setCurrentIndex(panel.style_combo.findText(NO_STYLE))
    assert not panel.hand_check.isEnabled()


def test_the_list_follows_the_samples_dialog(window, tmp_path):
    from tests.gui.helpers import drag, zigzag

    assert not any(s.startswith("Writer:") for s in styles(window))
    window.samples_action.trigger()
    dialog = window.samples_dialog
    dialog.writer_box.setEditText("Cleo")
    drag(dialog.canvas, zigzag(40, 80))
    assert dialog.on_save()
    dialog.accept()
    assert WRITER_STYLE.format("Cleo") in styles(window)
    assert not (tmp_path / "app-data" / "samples.db.adapted").exists()


def test_a_writer_with_an_adapted_recognizer_is_read_with_it(db, ready_window, qtbot):
    window = ready_window
    with SampleStore(db) as store:
        ada = store.writer("Ada").id
    adapted = write_tiny_recognizer(adapted_model_path(db, ada))
    base = window.workers.models["recognizer"].path
    assert base == window.workers.base_recognizer
    window.writers.refresh()

    choose(window, WRITER_STYLE.format("Ada"))
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    info = window.workers.models["recognizer"]
    assert info.path == adapted and info.adapted_to == "Ada"
    assert "recognizer adapted to Ada" in window.models_label.text()
    assert window.writers.recognizer_path == adapted

    choose(window, WRITER_STYLE.format("Bob"))  # no adapted recognizer: the base model
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    info = window.workers.models["recognizer"]
    assert info.path == base and info.adapted_to is None
    assert "adapted" not in window.models_label.text()
    assert "Bob has no adapted recognizer" in window.statusBar().currentMessage()

    choose(window, WRITER_STYLE.format("Ada"))
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    loaded = window.workers.loaded_at["recognizer"]
    write_tiny_recognizer(adapted)  # adapted again (a new file) in the Samples dialog:
    window.samples_action.trigger()
    window.samples_dialog.adapted.emit("Ada")  # the chosen writer's new weights are loaded
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert window.workers.loaded_at["recognizer"] > loaded
    assert window.workers.models["recognizer"].adapted_to == "Ada"
    window.samples_dialog.accept()
    choose(window, NO_STYLE)
    qtbot.waitUntil(lambda: not window.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert window.workers.models["recognizer"].path == base


def test_recognition_reads_the_page_again_with_the_new_recognizer(db, ready_window, qtbot):
    from tests.gui.helpers import draw_ink

    window = ready_window
    draw_ink(window.canvas, hershey_ink("hello"))
    qtbot.waitUntil(window.is_idle, timeout=MODEL_TIMEOUT_MS)
    assert window.document.transcript
    asked = []
    window.workers.recognized.connect(lambda r: asked.append(r))
    with SampleStore(db) as store:
        write_tiny_recognizer(adapted_model_path(db, store.writer("Ada").id))
    window.writers.refresh()
    choose(window, WRITER_STYLE.format("Ada"))
    qtbot.waitUntil(lambda: bool(asked) and window.is_idle(), timeout=MODEL_TIMEOUT_MS)
    assert window.workers.models["recognizer"].adapted_to == "Ada"
    assert asked[-1].lines  # the same line, read by the adapted model


def test_a_chosen_writer_is_remembered_and_chosen_at_the_next_start(db, qtbot, messages):
    from gui.main_window import MainWindow
    from gui.settings import Preferences

    prefs = Preferences.load()
    prefs.style = WRITER_STYLE.format("Ada")
    prefs.save()
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.write_panel.writer() == "Ada"


def test_the_app_writes_in_a_stored_writers_hand_from_the_command_line(db, tmp_path, capsys):
    import json

    from gui.app import main

    assert main(["--writer", "Nobody", "--screenshot", str(tmp_path / "n.png")]) == 2
    assert "no writer 'Nobody'" in capsys.readouterr().err
    report = tmp_path / "report.json"
    assert main(["--writer", "Ada", "--text", "the box", "--seed", "1", "--report-json",
                 str(report), "--screenshot", str(tmp_path / "ada.png")]) == 0
    got = json.loads(report.read_text())
    assert got["synthesized_text"] == "the box" and got["synthesized_points"] > 0


def test_their_slant_and_width_is_set_from_the_command_line(db, tmp_path, monkeypatch):
    """`--no-match-hand` clears the box and the job says so; `--match-hand` ticks it again;
    either is remembered, as the box is."""
    from gui.app import main
    from gui.settings import Preferences
    from gui.workers.models import ModelWorkers

    sent, synthesize = [], ModelWorkers.synthesize
    monkeypatch.setattr(ModelWorkers, "synthesize", lambda self, text, bias, style, prime, *a:
                        sent.append(prime) or synthesize(self, text, bias, style, prime, *a))
    for flag, want in (("--no-match-hand", False), ("--match-hand", True)):
        assert main(["--writer", "Ada", flag, "--text", "the box", "--screenshot",
                     str(tmp_path / "shot.png")]) == 0
        assert sent[-1].match_hand is want and Preferences.load().match_hand is want
    assert len(sent) == 2


def test_a_writer_chosen_before_the_models_load_stays_chosen(db, qtbot, messages):
    """`handwriting-app --writer Ada` chose Ada at start; when the synthesizer then said which
    presets it has, the control went back to the saved style (None) under the written ink."""
    from gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    assert win.writers.choose("Ada")  # before the models are ready, as --writer does
    qtbot.waitUntil(lambda: not win.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert win.write_panel.writer() == "Ada"
    assert win.write_panel.style() == WRITER_STYLE.format("Ada")


def test_a_saved_preset_is_chosen_once_the_synthesizer_lists_it(db, qtbot, messages):
    from gui.main_window import MainWindow
    from gui.settings import Preferences

    prefs = Preferences.load()
    prefs.style = "round"
    prefs.save()
    win = MainWindow()
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: not win.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert win.write_panel.style() == "round"


def test_text_written_before_the_synthesizer_loads_uses_the_preset_asked_for(
        db, qtbot, messages, monkeypatch):
    """A saved or requested preset is not listed until the synthesizer has loaded; text
    written before then (`handwriting-app --style round --text ...`) was written unstyled
    while the control went on to show the preset."""
    from gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    sent = []
    monkeypatch.setattr(win.workers, "synthesize",
                        lambda text, bias, style, prime, *a, **k: sent.append(style) or 1)
    win.write_panel.request_style("round")
    assert "synthesizer" in win.workers.loading and "round" not in styles(win)
    assert win.write_text("the box", speed="instant")
    assert sent == ["round"]
    qtbot.waitUntil(lambda: not win.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert win.write_panel.style() == "round"
    choose(win, NO_STYLE)  # once listed, the control is what counts
    assert win.write_text("the box", speed="instant")
    assert sent == ["round", None]


def test_the_app_writes_in_a_preset_from_the_command_line(db, tmp_path, capsys):
    import json

    from gui.app import main

    assert main(["--style", "nope", "--screenshot", str(tmp_path / "n.png")]) == 2
    err = capsys.readouterr().err
    assert "no style preset 'nope'" in err and "slanted" in err
    report = tmp_path / "report.json"
    assert main(["--style", "slanted", "--text", "the box", "--seed", "1", "--report-json",
                 str(report), "--screenshot", str(tmp_path / "s.png")]) == 0
    got = json.loads(report.read_text())
    assert got["synthesized_text"] == "the box" and got["synthesized_points"] > 0


def test_a_new_user_writes_in_the_default_hand_and_can_ask_for_none(
        db, qtbot, messages, monkeypatch, tmp_path):
    """With no saved choice the app writes in `presets.DEFAULT_STYLE` (one legible hand for
    every line), as the CLI does; "None" and `--style none` give the model's own hand."""
    from gui.app import main
    from gui.main_window import MainWindow
    from handwriting.presets import DEFAULT_STYLE

    win = MainWindow()
    qtbot.addWidget(win)
    sent = []
    monkeypatch.setattr(win.workers, "synthesize",
                        lambda text, bias, style, prime, *a, **k: sent.append(style) or 1)
    assert win.write_text("the box", speed="instant")  # before the presets are listed
    qtbot.waitUntil(lambda: not win.workers.loading, timeout=MODEL_TIMEOUT_MS)
    assert win.write_panel.style() == DEFAULT_STYLE
    choose(win, NO_STYLE)
    assert win.write_text("the box", speed="instant")
    assert sent == [DEFAULT_STYLE, None]
    assert main(["--style", "none", "--text", "ab", "--seed", "1",
                 "--screenshot", str(tmp_path / "n.png")]) == 0


def test_the_synthesis_worker_drops_the_hand_when_told(qtbot):
    """The worker builds the style in the model process and, with the box unticked, writes
    it without the writer's hand: the map is the service's, keyed on `Style.hand`."""
    from gui.messages import SynthesisJob
    from gui.workers.synthesis import SynthesisWorker
    from handwriting.results import Hand, Prime, Style

    class Service:
        def plan(self, text):
            from handwriting.results import SynthesisPlan

            return SynthesisPlan((text,), ())

        def style_from_ink(self, ink, text, name="custom", hand_from=None):
            self.hand_from = hand_from
            return Style(name, np.zeros((2, 3), np.float32), text, Hand(0.2, 0.5))

        def stream_chunks(self, plan, bias, style, seed, **kw):
            self.styles.append(style)
            return iter(())

    service = Service()
    service.styles = []
    worker = SynthesisWorker(lambda job: False, None, 1)
    worker._service = service
    ink = hershey_ink("the fox")
    for match in (True, False):
        worker.on_job(SynthesisJob(1, "ok", prime=Prime(ink, "the fox", ((ink, "the fox"),),
                                                         match)))
    assert [s.hand for s in service.styles] == [Hand(0.2, 0.5), None]
    assert service.hand_from == ((ink, "the fox"),)
