"""`handwriting train recognizer|synthesizer|lm`: resumable training runs (`--resume`,
`--init-from`), and the language models built from trainset text."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from handwriting.checkpoint import config_from
from handwriting.cli.common import add_data_arg, check_writable_folder
from handwriting.training.config import TrainConfig


def _add_train_args(p: argparse.ArgumentParser, out_default: str) -> None:
    add_data_arg(p)
    p.add_argument("--out", default=out_default, help="run folder for checkpoints and log.jsonl")
    p.add_argument("--resume", action="store_true", help="continue exactly from OUT/last.pt")
    p.add_argument("--init-from", metavar="CHECKPOINT",
                   help="start from these weights (e.g. the shipped model)")
    p.add_argument("--init-matching", action="store_true",
                   help="with --init-from: build the network from this command's architecture "
                        "flags and load only the weights whose names and shapes match (to "
                        "change the front-end or add a layer); the rest start fresh")
    for f in fields(TrainConfig):
        if f.name in ("out",):
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool",):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            typ = {"int": int, "float": float, "str": str}.get(
                f.type.split(" | ")[0].replace("int | None", "int"), str)
            p.add_argument(flag, type=typ, default=f.default, help=f"(default {f.default})")



def add_parser(sub) -> None:
    train = sub.add_parser("train", help="train a model")
    tsub = train.add_subparsers(dest="model", required=True)
    rec = tsub.add_parser("recognizer", help="BiLSTM-CTC recognizer")
    _add_train_args(rec, "runs/rec")
    rec.add_argument("--hidden", type=int, default=128)
    rec.add_argument("--layers", type=int, default=3)
    rec.add_argument("--conv-layers", type=int, default=2)
    rec.add_argument("--dropout", type=float, default=0.2)
    rec.add_argument("--no-augment", action="store_true")
    rec.add_argument("--detokenize-targets", action="store_true",
                     help="train on the transcriptions with IAM's LOB tokenization undone "
                          "('Mr . Grey ,' -> 'Mr. Grey,'), the spacing the ink shows")
    rec.set_defaults(handler=cmd_train_recognizer)

    syn = tsub.add_parser("synthesizer", help="Graves (2013) synthesis network")
    _add_train_args(syn, "runs/syn")
    syn.add_argument("--hidden", type=int, default=256)
    syn.add_argument("--layers", type=int, default=3)
    syn.add_argument("--mixtures", type=int, default=20)
    syn.add_argument("--window-gaussians", type=int, default=10)
    syn.set_defaults(handler=cmd_train_synthesizer)

    lm = tsub.add_parser("lm", help="character n-gram LM and lexicon (trainset text + wordfreq)")
    add_data_arg(lm)
    lm.add_argument("--output", default="handwriting/resources", help="folder for both files")
    lm.add_argument("--words", action="store_true",
                    help="build the word bigram LM instead (trainset text + wordfreq)")
    lm.set_defaults(handler=cmd_train_lm)


def _final(state) -> dict:
    best = state.best_metric if state.best_metric != float("inf") else None
    return {"step": state.step, "epoch": state.epoch, "best": best, **state.best_metrics}


def _shape_from_checkpoint(args) -> bool:
    """Whether the network takes its shape from the checkpoint it starts from: always, but
    for `--init-from ... --init-matching`, where this command's flags give the shape."""
    return args.resume or not (args.init_from and args.init_matching)


def _train_config(args, resumed: dict | None = None):
    """The run's TrainConfig from the flags; when resuming, the checkpoint's own config with
    only the flags the user actually gave on this command line on top (an exact resume must
    not pick up, say, the default batch size instead of the one the run started with)."""


    kw = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    if resumed:
        defaults = {f.name: f.default for f in fields(TrainConfig)}
        kw = {**{k: v for k, v in resumed.items() if k in defaults},
              **{k: v for k, v in kw.items() if v != defaults[k]}}
    kw["out"] = args.out
    return TrainConfig(**kw)


