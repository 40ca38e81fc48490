"""Command line: ``python -m googlenet train ...`` for full training runs, ``bench`` for speed.

Example (background-friendly; progress goes to the log, checkpoints to the folder)::

    nohup python -m googlenet train --config improved --epochs 15 --out results/improved > improved.log 2>&1 &

Run the same command again after an interruption: it resumes from the last completed epoch.
``python -m googlenet bench --quick`` (from the repository root) measures training and
inference throughput and writes ``results/benchmarks/<name>.json``.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    from .fit import CONFIGS

    parser = argparse.ArgumentParser(prog="python -m googlenet", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a named configuration on Fashion-MNIST (resumable)")
    train.add_argument("--config", required=True, help=f"one of: {', '.join(sorted(CONFIGS))}")
    train.add_argument("--epochs", type=int, required=True, help="total epochs of the run (>= 1)")
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", required=True, help="run folder; an existing run there is resumed")
    train.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files (optional)")
    train.add_argument("--no-progress", action="store_true", help="no per-step progress bar (one line per epoch)")
    bench = sub.add_parser("bench", help="measure training/inference throughput (run from the repository root)")
    bench.add_argument("--quick", action="store_true", help="fewer, shorter windows (under 3 minutes)")
    bench.add_argument("--name", default=None, help="output name (default: 'quick' or 'full')")
    bench.add_argument("--out", default="results/benchmarks", help="folder for <name>.json")
    return parser


def _bench(args) -> int:
    from .bench import format_table, run_benchmark

    try:
        result = run_benchmark(args.name or ("quick" if args.quick else "full"), args.quick, args.out,
                               log=lambda m: print(m, flush=True))  # fmt: skip
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_table(result))
    print(f"written: {args.out}/{result['name']}.json ({result['seconds']:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args)
    from . import data as data_module
    from . import fit

    try:
        config = fit.make_config(args.config, args.epochs, args.batch_size, args.seed)
        fit.check_output_dir(args.out, config)  # refuse bad folders before loading anything
    except (ValueError, PermissionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dataset = data_module.load_fashion_mnist(args.data_dir)
    metadata = fit.train_run(config, args.out, dataset, progress=not args.no_progress,
                             log=lambda m: print(m, flush=True))  # fmt: skip
    print(f"done: test accuracy {metadata['test_accuracy']:.4f} after {metadata['epochs']} epochs, "
          f"{metadata['train_seconds']:.0f} s of training, model in {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
