"""`handwriting tune decoder`: the beam search's LM weight and insertion bonus (and the word
LM's terms, and the word fix after the beam), grid-searched on validation lines, never test
lines."""

from __future__ import annotations

import json
import sys

from handwriting.cli.common import add_data_arg

BEAM_WIDTH = 16  # measured: models/recognizer.md, "Beam width"


def add_parser(sub) -> None:
    tune = sub.add_parser("tune", help="tune the beam search's LM weight on a validation split")
    tune.add_argument("what", choices=("decoder",))
    add_data_arg(tune)
    tune.add_argument("--model", dest="checkpoint", required=True)
    tune.add_argument("--split", default="testset_v", choices=("trainset", "testset_v"))
    tune.add_argument("--max-lines", type=int, default=400)
    tune.add_argument("--beam-width", type=int, default=BEAM_WIDTH,
                      help=f"beams kept per frame, not tuned: wider reads better and costs time "
                           f"(default {BEAM_WIDTH})")
    tune.add_argument("--write", action="store_true", help="store the best settings in the checkpoint")
    tune.set_defaults(handler=cmd_tune_decoder)


def cmd_tune_decoder(args) -> int:
    """Grid search of LM weight and insertion bonus on validation lines (never test lines)."""
    import dataclasses
    import itertools

    from handwriting.alphabet import detokenize
    from handwriting.checkpoint import load_checkpoint, save_checkpoint
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.metrics import ErrorCounts
    from handwriting.service import DecoderSettings, Recognizer

    if args.beam_width < 1:
        raise ValueError(f"--beam-width must be at least 1, got {args.beam_width}")
    rec = Recognizer.from_checkpoint(args.checkpoint, use_word_lm=True)
    lines = load_iam_ondb(args.iam_ondb).split(args.split)
    lines = lines[:: max(1, len(lines) // args.max_lines)][: args.max_lines]
    # scored against what the network was trained to write: a network trained on detokenized
    # transcriptions (`train recognizer --detokenize-targets`) is scored with both sides
    # detokenized, as `evaluate recognizer`'s `cer_detokenized` does
    detokenized = rec.data.get("targets") == "detokenized"
    norm = detokenize if detokenized else (lambda text: text)
    refs = [norm(ln.text) for ln in lines]
    posteriors = []
    for i in range(0, len(lines), 32):
        posteriors += rec.log_posteriors([ln.ink for ln in lines[i:i + 32]])
    results = []

    def trial(s: DecoderSettings) -> tuple[float, float, DecoderSettings]:
        counts = ErrorCounts()
        for ref, lp in zip(refs, posteriors, strict=True):
            counts.add(ref, norm(rec.decode(lp, "beam", settings=s)[0].text))
        print(json.dumps({"cer": round(counts.cer, 5), "wer": round(counts.wer, 5),
                          **s.__dict__}), file=sys.stderr)
        return counts.cer, counts.wer, s

    # character LM first, then the word LM's terms around the best character-LM setting
    for width, lw, ib in itertools.product((args.beam_width,), (0.3, 0.5, 0.7, 1.0),
                                           (0.0, 0.5, 1.0, 1.5, 2.0)):
        results.append(trial(DecoderSettings(width, lw, ib)))
    char_best = min(results, key=lambda r: r[0])[2]
    for ww, oov, wb in itertools.product((0.1, 0.2, 0.3), (-3.0, -5.0, -8.0), (0.0, 1.0, 2.0)):
        results.append(trial(DecoderSettings(char_best.beam_width, char_best.lm_weight,
                                             char_best.insertion_bonus, ww, oov, wb)))
    # the word fix after the beam (`wordfix`), around the best beam setting: chosen by word
    # error rate, as it corrects words, among the settings that keep the character error rate
    beam_cer, beam_wer, beam_best = min(results, key=lambda r: r[0])
    fixes = []
    grid = itertools.product((1, 2), (0.0, 0.25, 0.5), (8.0, 12.0, 16.0, 24.0))
    for edits, fw, fb in grid if rec.word_lm is not None else ():
        s = dataclasses.replace(beam_best, fix_max_edits=edits, fix_lm_weight=fw, fix_bonus=fb)
        fixes.append(trial(s))
    fixes = [f for f in fixes if f[0] <= beam_cer and f[1] < beam_wer]
    best_fix = min(fixes, key=lambda f: f[1]) if fixes else None
    greedy = ErrorCounts()
    for ref, lp in zip(refs, posteriors, strict=True):
        greedy.add(ref, norm(rec.decode(lp, "greedy")[0].text))
    cer, wer, best = best_fix if best_fix is not None else (beam_cer, beam_wer, beam_best)
    print(json.dumps({"split": args.split, "lines": len(lines), "detokenized": detokenized,
                      "greedy_cer": round(greedy.cer, 5),
                      "best_cer": round(cer, 5), "best_wer": round(wer, 5),
                      "beam_cer": round(beam_cer, 5), "best": best.__dict__}))
    if args.write:
        ckpt = load_checkpoint(args.checkpoint, "recognizer")
        ckpt["decoder"] = {**best.__dict__, "tuned_on": f"{args.split}, {len(lines)} lines"}
        save_checkpoint({k: v for k, v in ckpt.items() if k != "format_version"}, args.checkpoint)
    return 0
