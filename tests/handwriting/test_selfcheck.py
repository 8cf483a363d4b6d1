"""Self-checking synthesis (`handwriting.selfcheck`, `Synthesizer(candidates=K)`): K candidates
of every line are sampled in one batch, read back, and the best-reading one is kept with its
own frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from handwriting.alphabet import DEFAULT_ALPHABET
from handwriting.ink import offsets_to_line_ink
from handwriting.models.configs import SynthesizerConfig
from handwriting.models.synthesizer import SynthesizerNet
from handwriting.selfcheck import choose, point_log_likelihood
from handwriting.service import Synthesizer
from handwriting.synthesis import collect_lines

TINY = dict(n_chars=len(DEFAULT_ALPHABET), hidden=16, layers=2, mixtures=3, window_gaussians=2)


def tiny_service(reader=None, candidates: int = 1) -> Synthesizer:
    torch.manual_seed(0)
    cfg = SynthesizerConfig(**TINY)
    net = SynthesizerNet(cfg)
    ckpt = {"model_config": cfg.to_dict(), "feature_config": {"spacing": 0.14, "deslope": True},
            "offset_scale": 0.1, "alphabet": DEFAULT_ALPHABET.chars,
            "state_dict": net.state_dict()}
    return Synthesizer(ckpt, reader=reader, candidates=candidates)


def test_choose_fewest_errors_then_higher_likelihood():
    texts = ["cat", "dog"]
    readings = [["cut", "cat", "xx"], ["dig", "dug", "dog!"]]
    ll = np.array([[0.0, -50.0, 10.0], [-5.0, -1.0, -9.0]])
    # line 0: "cat" reads exactly; line 1: all one error apart, the likeliest wins
    assert choose(texts, readings, ll).tolist() == [1, 1]


def test_choose_breaks_ties_by_the_readers_probability_of_the_text_before_likelihood():
    texts = ["cat", "dog"]
    readings = [["cat", "cat", "cut"], ["dig", "dug", "dot"]]
    ll = np.array([[10.0, -50.0, 20.0], [-1.0, -9.0, -5.0]])
    scores = np.array([[-3.0, -0.5, 0.0], [-4.0, -2.0, -2.0]])
    # line 0: two exact readings, the second gives "cat" the higher probability (and the
    # third, likeliest and likeliest-scored, misreads); line 1: a three-way tie on errors,
    # two on the score, the likelier of those wins
    assert choose(texts, readings, ll, scores).tolist() == [1, 2]
    assert choose(texts, readings, ll).tolist() == [0, 0]  # without scores: likelihood


def test_a_scoring_reader_chooses_among_equally_read_candidates():
    """Every candidate reads right; the reader scores the shortest ink's text best: that one
    is kept, through the public path (a `Recognizer`-like reader with `read_scored`), and a
    plain function reader returning `Reading`s reports the scores it gave."""
    from handwriting.selfcheck import Reading, self_checked

    plain = tiny_service()
    all4 = collect_lines(plain.stream(plain.plan("ab\nab\nab\nab"), seed=3, candidates=1), 4)
    shortest = min(all4, key=len)
    assert sum(len(o) == len(shortest) for o in all4) == 1

    def scored(inks):
        return [Reading(ink.meta["text"], -float(ink.num_points)) for ink in inks]

    class Scoring:
        read_scored = staticmethod(scored)

        def read(self, inks):
            return [ink.meta["text"] for ink in inks]

        def log_posteriors(self, inks):  # marks it as a recognizer (`Synthesizer._recognizer`)
            raise AssertionError("not needed")

    kept = collect_lines(iter(list(tiny_service(Scoring()).stream("ab", seed=3, candidates=4))),
                         1)[0]
    np.testing.assert_allclose(kept, shortest)
    report: list = []
    frames = self_checked(plain.stream(plain.plan("ab\nab\nab\nab"), seed=3, candidates=1),
                          ["ab"], 4, scored, report=report)
    np.testing.assert_allclose(collect_lines(frames, 1)[0], shortest)
    assert report[0]["text_logprob"] == [-float(len(o)) for o in all4]
    assert report[0]["errors"] == [0, 0, 0, 0]


class LongestReader:
    """A fake reader: a candidate of `points` points reads as the intended text, any other
    as "zz"; without `points`, the longest of each call's inks does."""

    def __init__(self, text: str = "ab", points: int | None = None):
        self.calls, self.text, self.points = [], text, points

    def __call__(self, inks):
        self.calls.append(len(inks))
        n = [ink.num_points for ink in inks]
        good = self.points if self.points is not None else max(n)
        return [self.text if k == good else "zz" for k in n]