def _train(args, kind: str, make_task) -> int:
    """Shared by both `train` commands: refuse to overwrite a run, load the data, take the
    model config (and normalization) from the checkpoint when resuming or initializing,
    build the task with `make_task(train, val, ckpt_or_None, data_info)`, and fit."""
    import torch

    from handwriting.checkpoint import load_checkpoint
    from handwriting.data.datasets import with_digits_oversampled
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.training.loop import Trainer, init_from

    out = Path(args.out)
    if (out / "last.pt").exists() and not args.resume:
        raise ValueError(f"{out}/last.pt exists: pass --resume to continue it, or another --out")
    check_writable_folder(out)
    ckpt = None
    if args.resume or args.init_from:
        source = out / "last.pt" if args.resume else Path(args.init_from)
        ckpt = load_checkpoint(source, kind)
        ckpt["source_path"] = str(source)  # for config errors that name the file
    cfg = _train_config(args, ckpt.get("train_config") if args.resume and ckpt else None)
    ds = load_iam_ondb(args.iam_ondb, progress=sys.stderr.isatty())
    train = ds.split("trainset")[: cfg.max_train_lines]
    val = ds.split("testset_v")[: cfg.max_val_lines]
    data_info = {"dataset": "IAM-OnDB", "source_hash": ds.source_hash, "train_split": "trainset",
                 "train_lines": len(train), "val_split": "testset_v", "val_lines": len(val)}
    if cfg.oversample_digits != 1:
        train = with_digits_oversampled(train, cfg.oversample_digits)
        data_info["oversample_digits"] = cfg.oversample_digits
        data_info["train_items_per_epoch"] = len(train)
    torch.manual_seed(cfg.seed)  # the initial weights follow --seed too
    task = make_task(train, val, ckpt, data_info)
    trainer = Trainer(task, cfg)
    try:
        if args.resume:
            trainer.resume(out / "last.pt")
        elif args.init_from:
            init_from(task.model, args.init_from, kind, matching=args.init_matching)
        print(json.dumps(_final(trainer.fit())))
    finally:
        trainer.close()
    return 0


def cmd_train_recognizer(args) -> int:
    from handwriting.data.datasets import Augment
    from handwriting.features import Standardizer
    from handwriting.models.configs import RecognizerConfig
    from handwriting.training.recognizer import RecognizerTask

    def make_task(train, val, ckpt, data_info):
        model_cfg = RecognizerConfig(hidden=args.hidden, layers=args.layers,
                                     conv_layers=args.conv_layers, dropout=args.dropout)
        standardizer = None
        if ckpt is not None:
            if _shape_from_checkpoint(args):
                model_cfg = config_from(ckpt["source_path"], RecognizerConfig,
                                        ckpt["model_config"])
            standardizer = Standardizer.from_dict(ckpt["standardizer"])
        return RecognizerTask(train, val, model_cfg,
                              augment=None if args.no_augment else Augment(), seed=args.seed,
                              standardizer=standardizer, data_info=data_info,
                              detokenized=args.detokenize_targets)

    return _train(args, "recognizer", make_task)


def cmd_train_synthesizer(args) -> int:
    from handwriting.models.configs import SynthesizerConfig
    from handwriting.training.synthesizer import SynthesizerTask

    def make_task(train, val, ckpt, data_info):
        model_cfg = SynthesizerConfig(hidden=args.hidden, layers=args.layers,
                                      mixtures=args.mixtures,
                                      window_gaussians=args.window_gaussians)
        offset_scale = None
        if ckpt is not None:
            if _shape_from_checkpoint(args):
                model_cfg = config_from(ckpt["source_path"], SynthesizerConfig,
                                        ckpt["model_config"])
            offset_scale = ckpt["offset_scale"]
        return SynthesizerTask(train, val, model_cfg, offset_scale=offset_scale,
                               data_info=data_info)

    return _train(args, "synthesizer", make_task)



def cmd_train_lm(args) -> int:
    from handwriting.data.iam_ondb import load_iam_ondb
    from handwriting.lm import build_default_resources

    ds = load_iam_ondb(args.iam_ondb)
    texts = [ln.text for ln in ds.split("trainset")]  # never the test splits (nor LOB)
    if getattr(args, "words", False):
        from handwriting.wordlm import build_default_word_lm

        paths = [build_default_word_lm(texts, args.output)]
    else:
        paths = build_default_resources(texts, args.output)
    for path in paths:
        print(f"wrote {path} ({Path(path).stat().st_size / 1e6:.2f} MB)")
    print(f"from {len(texts)} trainset lines + wordfreq English words")
    return 0
