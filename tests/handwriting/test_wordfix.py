"""The word fix after the beam search: a non-word a typo from a vocabulary word is replaced
when the ink reads the word about as well, kept when the ink says otherwise, never touched
while the line is still being written; the CTC score it uses is the standard one."""

from __future__ import annotations

import numpy as np
import pytest

from handwriting.alignment import ctc_align, ctc_logprob
from handwriting.alphabet import DEFAULT_ALPHABET as A
from handwriting.decoding import Hypothesis
from handwriting.wordfix import WordFix, correct
from handwriting.wordlm import WordLM

TRUE = "we met at the weekend"
FIX = WordFix(max_edits=2, lm_weight=0.5, bonus=8.0)


def posteriors(text: str, rivals: dict[int, tuple[str, float]] | None = None,
               per_char: int = 4) -> np.ndarray:
    """(T, K) log-posteriors spelling `text`, a character every `per_char` frames, blank
    between; rivals[i] = (ch, margin): at character i, `ch` beats the true one by `margin`."""
    frames = per_char * len(text) + per_char
    logits = np.zeros((frames, len(A)))  # len(A) counts the blank
    logits[:, 0] = 8.0
    for i, k in enumerate(A.encode(text)):
        t = per_char * (i + 1)
        logits[t, k] = 14.0
        if rivals and i in rivals:
            ch, margin = rivals[i]
            logits[t, A.encode(ch)[0]] = 14.0 + margin
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def hypothesis(text: str, lp: np.ndarray) -> Hypothesis:
    frames = ctc_align(lp, A.encode(text))
    return Hypothesis(text, -1.0, -1.0, 0.0, tuple(int(f) for f in frames))


@pytest.fixture(scope="module")
def word_lm() -> WordLM:
    return WordLM.train([TRUE, "the weekend was long", "we met them"], wordfreq_top_n=0)


def test_ctc_logprob_is_the_standard_ctc_score():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    lp = rng.normal(size=(30, 6))
    lp -= np.logaddexp.reduce(lp, axis=1, keepdims=True)
    for targets in ([1, 2, 3], [2, 2], [4], []):
        want = -torch.nn.functional.ctc_loss(
            torch.tensor(lp)[:, None], torch.tensor([targets], dtype=torch.long), [30],
            [len(targets)], blank=0, reduction="sum").item()
        assert ctc_logprob(lp, np.array(targets)) == pytest.approx(want, abs=1e-6)
    assert ctc_logprob(lp[:2], np.array([1, 1, 1])) == -np.inf  # too few frames for the text


def test_a_near_miss_is_corrected_when_the_ink_allows_it(word_lm):
    k = TRUE.index("k")  # the ink's "k" reads a little more like an "l": "weelend"
    lp = posteriors(TRUE, {k: ("l", 0.5)})
    read = hypothesis("we met at the weelend", lp)
    fixed = correct(read, lp, A, word_lm, FIX)
    assert fixed.text == TRUE
    assert len(fixed.char_frames) == len(TRUE)  # realigned to the new text
    assert fixed.score > read.score
    assert fixed.ctc_logprob < read.ctc_logprob  # the ink preferred "l", by a little
    # off, or a line still being written (its last word may be unfinished): unchanged
    assert correct(read, lp, A, word_lm, WordFix(max_edits=0)) is read
    assert correct(read, lp, A, word_lm, FIX, complete=False) is read


def test_the_ink_decides_and_unknown_names_stay(word_lm):
    k = TRUE.index("k")
    lp = posteriors("we met at the weelend", {k: ("k", -9.0)})  # clearly an "l"
    read = hypothesis("we met at the weelend", lp)
    assert correct(read, lp, A, word_lm, FIX).text == read.text  # costs more than the bonus
    assert correct(read, lp, A, word_lm, WordFix(2, 0.5, 40.0)).text == TRUE
    name = "we met Xavotry"  # nothing in the vocabulary within two edits
    lp = posteriors(name)
    assert correct(hypothesis(name, lp), lp, A, word_lm, FIX).text == name