def test_candidates_keep_the_best_reading_one_with_its_own_frames():
    # the same seed and batch of four, unchosen: which candidate is the longest
    plain = tiny_service(LongestReader())
    net_frames = list(plain.stream(plain.plan("ab ab ab ab".replace(" ", "\n")), seed=3,
                                   candidates=1))
    all4 = collect_lines(iter(net_frames), 4)
    longest = max(all4, key=len)
    assert sum(len(o) == len(longest) for o in all4) == 1
    reader = LongestReader(points=len(longest))  # only the longest reads as "ab"
    syn = tiny_service(reader)
    frames = list(syn.stream("ab", seed=3, candidates=4))
    assert reader.calls == [1, 1, 1, 1]  # each candidate read once, as soon as it ended
    kept = collect_lines(iter(frames), 1)[0]
    np.testing.assert_allclose(kept, longest)
    assert [f.step for f in frames] == list(range(len(frames)))
    assert all(f.offsets.shape == (1, 3) for f in frames)


def test_one_candidate_is_plain_sampling():
    reader = LongestReader()
    syn = tiny_service(reader)
    a = syn.write("ab", seed=1)[0].coords()
    b = syn.write("ab", seed=1, candidates=1)[0].coords()
    np.testing.assert_array_equal(a, b)
    assert reader.calls == []


def test_default_candidates_of_the_synthesizer_apply():
    reader = LongestReader("ab cd")
    syn = tiny_service(reader, candidates=2)
    syn.write("ab cd", seed=0)
    assert reader.calls == [1, 1]  # two candidates, each read as soon as it ended


@pytest.mark.parametrize("bad", [0, -1, 17, 2.5, "3", True])
def test_bad_candidates_are_refused(bad):
    with pytest.raises(ValueError, match="candidates"):
        tiny_service(candidates=bad)
    with pytest.raises(ValueError, match="candidates"):
        tiny_service().write("ab", candidates=bad)


def test_batch_log_likelihood_sums_each_rows_points_while_it_is_written():
    """All frames at once give what summing `point_log_likelihood` frame by frame over the
    live rows gave; an ended row's all-zero mixture (sigma 0) adds nothing, not nan."""
    from handwriting.results import SynthesisFrame
    from handwriting.selfcheck import batch_log_likelihood

    syn = tiny_service()
    frames = list(syn.stream(syn.plan("ab\nabcde fg"), seed=1, candidates=1))
    assert not frames[-1].active[0]  # the short line ended first: zeros from then on
    ended = next(f for f in frames if not f.active[0])
    assert not ended.sigma[0].any()
    want = np.zeros(2)
    for f in frames:
        live = np.flatnonzero(f.active)
        want[live] += point_log_likelihood(SynthesisFrame(
            f.step, f.offsets[live], f.active[live], f.phi[live], f.kappa[live], f.eos[live],
            f.log_pi[live], f.mu[live], f.sigma[live], f.rho[live], f.text_offset))
    got = batch_log_likelihood(frames)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_point_log_likelihood_matches_a_direct_density():
    from handwriting.results import SynthesisFrame

    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=(1, 1, 2)), np.exp(rng.normal(size=(1, 1, 2)))
    x = np.array([[0.3, -0.2, 1.0]])
    f = SynthesisFrame(0, x, np.ones(1, bool), np.zeros((1, 2)), np.zeros((1, 1)),
                       np.array([0.25]), np.zeros((1, 1)), mu, sigma, np.zeros((1, 1)), 0)
    z = (x[0, :2] - mu[0, 0]) / sigma[0, 0]
    want = -0.5 * (z ** 2).sum() - np.log(2 * np.pi * sigma[0, 0].prod()) + np.log(0.25)
    assert point_log_likelihood(f)[0] == pytest.approx(want, rel=1e-6)


