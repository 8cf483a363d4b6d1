"""Style statistics on constructed ink (slant, x-height, widths, gaps, pen lifts and speed),
the spread-normalized distance, the fidelity rows, and `handwriting evaluate style` on tiny
models (and, with the real IAM-OnDB, that the statistics tell writers apart)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handwriting import geometry
from handwriting.ink import Ink, InkError, Stroke
from handwriting.style_stats import (
    SHAPE_STATS,
    StyleStats,
    fidelity,
    mean_stats,
    own_ink_fidelity,
    per_statistic,
    population_spread,
    style_distance,
    style_stats,
)
from tests.fixtures import hershey_ink, write_tiny_recognizer, write_tiny_synthesizer

TEXT = "the quick brown fox jumps over"


def bars(words: list[int], bar_gap: float = 0.3, word_gap: float = 2.0, speed: float = 10.0,
         lift: float = 0.5) -> Ink:
    """Vertical bars from y = 0 to 1, `words[i]` bars per word, drawn top to bottom at `speed`
    units per second with `lift` seconds between strokes."""
    strokes, x, t = [], 0.0, 0.0
    for n in words:
        for _ in range(n):
            y = np.linspace(0.0, 1.0, 11)
            strokes.append(Stroke(np.stack([np.full(11, x), y], 1).astype(np.float32),
                                  t + y / speed))
            t += 1.0 / speed + lift
            x += bar_gap
        x += word_gap - bar_gap
    return Ink(tuple(strokes))


def test_a_sheared_line_adds_the_shear_to_its_slant():
    base = style_stats(hershey_ink(TEXT), TEXT).slant
    for angle in (-0.3, 0.2, 0.4):
        got = style_stats(geometry.shear(hershey_ink(TEXT), angle), TEXT).slant
        # shears compose in tangents: tan(new) = tan(base) + tan(angle)
        assert np.tan(got) - np.tan(base) == pytest.approx(np.tan(angle), abs=0.02)


def test_upright_bars_have_no_slant_and_leaning_bars_their_angle():
    ink = bars([3, 4])
    assert style_stats(ink, "abc defg").slant == pytest.approx(0.0, abs=1e-6)
    assert geometry.slant_angle(geometry.shear(ink, 0.25)) == pytest.approx(0.25, abs=1e-3)


def test_statistics_do_not_depend_on_scale_position_slope_or_point_rate():
    ink = hershey_ink(TEXT)
    ref = style_stats(ink, TEXT).vector()
    moved = geometry.translate(geometry.scale(ink, 7.5), 300.0, -40.0)
    np.testing.assert_allclose(style_stats(moved, TEXT).vector(), ref, rtol=1e-3, atol=1e-3)
    c, s = np.cos(0.1), np.sin(0.1)  # a baseline sloping by 0.1 rad
    sloped = ink.map_xy(lambda p: (p @ np.array([[c, s], [-s, c]])).astype(np.float32))
    np.testing.assert_allclose(style_stats(sloped, TEXT).vector(), ref, rtol=0.05, atol=0.02)
    dense = hershey_ink(TEXT, step=0.25)  # four times the points along the same strokes
    np.testing.assert_allclose(style_stats(dense, TEXT).vector(), ref, rtol=0.03, atol=0.01)


def test_stretching_the_ink_scales_widths_and_keeps_heights():
    ink, text = bars([3, 4, 2]), "abc defg hi"
    a = style_stats(ink, text)
    b = style_stats(geometry.scale(ink, 2.0, 1.0), text)
    assert b.letter_width == pytest.approx(2 * a.letter_width, rel=1e-3)
    assert b.word_gap == pytest.approx(2 * a.word_gap, rel=1e-3)
    assert b.x_height == pytest.approx(a.x_height, abs=1e-6)
    taller = style_stats(geometry.scale(ink, 1.0, 2.0), text)  # in writing heights: narrower
    assert taller.letter_width == pytest.approx(a.letter_width / 2, rel=1e-3)


def test_bars_give_their_known_bands_gaps_and_counts():
    ink, text = bars([3, 4, 2]), "abc defg hi"
    st = style_stats(ink, text)
    h = 0.9  # 5-95 % of y uniform on [0, 1]
    assert st.x_height == pytest.approx(0.5 / h, abs=0.01)  # interquartile range / h
    assert st.word_gap == pytest.approx(2.0 / h, abs=0.01)
    width = 2 * 0.3 + 3 * 0.3 + 1 * 0.3 + 2 * 2.0  # bars within words, then the word gaps
    assert st.letter_width == pytest.approx(width / h / len(text), abs=0.01)
    assert st.strokes_per_char == pytest.approx(9 / 9)
    assert st.ink_per_char == pytest.approx(9 * 1.0 / h / 9, abs=0.01)
    assert st.pen_speed == pytest.approx(10.0 / h, rel=0.02)
    span = 9 * 0.1 + 8 * 0.5
    assert st.pen_up_time == pytest.approx(8 * 0.5 / span, abs=1e-3)


def test_ascenders_lower_the_x_height_and_joined_writing_lifts_less():
    core = bars([4, 4])
    tall = Ink(core.strokes + tuple(  # two ascenders reaching 1.5 above the core
        Stroke(np.stack([np.full(11, x), np.linspace(-1.5, 1.0, 11)], 1).astype(np.float32),
               np.linspace(9.0 + x, 9.1 + x, 11)) for x in (0.1, 2.5)))
    assert style_stats(tall, "abcd efgh").x_height < 0.8 * style_stats(core, "abcd efgh").x_height
    joined = Ink((Stroke(np.concatenate([s.xy for s in core.strokes[:4]]),
                         np.arange(44) * 0.01),) + core.strokes[4:])
    assert style_stats(joined, "abcd efgh").strokes_per_char < style_stats(
        core, "abcd efgh").strokes_per_char


def test_one_word_has_no_word_gap_and_no_timing_is_nan():
    ink = bars([3])
    flat = Ink(tuple(Stroke(s.xy, np.zeros(len(s))) for s in ink.strokes))
    st = style_stats(flat, "abc")
    assert np.isnan(st.word_gap) and np.isnan(st.pen_speed) and np.isnan(st.pen_up_time)
    assert st.to_dict()["word_gap"] is None
    json.dumps(st.to_dict())  # plain types


def test_bad_input_is_named():
    with pytest.raises(InkError, match="empty"):
        style_stats(Ink(), "abc")
    with pytest.raises(ValueError, match="no characters"):
        style_stats(bars([2]), "  ")


def test_mean_stats_skips_missing_values():
    a, b = style_stats(bars([3, 2]), "abc de"), style_stats(bars([3]), "abc")
    m = mean_stats([a, b])
    assert m.word_gap == pytest.approx(a.word_gap)  # b has none
    assert m.strokes_per_char == pytest.approx((a.strokes_per_char + b.strokes_per_char) / 2)
    with pytest.raises(ValueError):
        mean_stats([])


def test_distance_is_rms_of_spread_normalized_differences():
    spread = np.array([1.0, 2.0, 0.5, 1.0])
    a = np.array([0.0, 0.0, 0.0, 0.0])
    assert style_distance(a, a, spread) == 0.0
    assert style_distance(a, np.array([0.0, 2.0, 0.0, 0.0]), spread) == pytest.approx(0.5)
    assert style_distance(a, np.array([1.0, 2.0, 0.5, 1.0]), spread) == pytest.approx(1.0)
    # a statistic missing on either side is left out, not counted as a difference
    assert style_distance(a, np.array([np.nan, 2.0, 0.0, 0.0]), spread) == pytest.approx(
        np.sqrt(1 / 3))
    with pytest.raises(ValueError):
        style_distance(a, np.full(4, np.nan), spread)


def test_spread_is_robust_to_one_odd_writer_and_never_zero():
    rng = np.random.default_rng(0)
    v = rng.normal(0.0, [1.0, 0.1], size=(200, 2))
    np.testing.assert_allclose(population_spread(v), [1.0, 0.1], rtol=0.15)
    odd = np.vstack([v[:15], [[1000.0, 0.0]]])
    assert population_spread(odd)[0] < 3.0  # a standard deviation would be ~250
    same = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 5.0]])  # MAD 0 -> std; std 0 -> 1e-6
    s = population_spread(same)
    assert s[1] == pytest.approx(np.std([0, 0, 5.0])) and s[0] == pytest.approx(1e-6)
    with pytest.raises(ValueError):
        population_spread(np.zeros((1, 3)))


def test_fidelity_says_which_outputs_follow_their_writer():
    rng = np.random.default_rng(1)
    own = rng.normal(size=(6, len(SHAPE_STATS)))
    spread = population_spread(own)
    near = own + 0.05 * rng.normal(size=own.shape)  # each output copies its writer's hand
    rows = fidelity(near, own, spread)
    assert all(r["closer"] for r in rows)
    assert [r["nearest"] for r in rows] == list(range(6))
    generic = np.repeat(own.mean(0, keepdims=True), 6, axis=0)  # everyone gets the average
    rows = fidelity(generic, own, spread)
    assert not any(r["closer"] for r in rows)
    assert all(r["distance_others"] < r["distance_own"] for r in rows)
    with pytest.raises(ValueError):
        fidelity(near[:3], own, spread)


def test_per_statistic_correlation_ignores_a_constant_offset():
    rng = np.random.default_rng(2)
    own = rng.normal(size=(8, 2))
    shifted = own + np.array([5.0, 0.0])  # statistic 0 follows the writer, 5 units off
    shifted[:, 1] = rng.normal(size=8)  # statistic 1 does not follow at all
    rows = per_statistic(shifted, own, names=("a", "b"))
    assert rows["a"]["correlation"] == pytest.approx(1.0)
    assert rows["a"]["closer_fraction"] < 0.5  # far from everyone: rarely closer to self
    assert abs(rows["b"]["correlation"]) < 0.9
    copied = per_statistic(own, own, names=("a", "b"))
    assert copied["a"]["closer_fraction"] == 1.0 and copied["b"]["correlation"] == 1.0


# --------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("style-models")
    return write_tiny_synthesizer(d / "syn.pt"), write_tiny_recognizer(d / "judge.pt")


def test_cli_writers_named_with_form(fake_iam_ondb, tiny_models, tmp_path, capsys):
    """`--form ID` (repeated) primes with those forms instead of the first `--forms`: a group
    of writers chosen for something (their window ending past the prime) can be measured
    through the CLI; a form the split lacks is refused, named."""
    from handwriting.cli import main

    syn, judge = tiny_models
    phrases = tmp_path / "p.txt"
    phrases.write_text("ab cd\n")
    args = ["evaluate", "style", "--iam-ondb", str(fake_iam_ondb.root), "--split", "trainset",
            "--model", str(syn), "--judge", str(judge), "--candidates", "1", "--phrases",
            str(phrases), "--threads", "1", "--json"]
    assert main([*args, "--form", "a02-010", "--form", "a01-000u", "--form", "a02-010"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["forms"] == 2
    assert [r["form"] for r in result["per_writer"]] == ["a01-000u", "a02-010"]
    assert main([*args, "--form", "a01-000u", "--form", "x99-999"]) == 2
    err = capsys.readouterr().err
    assert "x99-999" in err and "trainset" in err


def test_hand_lines_measure_the_writers_hand_on_more_lines():
    """`--hand-lines K` measures each writer's hand (what written ink is matched to) on the
    prime and the next K-1 lines, as the app does on all of a stored writer's samples; those
    lines leave the writer's own, so no line is both matched to and compared with. A form
    without a line of its own left is passed over."""
    from types import SimpleNamespace

    from handwriting.alphabet import Alphabet
    from handwriting.cli.style import choose_writers

    lines = [SimpleNamespace(id=f"{form}-0{i}", text=f"line {i} of {form}")
             for form, n in (("a01-000u", 4), ("a01-001w", 2), ("b02-003", 3)) for i in range(n)]
    alphabet = Alphabet(sorted(set("".join(ln.text for ln in lines))))
    one = choose_writers(lines, 3, alphabet)
    assert [(f, p.id, [h.id for h in hand], len(own)) for f, p, hand, own in one] == [
        ("a01-000u", "a01-000u-00", ["a01-000u-00"], 3),
        ("a01-001w", "a01-001w-00", ["a01-001w-00"], 1),
        ("b02-003", "b02-003-00", ["b02-003-00"], 2)]
    three = choose_writers(lines, 3, alphabet, hand_lines=3)
    assert [(f, [h.id for h in hand], [o.id for o in own]) for f, _, hand, own in three] == [
        ("a01-000u", ["a01-000u-00", "a01-000u-01", "a01-000u-02"], ["a01-000u-03"])]


def _writers_args(fake_iam_ondb, tiny_models, tmp_path, phrases: str) -> list[str]:
    """`evaluate style` on the fake dataset's trainset writers with the tiny models."""
    syn, judge = tiny_models
    path = tmp_path / "p.txt"
    path.write_text(phrases)
    return ["evaluate", "style", "--iam-ondb", str(fake_iam_ondb.root), "--split", "trainset",
            "--forms", "2", "--model", str(syn), "--judge", str(judge), "--candidates", "1",
            "--phrases", str(path), "--threads", "1", "--json"]


