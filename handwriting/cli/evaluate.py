"""`handwriting evaluate ...`: measure a model on a split. The recognizer's CER/WER and the
synthesizer's NLL are here; each other measurement has its own module (legibility, pages,
adaptation, style), added to this verb's subcommands in the order they appear in `--help`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from handwriting.cli import adapt, legibility, pages, style
from handwriting.cli.common import add_data_arg


def add_parser(sub) -> None:
    ev = sub.add_parser("evaluate", help="measure a model on a split")
    esub = ev.add_subparsers(dest="model", required=True)
    erec = esub.add_parser("recognizer", help="CER/WER of the recognizer")
    add_data_arg(erec)
    erec.add_argument("--split", default="testset_v")
    erec.add_argument("--decoder", choices=("greedy", "beam"), default=None)
    erec.add_argument("--model", dest="checkpoint", default=None, help="checkpoint (default: shipped)")
    erec.add_argument("--with-digits", action="store_true",
                      help="only the lines whose transcription holds a digit (how numbers read)")
    erec.add_argument("--json", action="store_true")
    erec.set_defaults(handler=cmd_evaluate_recognizer)
    legibility.add_parser(esub)
    esyn = esub.add_parser("synthesizer", help="NLL of the synthesizer on a split")
    add_data_arg(esyn)
    esyn.add_argument("--split", default="testset_v")
    esyn.add_argument("--model", dest="checkpoint", default=None)
    esyn.add_argument("--json", action="store_true")
    esyn.set_defaults(handler=cmd_evaluate_synthesizer)
    pages.add_parser(esub)
    adapt.add_evaluate_parser(esub)
    style.add_parser(esub)


def cmd_evaluate_recognizer(args) -> int:
    from handwriting.alphabet import detokenize
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.metrics import ErrorCounts
    from handwriting.service import Recognizer

    rec = Recognizer.from_checkpoint(args.checkpoint)
    decoder = args.decoder or rec.default_decoder
    ds = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty())
    lines, unscored = ds.evaluation_lines(args.split)
    if args.with_digits:  # a line without a transcription cannot be known to hold digits
        lines, unscored = [ln for ln in lines if any(c.isdigit() for c in ln.text)], []
    if not lines:
        raise ValueError(f"split {args.split!r} has no lines{' with digits' if args.with_digits else ''} "
                         f"in {args.iam_ondb or 'the default path'}")
    t0 = time.perf_counter()
    # Some forms' transcriptions keep the LOB corpus's tokenization ("support , a", "Mr .
    # Foot"): spaces the ink does not show. Beside the rates against the transcriptions as
    # they are, the same rates with both sides detokenized (`alphabet.detokenize`, the form
    # the app shows and the synthesizer writes), where no reader is charged for them.
    counts, detok, tokenized = ErrorCounts(), ErrorCounts(), 0
    order = sorted(range(len(lines)), key=lambda i: lines[i].ink.num_points)
    for i in range(0, len(order), 32):
        chunk = [lines[j] for j in order[i:i + 32]]
        for ln, lp in zip(chunk, rec.log_posteriors([ln.ink for ln in chunk]), strict=True):
            text, ref = rec.decode(lp, decoder)[0].text, detokenize(ln.text)
            counts.add(ln.text, text)
            detok.add(ref, detokenize(text))
            tokenized += ref != ln.text
    reasons: dict[str, int] = {}
    for e in unscored:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    result = {"split": args.split, "lines": counts.lines, "cer": round(counts.cer, 5),
              "wer": round(counts.wer, 5), "decoder": decoder,
              "cer_detokenized": round(detok.cer, 5), "wer_detokenized": round(detok.wer, 5),
              "tokenized_references": tokenized,
              "digits": counts.digits, "digit_error_rate": _rate(counts.digit_error_rate),
              "with_digits": args.with_digits,
              "seconds": round(time.perf_counter() - t0, 2),
              "unscored_lines": len(unscored), "unscored_reasons": reasons,
              "model": str(rec.path)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.split}: CER {100 * counts.cer:.2f} %  WER {100 * counts.wer:.2f} %  "
              f"({counts.lines} lines, {decoder}, {result['seconds']} s); detokenized "
              f"CER {100 * detok.cer:.2f} %  WER {100 * detok.wer:.2f} % ({tokenized} "
              f"transcriptions with LOB tokenization)")
    return 0


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def cmd_evaluate_synthesizer(args) -> int:
    import numpy as np
    import torch

    from handwriting.checkpoint import config_from, load_checkpoint
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.features import SynthesisFeatureConfig
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.results import models_dir

    path = Path(args.checkpoint) if args.checkpoint else models_dir() / "synthesizer.pt"
    ckpt = load_checkpoint(path, "synthesizer")
    ds = load_iam_ondb(args.iam_ondb)
    lines = ds.split(args.split)
    if not lines:
        raise ValueError(f"split {args.split!r} has no usable lines")
    t0 = time.perf_counter()
    from handwriting.alphabet import Alphabet
    from handwriting.data.datasets import SynthesizerDataset, collate_synthesizer
    from handwriting.geometry import correct_slope, normalize_scale
    from handwriting.models.mdn import mixture_log_likelihood
    from handwriting.models.synthesizer import SynthesizerNet

    alphabet = Alphabet(ckpt["alphabet"])
    cfg = config_from(path, SynthesizerConfig, ckpt["model_config"])
    val = SynthesizerDataset(lines, alphabet, config_from(path, SynthesisFeatureConfig,
                                                          ckpt["feature_config"],
                                                          "feature_config"),
                             ckpt["offset_scale"])
    net = SynthesizerNet(cfg)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in ckpt["state_dict"].items()})
    net.eval()
    # Graves (2013) reports NLL over raw pen offsets. Ours is a density over offsets in
    # writing heights divided by offset_scale; with k = raw units per scaled unit of a line
    # (offset_scale / normalize's factor), p_raw(d) = p(d / k) / k^2 per point (two
    # continuous coordinates; pen-up is discrete and unchanged): +2 log k nats per point.
    by_id = {getattr(ln, "id", str(i)): ln for i, ln in enumerate(lines)}
    log_k = np.array([np.log(float(ckpt["offset_scale"])
                             / normalize_scale(correct_slope(by_id[i].ink))) for i in val.ids])
    per_line = np.zeros(len(val))
    order = np.argsort(val.lengths())
    with torch.no_grad():
        for i in range(0, len(order), 32):
            idx = order[i:i + 32]
            b = collate_synthesizer([val[j] for j in idx], cfg.n_chars)
            x = b["x"]
            inputs = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)
            params, _ = net(inputs, b["text"], b["text_mask"])
            ll = (mixture_log_likelihood(params, x) * b["point_mask"]).sum(1)
            per_line[idx] = -ll.double().numpy()
    counts = np.array(val.lengths(), dtype=np.float64)
    total, points = float(per_line.sum()), float(counts.sum())
    raw = per_line + 2.0 * counts * log_k
    result = {"split": args.split, "lines": len(val), "skipped_lines": len(lines) - len(val),
              "nll_per_line": round(total / len(val), 2),
              "nll_per_point": round(total / points, 4), "points": int(points),
              "units": "nats, offsets scaled by offset_scale",
              "nll_per_line_raw_offsets": round(float(raw.mean()), 2),
              "raw_units": "nats per line over the pen offsets in the file's own coordinates "
                           "(IAM-OnDB: raw whiteboard units), at our resampling of ~10 points "
                           "per character (Graves 2013 used every raw point, ~2x as many)",
              "seconds": round(time.perf_counter() - t0, 1), "model": str(path)}
    print(json.dumps(result) if args.json else
          f"{args.split}: NLL {result['nll_per_line']} nats/line, "
          f"{result['nll_per_point']} nats/point ({len(val)} lines)")
    return 0
