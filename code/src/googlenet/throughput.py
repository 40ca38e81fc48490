"""The benchmark's measurements, each run inside a child process of :mod:`googlenet.bench`.

``python -m googlenet.throughput TASK[,TASK...] [--quick]`` prints one JSON list of results:
a row of :data:`googlenet.bench.ROWS` or ``XLA_ROWS`` (training images/s), ``matmul`` (fp32 GFLOP/s), ``matmul_bf16``,
``stream`` (GB/s of an element-wise kernel), ``inference`` (the shipped model's images/s) or
``profile:ROW`` (milliseconds per op type).
oneDNN is fixed when TensorFlow loads, which is why every setting gets its own process.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .bench import ROWS, XLA_ROWS, Row
from .data import INPUT_SHAPE, NUM_CLASSES


def measure_row(row: Row, windows: int, steps: int, warmup: int, batch_size: int = 128) -> dict:
    """Train ``warmup`` steps, then time ``windows`` windows of ``steps`` steps each.

    Args:
        row: the configuration to time.
        windows: timed windows.
        steps: training steps per window.
        warmup: untimed steps first.
        batch_size: images per step.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from . import data, training

    keras.utils.set_random_seed(0)
    model = _build(row.model, fast=row.fast_layers, precision=row.precision)
    trainer = training.Trainer(model, 1e-3)
    step = trainer.train_step
    if row.jit:  # the same step, compiled by XLA (the book trains with jit_compile=False)
        step = tf.function(
            functools.partial(training.Trainer.train_step.python_function, trainer),
            jit_compile=True,
            autograph=False,
        )
    fashion = data.load_fashion_mnist()
    if (warmup + windows * steps) * batch_size > len(fashion.x_train):
        raise ValueError("the benchmark times full batches of one epoch: ask for fewer steps")
    if row.pipeline == "imagedatagenerator":
        iterator = iter(training.note_pipeline_batches(fashion.x_train, fashion.y_train, batch_size, seed=0))
    elif row.pipeline == "tfdata":
        iterator = iter(training.train_dataset(fashion.x_train, fashion.y_train, batch_size, 0, 1, augment=True))
    else:
        x, y = next(iter(training.train_dataset(fashion.x_train, fashion.y_train, batch_size, 0, 1, augment=True)))

        def fixed():
            while True:
                yield x, y

        iterator = fixed()

    def run(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            images, labels = next(iterator)
            step(images, labels)
        float(trainer.train_loss.result())  # wait for the last step
        return time.perf_counter() - start

    warmup_seconds = run(warmup)  # includes tracing and, with XLA, compiling
    seconds = [run(steps) for _ in range(windows)]
    rates = [steps * batch_size / s for s in seconds]
    return asdict(row) | {
        "images_per_second": statistics.median(rates),
        "window_images_per_second": rates,
        "steps_per_window": steps,
        "batch_size": batch_size,
        "warmup_steps": warmup,
        "warmup_seconds": warmup_seconds,
        "onednn_active": _onednn_active(),
        "deterministic": _op_determinism(),
        "remapper": tf.config.optimizer.get_experimental_options().get("remapping", True),
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "macs_per_image": _macs(row.model),
        "loss_is_finite": bool(np.isfinite(float(trainer.train_loss.result()))),
    }


def _onednn_active() -> bool:
    """Whether TensorFlow actually loaded its oneDNN kernels (not just whether they were asked for)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def _op_determinism() -> bool:
    """Whether TensorFlow's op determinism is on in this process."""
    from tensorflow.python.framework import config

    return bool(config.is_op_determinism_enabled())


def _build(model: str, fast: bool = True, precision: str = "float32"):
    """A benchmarked model: a registered recipe's network (fused layers or not) in ``precision``."""
    from dataclasses import replace

    from . import recipes

    recipe = replace(recipes.get(model), precision=precision)
    if "fast" in recipe.full_model_args():
        recipe = replace(recipe, model_args=dict(recipe.model_args) | {"fast": fast})
    return recipe.build()


def _macs(model: str) -> int:
    from . import cost
    from .models.note import counting_twin

    return cost.total_macs(counting_twin(_build(model)))


def matmul_gflops(n: int = 1024, windows: int = 5, repeats: int = 10, dtype: str = "float32") -> dict:
    """Median GFLOP/s of an ``n x n`` matrix multiply (2 n^3 FLOPs each) in ``dtype``.

    Args:
        n: matrix size.
        windows: timed windows.
        repeats: multiplies per window.
        dtype: ``"float32"`` or ``"bfloat16"``.
    """
    import tensorflow as tf

    a = tf.cast(tf.random.normal([n, n], seed=1), dtype)
    b = tf.cast(tf.random.normal([n, n], seed=2), dtype)
    matmul = tf.function(lambda p, q: tf.matmul(p, q))
    matmul(a, b).numpy()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()
        rates.append(2 * n**3 * repeats / (time.perf_counter() - start) / 1e9)
    return {"n": n, "dtype": dtype, "gflops": statistics.median(rates), "window_gflops": rates}


def inference_throughput(path: Path | None = None, windows: int = 5, batch_size: int = 500) -> dict:
    """Median images/s of the shipped improved model predicting the 10,000 test images.

    Args:
        path: the saved model (default: the shipped improved build).
        windows: timed windows.
        batch_size: images per forward pass.
    """
    import keras
    import numpy as np

    from . import data
    from .paths import results_dir

    path = Path(path) if path is not None else results_dir() / "improved" / "model.keras"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: the benchmark scores the shipped improved model")
    model = keras.models.load_model(path, safe_mode=True)
    images = data.load_fashion_mnist().x_test[..., None].astype("float32")
    model.predict(images[:batch_size], batch_size=batch_size, verbose=0)
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        logits = model.predict(images, batch_size=batch_size, verbose=0)
        rates.append(len(images) / (time.perf_counter() - start))
    return {
        "model": str(path),
        "batch_size": batch_size,
        "images_per_second": statistics.median(rates),
        "window_images_per_second": rates,
        "predictions_finite": bool(np.isfinite(logits).all()),
    }


def profile_row(row: Row, batch_size: int = 128) -> dict:
    """Per-op-type milliseconds of one training step of ``row``'s model on a fixed batch.

    Args:
        row: the configuration to profile.
        batch_size: images per step.
    """
    import keras
    import numpy as np

    from . import profile, training

    keras.utils.set_random_seed(0)
    model = _build(row.model, fast=row.fast_layers, precision=row.precision)
    trainer = training.Trainer(model, 1e-3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch_size, *INPUT_SHAPE)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, NUM_CLASSES, batch_size), NUM_CLASSES).astype("float32")
    for _ in range(3):
        trainer.train_step(images, labels)
    times = profile.op_time_by_type(
        lambda x, y: (trainer.train_step(x, y), trainer.train_loss.result())[1], (images, labels)
    )
    return {
        "name": row.name,
        "label": row.label,
        "batch_size": batch_size,
        "ms_per_step_by_op": times,
        "ms_per_step_by_group": profile.group_op_times(times),
        "batch_norm_elements_per_image": profile.batch_norm_elements(model),
    }