def test_cli_hand_lines_in_the_json_and_checked(fake_iam_ondb, tiny_models, tmp_path, capsys):
    from handwriting.cli import main

    args = _writers_args(fake_iam_ondb, tiny_models, tmp_path, "ab cd\n")
    assert main([*args, "--no-match-hand"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["hand_lines"] == 1 and result["match_hand"] is False
    assert all(r["hand_from"] == [r["prime_line"]] for r in result["per_writer"])
    assert main([*args, "--hand-lines", "0"]) == 2
    assert "--hand-lines" in capsys.readouterr().err
    assert main([*args, "--hand-lines", "2"]) == 2  # one form of the two has a third line
    assert "more than 2 usable lines" in capsys.readouterr().err


def test_cli_writers_on_a_fake_dataset(fake_iam_ondb, tiny_models, tmp_path, capsys):
    from handwriting.cli import main

    syn, judge = tiny_models
    args = [*_writers_args(fake_iam_ondb, tiny_models, tmp_path,
                           "# comment\nab cd\nef gh\nij kl\n"), "--max-phrases", "2"]
    assert main(args) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["mode"] == "writers" and result["forms"] == 2 and result["phrases"] == 2
    assert result["statistics"] == list(SHAPE_STATS) and set(result["spread"]) == set(SHAPE_STATS)
    for key in ("primed_closer_fraction", "unprimed_closer_fraction", "primed_cer",
                "unprimed_cer", "primed_first_word_cer", "primed_nearest_self_fraction",
                "primed_moves_towards_writer_fraction"):
        assert 0.0 <= result[key] <= 1.0 or key.endswith("cer")
    ceiling = result["own_ink_closer_fraction"]  # the writers' own lines, half against half
    assert ceiling is None or 0.0 <= ceiling <= 1.0
    two_lines = sum(r["own_lines"] >= 2 for r in result["per_writer"])
    assert result["own_ink_writers"] == (two_lines if two_lines >= 2 else 0)
    assert (ceiling is None) == (result["own_ink_writers"] == 0)
    rows = result["per_writer"]
    assert [r["form"] for r in rows] == ["a01-000u", "a01-001w"]  # forms with 2+ lines, in order
    assert all(r["prime_line"].startswith(r["form"]) and r["own_lines"] >= 1 for r in rows)
    assert set(result["per_statistic"]) == set(SHAPE_STATS)
    assert result["primed_closer_fraction"] == sum(
        r["fidelity_primed"]["closer"] for r in rows) / 2
    assert captured.err.count("evaluate style: ") == 2  # progress, one line per writer
    # the judge on each writer's own lines (all but the prime): how legible the hand itself is
    from handwriting.alphabet import detokenize
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.metrics import ErrorCounts
    from handwriting.service import Recognizer

    reader = Recognizer.from_checkpoint(judge)
    lines, _ = load_iam_ondb(fake_iam_ondb.root).evaluation_lines("trainset")
    total = ErrorCounts()
    for r in rows:
        own = ErrorCounts()
        for ln in lines:
            if ln.id.startswith(r["form"] + "-") and ln.id != r["prime_line"]:
                own.add(detokenize(ln.text), detokenize(reader.recognize(ln.ink).text))
        assert own.lines == r["own_lines"] and r["cer_own_ink"] == round(own.cer, 4)
        total.merge(own)
    assert result["own_ink_cer"] == round(total.cer, 4) and total.lines > len(rows)
    assert result["primed_to_own_ink_cer_ratio"] == (
        round(result["primed_cer"] / total.cer, 3) if total.cer else None)


def test_cli_presets_compares_each_preset_with_its_prime_and_unprimed(tiny_models, capsys):
    from handwriting.cli import main

    syn, judge = tiny_models
    assert main(["evaluate", "style", "--presets", "--model", str(syn), "--judge", str(judge),
                 "--candidates", "1", "--max-phrases", "1", "--repeats", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mode"] == "presets" and result["presets"] == len(result["per_preset"]) >= 1
    row = result["per_preset"][0]
    assert len(row["prime_used_text"]) <= len(row["prime_text"])  # the prime's last words
    assert result["default_style"] == "tidy"
    assert set(result["unprimed_within_text_sd"]) <= {"slant", "x_height", "letter_width"}
    for stat in ("slant", "x_height", "letter_width"):
        assert row[f"{stat}_closer_to_prime"] == (row[f"{stat}_to_prime"]
                                                  < row[f"{stat}_to_unprimed"])


def test_within_text_spread_is_zero_for_one_hand_and_grows_with_a_new_hand_a_line():
    from handwriting.cli.style import Written, _within_text

    ink = hershey_ink(TEXT)
    same = Written([ink, ink, ink], [TEXT] * 3, [TEXT] * 3, [True, False, False])
    assert _within_text([same]) == {"slant": 0.0, "x_height": 0.0, "letter_width": 0.0}
    lean = geometry.shear(ink, 0.4)
    mixed = Written([ink, lean], [TEXT] * 2, [TEXT] * 2, [True, False])
    got = _within_text([same, mixed])  # the mean over texts of each text's spread
    slants = [style_stats(i, TEXT).slant for i in (ink, lean)]
    assert got["slant"] == pytest.approx(np.std(slants) / 2, abs=1e-4)
    assert got["slant"] > 0.05


@pytest.mark.parametrize("extra, message", [
    (["--forms", "1"], "--forms must be at least 2"),
    (["--max-phrases", "0"], "--max-phrases must be at least 1, got 0"),
    (["--phrases", "/nonexistent/phrases.txt"], "/nonexistent/phrases.txt"),
    (["--presets", "--repeats", "0"], "--repeats must be at least 1, got 0"),
    (["--skip-phrases", "-1"], "--skip-phrases must be 0 or more, got -1"),
    (["--search", "2", "--iam-ondb", "/nonexistent/iam"], "/nonexistent/iam"),
])
def test_cli_bad_input_is_one_line_and_exit_2(extra, message, tiny_models, fake_iam_ondb,
                                              capsys):
    from handwriting.cli import main

    syn, judge = tiny_models
    code = main(["evaluate", "style", "--iam-ondb", str(fake_iam_ondb.root), "--model",
                 str(syn), "--judge", str(judge), "--candidates", "1", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


@pytest.mark.dataset
def test_lines_of_one_real_writer_are_closer_to_each_other_than_to_the_others(real_iam_ondb):
    """The statistics tell IAM-OnDB writers apart: half of a form's lines is closer to its
    other half than to the mean of the other forms, for two thirds of testset_t's forms and
    at least twice as often as to another writer's half (11 of 16 against 2-5; 12 before
    `detokenize` joined "' s", which moved a01-087's halves apart by a hair)."""
    from handwriting.adaptation import form_of
    from handwriting.alphabet import detokenize

    by_form: dict[str, list] = {}
    for ln in real_iam_ondb.split("testset_t"):
        by_form.setdefault(form_of(ln.id), []).append(ln)
    forms = [f for f in sorted(by_form) if len(by_form[f]) >= 6][:16]
    halves = [[mean_stats([style_stats(ln.ink, detokenize(ln.text)) for ln in part])
               for part in (by_form[f][0::2], by_form[f][1::2])] for f in forms]
    a = np.stack([h[0].vector() for h in halves])
    b = np.stack([h[1].vector() for h in halves])
    spread = population_spread(b)
    closer = sum(r["closer"] for r in fidelity(a, b, spread))
    chance = max(sum(r["closer"] for r in fidelity(a, np.roll(b, k, axis=0), spread))
                 for k in range(1, 6))  # each half against another writer's other half
    assert closer >= 0.65 * len(forms) and closer >= 2 * chance


def test_cli_search_proposes_one_trainset_line_per_direction(fake_iam_ondb, tiny_models,
                                                             tmp_path, capsys):
    """`evaluate style --search N` primes with trainset lines distinct in each direction,
    reads the output with the chooser (not the judge), and proposes presets from them."""
    from handwriting.cli import main
    from handwriting.cli.style_search import DIRECTIONS

    syn, judge = tiny_models
    phrases = tmp_path / "p.txt"
    phrases.write_text("skipped phrase\nab cd\nef gh\n")
    code = main(["evaluate", "style", "--search", "2", "--iam-ondb", str(fake_iam_ondb.root),
                 "--model", str(syn), "--judge", str(judge), "--phrases", str(phrases),
                 "--skip-phrases", "1", "--max-phrases", "2", "--repeats", "1",
                 "--threads", "1", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mode"] == "search" and result["phrases"] == 2 and result["skip_phrases"] == 1
    trainset = set(fake_iam_ondb.usable("trainset"))
    assert result["tried"] and all(r["line"] in trainset for r in result["tried"])
    assert [p["direction"] for p in result["proposal"]] == list(DIRECTIONS)
    for p in result["proposal"]:
        assert p["line"] is None or p["line"] in trainset
    assert result["command"].startswith("handwriting data styles ")


def test_own_ink_fidelity_scores_real_writers_half_against_half():
    """The test's ceiling: each writer's lines split in alternate halves. Writers whose lines
    agree pass it, a writer whose halves disagree does not, one-line writers are left out."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(5, len(SHAPE_STATS)))
    names = list(StyleStats.__dataclass_fields__)

    def line(v: np.ndarray) -> StyleStats:
        values = dict(zip(SHAPE_STATS, v, strict=True))
        return StyleStats(**{n: float(values.get(n, np.nan)) for n in names})

    writers = [[line(c + 0.02 * rng.normal(size=c.shape)) for _ in range(4)] for c in centres]
    spread = population_spread(centres)
    rows = own_ink_fidelity(writers + [[line(centres[0])]], spread)  # the last: one line
    assert len(rows) == 5 and all(r["closer"] for r in rows)
    mixed = [line(centres[0]), line(centres[1])] * 2  # alternate lines from two hands
    rows = own_ink_fidelity([*writers[2:], mixed], spread)
    assert not rows[-1]["closer"]
    with pytest.raises(ValueError):
        own_ink_fidelity([writers[0], [line(centres[1])]], spread)
