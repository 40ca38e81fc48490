"""Command line: ``python -m googlenet train ...`` for full training runs, ``bench`` for speed.

Example (background-friendly; progress goes to the log, checkpoints to the folder)::

    nohup python -m googlenet train --config improved --epochs 15 --out runs/improved > improved.log 2>&1 &

Run the same command again after an interruption: it resumes from the last completed epoch.
A finished run is never rewritten: the command says so and changes nothing (``--extend`` adds
epochs to a constant-rate run). ``python -m googlenet bench --quick`` measures training and
inference throughput and writes ``results/benchmarks/<name>.json``; ``bench --threads`` times the
training step from one thread to all cores (:mod:`googlenet.thread_scaling`), ``bench --xla`` with
and without XLA compilation (:mod:`googlenet.xla_study`). ``python -m googlenet tta
--run FOLDER`` scores a finished run with test-time augmentation and writes ``tta.json`` there;
``reestimate --run FOLDER`` recomputes its batch norm statistics and writes ``bn_reestimated.json``;
``predict --run FOLDER`` saves its predicted classes in ``predictions.npz``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from .checks import integer
from .data import TRAIN_IMAGES, TRAIN_PER_CLASS, VALIDATION_PER_CLASS


def _parser() -> argparse.ArgumentParser:
    from .recipes import RECIPES

    parser = argparse.ArgumentParser(prog="python -m googlenet", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a named recipe on Fashion-MNIST (resumable)")
    train.add_argument("--config", required=True, help=f"the recipe: one of {', '.join(sorted(RECIPES))}")
    train.add_argument("--epochs", type=int, default=None, help="total epochs of the run (default: the recipe's)")
    train.add_argument("--batch-size", type=int, default=None, help="images per step (default: the recipe's, 128)")
    train.add_argument(
        "--seed", type=int, default=None, help=f"seed of everything random, 0 to {2**32 - 1} (default 0)"
    )
    train.add_argument("--out", required=True, help="run folder; an unfinished run there is resumed")
    train.add_argument(
        "--extend", action="store_true", help="change the epochs of a constant-rate run (finished or not)"
    )
    train.add_argument(
        "--train-per-class",
        type=int,
        default=None,
        help=f"train on a stratified subset of this many images per class (1 to {TRAIN_PER_CLASS}) for a quick try",
    )
    train.add_argument(
        "--validation",
        action="store_true",
        help=f"hold out {VALIDATION_PER_CLASS} training images per class and score them every epoch",
    )
    train.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files (optional)")
    train.add_argument("--no-progress", action="store_true", help="no per-step progress bar (one line per epoch)")
    bench = sub.add_parser("bench", help="measure training/inference throughput")
    bench.add_argument("--quick", action="store_true", help="fewer, shorter windows (under 3 minutes)")
    bench.add_argument(
        "--name",
        default=None,
        help="output name (default: 'full' or 'quick'; with --threads 'threads' or 'threads_quick', with --xla 'xla'"
        " or 'xla_quick')",
    )
    bench.add_argument("--out", default=None, help="folder for <name>.json (default: the book's results/benchmarks)")
    bench.add_argument("--overwrite", action="store_true", help="replace an existing <name>.json")
    bench.add_argument(
        "--threads",
        action="store_true",
        help="instead: the book's step under several thread settings, one core to all (default name 'threads')",
    )
    bench.add_argument(
        "--xla",
        action="store_true",
        help="instead: the book's step with and without XLA compilation (default name 'xla')",
    )
    scorers = {  # command: (what it does, the file it writes, which runs it takes)
        "tta": ("score finished runs with test-time augmentation", "tta.json", "run folders made with --validation"),
        "reestimate": (
            "recompute batch norm statistics of finished runs",
            "bn_reestimated.json",
            "run folders made with --validation",
        ),
        "predict": ("save finished runs' predicted classes", "predictions.npz", "finished run folders"),
    }
    for command, (does, writes, takes) in scorers.items():
        scorer = sub.add_parser(command, help=f"{does} (writes {writes})")
        scorer.add_argument("--run", required=True, nargs="+", help=takes)
        scorer.add_argument("--overwrite", action="store_true", help=f"replace a run's existing {writes}")
        scorer.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files (optional)")
    return parser


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _bench(args) -> int:
    from . import bench, thread_scaling, xla_study

    if args.threads and args.xla:
        return _error("--threads and --xla are two studies: run them one after the other")
    out = Path(args.out).expanduser() if args.out else None
    study, format_table, default = (
        (thread_scaling.run_thread_study, thread_scaling.format_table, "threads")
        if args.threads
        else (xla_study.run_xla_study, xla_study.format_table, "xla")
        if args.xla
        else (bench.run_benchmark, bench.format_table, "full")
    )
    studied = args.threads or args.xla
    try:
        result = study(
            args.name or (f"{default}_quick" if studied and args.quick else "quick" if args.quick else default),
            args.quick,
            out,
            log=lambda m: print(m, flush=True),
            overwrite=args.overwrite,
        )
    except (ValueError, OSError, RuntimeError) as error:
        return _error(str(error))
    print(format_table(result))
    print(f"written: {result['name']}.json ({result['seconds']:.0f} s)")
    return 0


def _recipe(args):
    """The recipe the command asks for, every flag checked against its real bounds first."""
    from . import recipes

    base = recipes.get(args.config)
    if args.epochs is not None:
        integer("--epochs", args.epochs, minimum=1, maximum=10_000)
    if args.batch_size is not None:
        integer("--batch-size", args.batch_size, minimum=1, maximum=TRAIN_IMAGES)
    if args.seed is not None:
        integer("--seed", args.seed, minimum=0, maximum=recipes.MAX_SEED)
    held_out = VALIDATION_PER_CLASS if args.validation else 0
    images = TRAIN_IMAGES - 10 * held_out
    if args.train_per_class is not None:
        integer("--train-per-class", args.train_per_class, minimum=1, maximum=TRAIN_PER_CLASS - held_out)
        images = 10 * args.train_per_class
    batch_size = args.batch_size or base.batch_size
    if batch_size > images:
        raise ValueError(f"--batch-size {batch_size} is larger than the {images:,} training images")
    return replace(
        base,
        epochs=args.epochs or base.epochs,
        batch_size=batch_size,
        seed=base.seed if args.seed is None else args.seed,
        train_per_class=args.train_per_class,
        validation_per_class=VALIDATION_PER_CLASS if args.validation else None,
    )


def _train(args) -> int:
    from . import data as data_module
    from . import predictions, run_folder, runs

    out = Path(args.out).expanduser()
    try:
        recipe = _recipe(args)
        run_folder.check_output_dir(out, recipe, extend=args.extend)  # refuse bad folders before loading anything
    except run_folder.RunFinished as finished:
        print(finished)
        return 0
    except ValueError as error:
        return _error(str(error))
    try:
        dataset = data_module.load_fashion_mnist(args.data_dir)
    except (data_module.DatasetNotFoundError, data_module.ChecksumError, ValueError, OSError) as error:
        return _error(f"{error}".replace("\n", " "))
    try:
        metadata = runs.train_run(
            recipe,
            out,
            dataset,
            extend=args.extend,
            progress=not args.no_progress,
            log=lambda m: print(m, flush=True),
        )
    except run_folder.RunFolderError as error:
        return _error(str(error))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: run the same command to resume {out} from its last completed epoch",
            file=sys.stderr,
        )
        return 130
    print(
        f"done: test accuracy {metadata['test_accuracy']:.4f} after {metadata['epochs']} epochs, "
        f"{metadata['train_seconds']:.0f} s of training, model in {out}"
    )
    predictions.score_run(out, dataset, overwrite=True, log=lambda m: print(m, flush=True))  # for paired tests
    return 0


def _score_runs(args, module) -> int:
    """``tta``, ``reestimate`` and ``predict``: every folder checked first, then ``module.score_run`` on each."""
    from . import data as data_module

    folders = [Path(folder).expanduser() for folder in args.run]
    for folder in folders:  # every folder checked before any model is loaded
        if not (folder / "metadata.json").exists():
            return _error(f"{folder} holds no finished run (no metadata.json)")
        if not args.overwrite and (folder / module.SUMMARY_FILE).exists():
            return _error(f"{folder / module.SUMMARY_FILE} exists: add --overwrite to score the run again")
    try:
        dataset = data_module.load_fashion_mnist(args.data_dir)
        for folder in folders:
            module.score_run(folder, dataset, overwrite=args.overwrite, log=lambda m: print(m, flush=True))
    except (data_module.DatasetNotFoundError, data_module.ChecksumError, ValueError, OSError) as error:
        return _error(f"{error}".replace("\n", " "))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    args = _parser().parse_args(argv)
    if args.command in ("tta", "reestimate", "predict"):
        from . import predictions, reestimation, tta

        return _score_runs(args, {"tta": tta, "reestimate": reestimation, "predict": predictions}[args.command])
    return _bench(args) if args.command == "bench" else _train(args)


if __name__ == "__main__":
    sys.exit(main())