def stream_bandwidth(shape: tuple[int, ...] = (128, 14, 14, 64), chain: int = 20, windows: int = 5) -> dict:
    """Median GB/s of a chain of element-wise multiplies on an activation-sized float32 tensor.

    Each multiply reads two tensors of ``shape`` and writes one: the memory rate a kernel that
    only streams its data reaches on tensors the size of a training step's activations.

    Args:
        shape: the tensor (default: a batch of 128 at 14x14 with 64 channels, 6.4 MB).
        chain: multiplies per timed call.
        windows: timed calls.
    """
    import math

    import tensorflow as tf

    x = tf.random.uniform(shape, 0.5, 1.5, seed=1)
    y = tf.random.uniform(shape, 0.5, 1.5, seed=2)

    @tf.function
    def passes(a, b):
        for _ in range(chain):  # unrolled when traced: ``chain`` kernels
            a = a * b
        return a

    passes(x, y).numpy()
    rates = []
    moved = 3 * 4 * math.prod(shape) * chain
    for _ in range(windows):
        start = time.perf_counter()
        passes(x, y).numpy()
        rates.append(moved / (time.perf_counter() - start) / 1e9)
    return {"shape": list(shape), "chain": chain, "gb_per_s": statistics.median(rates), "window_gb_per_s": rates}


def run_task(task: str, quick: bool) -> dict:
    """One measurement named by ``task`` (see the module docstring).

    Args:
        task: ``ROW``, ``matmul`` (fp32), ``matmul_bf16``, ``stream`` (memory GB/s), ``inference`` or
            ``profile:ROW``.
        quick: fewer, shorter windows.
    """

    rows = {r.name: r for r in (*ROWS, *XLA_ROWS)}
    if task not in known_tasks():
        raise ValueError(f"unknown benchmark task {task!r}: choose from {', '.join(known_tasks())}")
    if task.startswith("profile:"):
        return profile_row(rows[task.split(":", 1)[1]])
    if task in ("matmul", "matmul_bf16"):
        return matmul_gflops(windows=3 if quick else 7, dtype="bfloat16" if task == "matmul_bf16" else "float32")
    if task == "stream":
        return stream_bandwidth(windows=3 if quick else 7)
    if task == "inference":
        return inference_throughput(windows=3 if quick else 7)
    row = rows[task]
    windows, steps = (3, 5) if quick else (7, 10)
    if row.model == "writeup":
        windows, steps = (3, 3) if quick else (5, 4)
    return measure_row(row, windows=windows, steps=steps, warmup=3)


def known_tasks() -> list[str]:
    """Every task :func:`run_task` accepts."""
    names = [r.name for r in ROWS]
    return [
        *names,
        *(r.name for r in XLA_ROWS),
        "matmul",
        "matmul_bf16",
        "stream",
        "inference",
        *(f"profile:{name}" for name in names),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m googlenet.throughput")
    parser.add_argument(
        "tasks", help="comma-separated tasks: row names, matmul, matmul_bf16, stream, inference, profile:ROW"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--intra-op", type=int, default=None, help="threads per op (0: TensorFlow's choice)")
    parser.add_argument("--inter-op", type=int, default=None, help="ops at once (0: TensorFlow's choice)")
    parser.add_argument("--deterministic", action="store_true", help="TensorFlow's op determinism, as in training")
    parser.add_argument("--no-remapper", action="store_true", help="grappler's remapper (kernel fusions) off")
    args = parser.parse_args(argv)
    unknown = [task for task in args.tasks.split(",") if task not in known_tasks()]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}: choose from {', '.join(known_tasks())}")
    for flag in ("intra_op", "inter_op"):
        if getattr(args, flag) is not None and getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')} must be 0 (TensorFlow's choice) or a thread count")
    from . import runtime

    runtime.quiet_tensorflow()
    import tensorflow as tf

    # Thread pools are fixed by the first op TensorFlow runs: set them before any task.
    if args.intra_op is not None:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    if args.inter_op is not None:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    if args.no_remapper:
        tf.config.optimizer.set_experimental_options({"remapping": False})
    print(json.dumps([run_task(task, args.quick) for task in args.tasks.split(",")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