def test_case_and_punctuation_are_kept(word_lm):
    text = "The Weelend, we met"
    k = text.index("l")
    lp = posteriors("The Weekend, we met", {k: ("l", 0.5)})
    assert correct(hypothesis(text, lp), lp, A, word_lm, FIX).text == "The Weekend, we met"


def test_the_recognizer_applies_its_tuned_fix(word_lm, tmp_path):
    from handwriting.service import DecoderSettings, Recognizer
    from tests.fixtures import write_tiny_recognizer

    rec = Recognizer.from_checkpoint(write_tiny_recognizer(tmp_path / "r.pt"), use_lm=False)
    rec.word_lm = word_lm
    k = TRUE.index("k")
    lp = posteriors(TRUE, {k: ("l", 0.5)})
    plain = DecoderSettings(beam_width=4, lm_weight=0.0, insertion_bonus=0.0)
    assert rec.decode(lp, "beam", settings=plain)[0].text == "we met at the weelend"
    fixed = DecoderSettings(beam_width=4, lm_weight=0.0, insertion_bonus=0.0, fix_max_edits=2,
                            fix_lm_weight=0.5, fix_bonus=8.0)
    hyps = rec.decode(lp, "beam", settings=fixed)
    assert hyps[0].text == TRUE
    assert len({h.text for h in hyps}) == len(hyps)  # no n-best entry twice


def test_tune_decoder_tunes_the_fix_and_stores_it(fake_iam_ondb, tmp_path, capsys):
    """`handwriting tune decoder` searches the fix as its third stage, on validation lines,
    and `--write` stores every setting the recognizer reads back."""
    import json

    from handwriting.checkpoint import load_checkpoint
    from handwriting.cli import main
    from handwriting.service import DecoderSettings, Recognizer
    from tests.fixtures import write_tiny_recognizer

    model = write_tiny_recognizer(tmp_path / "r.pt")
    assert main(["tune", "decoder", "--iam-ondb", str(fake_iam_ondb.root), "--model",
                 str(model), "--split", "testset_v", "--max-lines", "3", "--write"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out.strip().splitlines()[-1])
    assert set(DecoderSettings.__dataclass_fields__) == set(result["best"])
    assert result["best_cer"] <= result["beam_cer"]
    trials = [json.loads(line) for line in out.err.splitlines() if line.startswith("{")]
    assert {t["fix_max_edits"] for t in trials} == {0, 1, 2}  # beam stages, then the fix
    stored = load_checkpoint(model, "recognizer")["decoder"]
    assert {k: stored[k] for k in result["best"]} == result["best"]
    assert Recognizer.from_checkpoint(model).decoder_settings == DecoderSettings(**result["best"])


def test_tune_decoder_searches_and_stores_the_beam_width_it_is_given(fake_iam_ondb, tmp_path,
                                                                      capsys):
    """The beam width is not tuned (wider reads better and costs time): every trial uses
    `--beam-width` (default `tune.BEAM_WIDTH`), and `--write` stores it; 0 is refused."""
    import json

    from handwriting.checkpoint import load_checkpoint
    from handwriting.cli import main
    from handwriting.cli.tune import BEAM_WIDTH
    from tests.fixtures import write_tiny_recognizer

    model = write_tiny_recognizer(tmp_path / "r.pt")
    for width in (None, 3):
        flags = [] if width is None else ["--beam-width", str(width)]
        assert main(["tune", "decoder", "--iam-ondb", str(fake_iam_ondb.root), "--model",
                     str(model), "--split", "testset_v", "--max-lines", "2", "--write",
                     *flags]) == 0
        out = capsys.readouterr()
        trials = [json.loads(line) for line in out.err.splitlines() if line.startswith("{")]
        want = BEAM_WIDTH if width is None else width
        assert {t["beam_width"] for t in trials} == {want}
        assert load_checkpoint(model, "recognizer")["decoder"]["beam_width"] == want
    assert main(["tune", "decoder", "--iam-ondb", str(fake_iam_ondb.root), "--model",
                 str(model), "--beam-width", "0"]) == 2
    assert "--beam-width must be at least 1, got 0" in capsys.readouterr().err