def test_a_long_text_is_self_checked_a_group_of_lines_at_a_time(monkeypatch):
    from handwriting import selfcheck

    monkeypatch.setattr(selfcheck, "GROUP_ROWS", 4)  # two lines x two candidates a batch
    monkeypatch.setattr(selfcheck, "RETRY_CER", float("inf"))  # grouping only: no retries
    reader = LongestReader()
    syn = tiny_service(reader)
    plan = syn.plan("ab\ncd\nef\ngh\nij")
    chunks = list(syn.stream_chunks(plan, seed=2, candidates=2, seconds=0.0))
    assert reader.calls == [1] * 10  # every candidate of every group, once
    frames = [f for c in chunks for f in c.frames]
    assert all(f.offsets.shape == (5, 3) for f in frames)
    assert [f.step for f in frames] == list(range(len(frames)))
    lines = collect_lines(iter(frames), 5)
    assert all(len(line) > 0 for line in lines)
    # a line of a later group is not reported finished before it is written
    first_active = next(i for i, f in enumerate(frames) if f.active[4])
    seen = 0
    for c in chunks:
        if seen + len(c.frames) <= first_active:
            assert not c.finished[4]
        seen += len(c.frames)
    assert chunks[-1].finished.all()


def test_cancelled_self_checking_yields_nothing_and_reads_nothing():
    reader = LongestReader()
    syn = tiny_service(reader)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 1  # cancelled while sampling (asked between chunks of steps)

    assert list(syn.stream("ab", seed=0, candidates=3, should_stop=should_stop)) == []
    assert reader.calls == []


class FirstBatchBadReader:
    """Reads the first `bad` inks it is given (a first batch) as scribble, later ones as "ab"."""

    def __init__(self, bad: int = 3):
        self.calls, self.bad = [], bad

    def __call__(self, inks):
        self.calls.append(len(inks))
        return ["zz" if sum(self.calls) <= self.bad else "ab" for _ in inks]


def test_a_line_whose_candidates_all_read_badly_is_written_again():
    """"Legible every time": when all K candidates of a line collapsed, K x `RETRY_MORE` more
    are sampled (other draws, neater: the bias raised by `RETRY_NEATER`) and the best of all
    is kept, with its own frames."""
    from handwriting.selfcheck import RETRY_MORE, RETRY_NEATER, RETRY_SEED, self_checked_groups

    reader = FirstBatchBadReader()
    syn = tiny_service(reader)
    frames = list(syn.stream("ab", bias=0.5, seed=3, candidates=3))
    assert reader.calls == [1] * (3 + 3 * RETRY_MORE)  # the first batch's three, the retry's
    kept = collect_lines(iter(frames), 1)[0]
    assert [f.step for f in frames] == list(range(len(frames)))

    def batch(seed, bias=0.5, rows=3):
        return collect_lines(iter(syn.stream(syn.plan("\n".join(["ab"] * rows)), bias=bias,
                                             seed=seed, candidates=1)), rows)

    assert not any(np.array_equal(kept, c) for c in batch(3))
    retry = 3 * RETRY_MORE
    assert not any(np.array_equal(kept, c) for c in batch(3 + RETRY_SEED, rows=retry))  # messier
    assert any(np.array_equal(kept, c)
               for c in batch(3 + RETRY_SEED, 0.5 + RETRY_NEATER, rows=retry))
    # without retries the kept line comes from the first batch
    plain = list(self_checked_groups(
        lambda lines, g: syn.stream(syn.plan("\n".join(lines)), bias=0.5, seed=3 + g,
                                    candidates=1),
        ["ab"], 3, FirstBatchBadReader(), resample=False))
    assert any(np.array_equal(collect_lines(iter(plain), 1)[0], c) for c in batch(3))


