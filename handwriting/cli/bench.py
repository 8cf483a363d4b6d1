"""`handwriting bench recognize|synthesize`: latency and throughput, as one JSON line (the
performance targets live here, never in timed tests)."""

from __future__ import annotations

import json
from pathlib import Path

from handwriting.cli.common import synthesizer


def add_parser(sub) -> None:
    bench = sub.add_parser("bench", help="latency and throughput benchmarks (JSON)")
    bench.add_argument("what", choices=("recognize", "synthesize"))
    bench.add_argument("--model", dest="checkpoint", default=None)
    bench.add_argument("--threads", type=int, default=None)
    bench.add_argument("--out", default=None, help="also write the JSON line to this file")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(args) -> int:
    from handwriting import bench

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.what == "recognize":
        from handwriting.service import Recognizer

        recognizer = Recognizer.from_checkpoint(args.checkpoint)
        recognizer.warm_up()  # as the app's model process does before it reports ready
        result = bench.bench_recognize(recognizer)
    else:
        result = bench.bench_synthesize(synthesizer(args))
    line = json.dumps(result)
    if args.out:
        Path(args.out).write_text(line + "\n")
    print(line if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0