def test_the_retry_draws_more_candidates_and_keeps_any_of_them():
    """The retry samples `RETRY_MORE` x K candidates of a line; the kept one may be the last
    of them, drawn with its own frames (the retry batch's row, not a first-batch-sized one)."""
    from handwriting.selfcheck import RETRY_MORE, self_checked

    assert RETRY_MORE > 1
    syn = tiny_service()
    k = 2
    more = k * RETRY_MORE

    def sample(lines, seed):
        return syn.stream(syn.plan("\n".join(lines)), seed=seed, candidates=1)

    retried = collect_lines(iter(sample(["ab"] * more, 2)), more)
    last = offsets_to_line_ink(retried[-1], "ab")

    def reader(inks):  # only the retry's last candidate reads right
        return ["ab" if np.array_equal(ink.strokes[0].xy, last.strokes[0].xy) else "zz"
                for ink in inks]

    report: list = []
    frames = list(self_checked(sample(["ab"] * k, 1), ["ab"], k, reader, report=report,
                               resample=lambda ls: sample(ls, 2)))
    assert len(report[0]["readings"]) == k + more and report[0]["kept"] == k + more - 1
    assert np.array_equal(collect_lines(iter(frames), 1)[0], retried[-1])


def test_the_retry_keeps_good_lines_and_reports_what_it_did():
    from handwriting.selfcheck import RETRY_MORE, self_checked

    syn = tiny_service()

    def sample(lines, seed):
        return syn.stream(syn.plan("\n".join(lines)), seed=seed, candidates=1)

    def reader(inks):  # line 0 ("ab") reads right at once; line 1 ("cd") only on retry
        reader.calls.append(len(inks))
        out = []
        for ink in inks:
            text = ink.meta["text"]
            reader.seen[text] = reader.seen.get(text, 0) + 1
            out.append("zz" if text == "cd" and reader.seen[text] <= 2 else text)
        return out

    reader.seen = {}

    reader.calls = []
    report: list = []
    first = sample(["ab", "ab", "cd", "cd"], 1)
    frames = list(self_checked(first, ["ab", "cd"], 2, reader, report=report,
                               resample=lambda lines: sample(lines, 2)))
    more = 2 * RETRY_MORE
    assert reader.calls == [1] * (4 + more) and reader.seen == {"ab": 2, "cd": 2 + more}
    assert [r["retried"] for r in report] == [False, True]
    assert len(report[1]["readings"]) == 2 + more and report[1]["kept"] >= 2
    lines = collect_lines(iter(frames), 2)
    firsts = collect_lines(iter(sample(["ab", "ab", "cd", "cd"], 1)), 4)
    retried = collect_lines(iter(sample(["cd"] * more, 2)), more)
    assert any(np.array_equal(lines[0], c) for c in firsts[:2])
    assert any(np.array_equal(lines[1], c) for c in retried)


def test_a_line_with_a_digit_is_written_again_for_one_wrong_character():
    """One wrong digit is a wrong number, though only a few per cent of the line's characters
    (under `RETRY_CER`): a line with a digit gets K more unless a candidate reads exactly; a
    line of letters read as close is kept."""
    from handwriting.selfcheck import RETRY_CER, RETRY_MORE, retry_cer, self_checked

    syn = tiny_service()

    def sample(lines, seed):
        return syn.stream(syn.plan("\n".join(lines)), seed=seed, candidates=1)

    def reader(inks):  # every candidate of the first batch one character off
        out = []
        for ink in inks:
            text = ink.meta["text"]
            reader.seen[text] = reader.seen.get(text, 0) + 1
            out.append(text if reader.seen[text] > 2 else text[:-1] + "x")
        return out

    reader.seen = {}
    lines = ["the meeting is at 10 pm", "the meeting is at ten pm"]
    assert 1 / len(lines[0]) < RETRY_CER and retry_cer(lines[0]) < retry_cer(lines[1])
    report: list = []
    frames = list(self_checked(sample([t for t in lines for _ in range(2)], 1), lines, 2,
                               reader, report=report, resample=lambda ls: sample(ls, 2)))
    assert [r["retried"] for r in report] == [True, False]
    assert reader.seen == {lines[0]: 2 + 2 * RETRY_MORE, lines[1]: 2}
    assert report[0]["errors"][report[0]["kept"]] == 0  # the retry's exact reading is kept
    assert len(collect_lines(iter(frames), 2)[0]) > 0


def test_a_primed_line_still_bad_after_the_retry_is_written_without_the_prime():
    """A prime can lead the model astray at every bias (d08-579z's "final revelation": 22.5 %
    CER with the retry, worse the neater): a line whose K + K x `RETRY_MORE` primed candidates
    all read badly gets as many again unprimed, and one of those is kept, its window drawn
    over the same text columns as the primed lines' (after the prime's)."""
    from handwriting.features import synthesis_offsets
    from handwriting.results import Style
    from handwriting.selfcheck import RETRY_MORE, RETRY_NEATER, RETRY_SEED
    from tests.fixtures import hershey_ink

    more = 3 * RETRY_MORE
    reader = FirstBatchBadReader(bad=3 + more)  # every primed candidate, retry included
    syn = tiny_service(reader)
    style = Style("t", synthesis_offsets(hershey_ink("on it")), "on it")
    frames = list(syn.stream("ab", bias=0.5, style=style, seed=3, candidates=3))
    assert reader.calls == [1] * (3 + 2 * more)
    kept = collect_lines(iter(frames), 1)[0]
    unprimed = collect_lines(iter(syn.stream(syn.plan("\n".join(["ab"] * more)),
                                             bias=0.5 + RETRY_NEATER, seed=3 + 2 * RETRY_SEED,
                                             candidates=1)), more)
    assert any(np.array_equal(kept, c) for c in unprimed)
    assert all(f.text_offset == len("on it ") for f in frames)
    window = np.stack([f.phi[0] for f in frames if f.active[0]])
    assert np.all(window[:, : len("on it ")] == 0) and window.sum(1).min() > 0
    # a line the retry mends never falls back
    mended = FirstBatchBadReader(bad=3)
    list(tiny_service(mended).stream("ab", bias=0.5, style=style, seed=3, candidates=3))
    assert mended.calls == [1] * (3 + more)


def test_the_report_says_when_a_line_fell_back_and_unprimed_text_never_does():
    from handwriting.selfcheck import RETRY_MORE, self_checked

    syn = tiny_service()

    def sample(lines, seed):
        return syn.stream(syn.plan("\n".join(lines)), seed=seed, candidates=1)

    k, more = 2, 2 * RETRY_MORE
    reader = FirstBatchBadReader(bad=k + more)
    report: list = []
    frames = list(self_checked(sample(["ab"] * k, 1), ["ab"], k, reader, report=report,
                               resample=lambda ls: sample(ls, 2),
                               fallback=lambda ls: sample(ls, 3)))
    assert report[0]["retried"] and report[0]["fell_back"]
    assert len(report[0]["readings"]) == k + 2 * more and report[0]["kept"] >= k + more
    fallen = collect_lines(iter(sample(["ab"] * more, 3)), more)
    assert any(np.array_equal(collect_lines(iter(frames), 1)[0], c) for c in fallen)
    # without a prime there is nothing to fall back from: the retry is the last try
    plain = FirstBatchBadReader(bad=3 + 3 * RETRY_MORE)
    list(tiny_service(plain).stream("ab", bias=0.5, seed=3, candidates=3))
    assert plain.calls == [1] * (3 + 3 * RETRY_MORE)


@pytest.mark.dataset
def test_a_writer_whose_prime_leads_the_model_astray_is_written_legibly(real_iam_ondb,
                                                                       monkeypatch):
    """d08-579z (testset_v) primes with "final revelation": every candidate of most lines,
    retried neater, read as scribble (22.5 % CER over six phrases); falling back to unprimed
    lines in the writer's slant and width, a few per cent."""
    from handwriting import selfcheck
    from handwriting.alphabet import detokenize
    from handwriting.cli.style import write_and_read
    from handwriting.metrics import ErrorCounts
    from handwriting.phrases import read_phrases
    from handwriting.results import models_dir
    from handwriting.service import Recognizer

    [line] = [ln for ln in real_iam_ondb.split("testset_v") if ln.id == "d08-579z-01"]
    syn = Synthesizer.from_checkpoint(threads=1, candidates=3)
    judge = Recognizer.from_checkpoint(models_dir() / "judge.pt", threads=1)
    style = syn.style_from_ink(line.ink, detokenize(line.text))

    def cer() -> float:
        w = write_and_read(syn, judge, read_phrases(None)[:6], style, 31, 0.75)
        counts = ErrorCounts()
        for text, read in zip(w.texts, w.readings, strict=True):
            counts.add(text, read)
        return counts.cer

    assert cer() < 0.05
    monkeypatch.setattr(selfcheck, "FALLBACK_CER", float("inf"))  # as before: no fallback
    assert cer() > 0.15
