"""Benchmark: training throughput of the study note's pipeline against the book's, and why.

``python -m googlenet bench [--quick]`` measures, in one run on one machine:

* training images/s of the same model (the improved build) fed five ways, each row adding one
  change to the one before: the study note's pipeline (a Keras ``ImageDataGenerator`` feeding
  a compiled GradientTape step), the book's ``tf.data`` pipeline, TensorFlow's oneDNN kernels,
  the fused layers of :mod:`googlenet.fused`, and the same step on one fixed batch (no input
  pipeline at all, the ceiling the pipeline can approach);
* the same comparison on the study note's own model (full mode only: it is slow);
* a fp32 matrix multiply's GFLOP/s, the training GFLOP/s it implies for the model (forward +
  backward counted as 3x the forward multiply-adds, 2 FLOPs each) and the utilisation ratio;
* inference images/s of the shipped ``results/improved/model.keras``;
* (full mode) where a step's time goes, by TensorFlow op type (:mod:`googlenet.profile`).

Rows run in child processes, because oneDNN can only be switched when TensorFlow loads: one
process per row in full mode, one per oneDNN setting in quick mode. Figures are medians of
timed windows after warm-up; the JSON keeps every window.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path("results/benchmarks")
SHIPPED_MODEL = Path("results/improved/model.keras")


@dataclass(frozen=True)
class Row:
    """One measured way of training a model."""

    name: str
    model: str  # "improved" or "writeup"
    pipeline: str  # "imagedatagenerator", "tfdata" or "fixed-batch"
    fast_layers: bool
    onednn: bool
    label: str


ROWS: tuple[Row, ...] = (
    Row("note_pipeline", "improved", "imagedatagenerator", False, False,
        "study note's pipeline: ImageDataGenerator -> compiled step, TF defaults"),
    Row("tfdata", "improved", "tfdata", False, False, "+ augmentation inside tf.data"),
    Row("tfdata_onednn", "improved", "tfdata", False, True, "+ oneDNN kernels"),
    Row("book", "improved", "tfdata", True, True, "+ fused batch norm and 1x1 convolutions (the book)"),
    Row("book_fixed_batch", "improved", "fixed-batch", True, True, "the book's step on one fixed batch (no pipeline)"),
    Row("writeup_note_pipeline", "writeup", "imagedatagenerator", False, False,
        "write-up model: ImageDataGenerator, TF defaults"),
    Row("writeup_book_pipeline", "writeup", "tfdata", False, True, "write-up model: tf.data + oneDNN"),
)  # fmt: skip
QUICK_ROWS = ("note_pipeline", "tfdata", "tfdata_onednn", "book", "book_fixed_batch")


# ------------------------------------------------------------------- in the child process


def note_batches(images, labels, batch_size: int, seed: int):
    """The study note's augmentation: a Keras ``ImageDataGenerator`` yielding NumPy batches.

    Shifts of up to 2 pixels and horizontal flips, like the book's ``tf.data`` augmenter, so
    both pipelines do the same work. ``ImageDataGenerator`` is deprecated; Keras 3 keeps it
    only in a private module (which needs SciPy for the shifts).
    """
    import keras
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(width_shift_range=2, height_shift_range=2, horizontal_flip=True,
                                   fill_mode="constant", cval=0.0)  # fmt: skip
    x = images[..., None].astype("float32")
    y = keras.utils.to_categorical(labels, 10).astype("float32")
    return generator.flow(x, y, batch_size=batch_size, shuffle=True, seed=seed)


def measure_row(row: Row, windows: int, steps: int, warmup: int, batch_size: int = 128) -> dict:
    """Train ``warmup`` steps, then time ``windows`` windows of ``steps`` steps each."""
    import keras
    import numpy as np
    import tensorflow as tf

    from . import data, fit, reduced

    keras.utils.set_random_seed(0)
    model = reduced.writeup_net() if row.model == "writeup" else reduced.improved_net(fast=row.fast_layers)
    trainer = fit.Trainer(model, 1e-3)
    fashion = data.load_fashion_mnist()
    if (warmup + windows * steps) * batch_size > len(fashion.x_train):
        raise ValueError("the benchmark times full batches of one epoch: ask for fewer steps")
    if row.pipeline == "imagedatagenerator":
        iterator = iter(note_batches(fashion.x_train, fashion.y_train, batch_size, seed=0))
    elif row.pipeline == "tfdata":
        iterator = iter(fit.train_dataset(fashion.x_train, fashion.y_train, batch_size, 0, 1, augment=True))
    else:
        x, y = next(iter(fit.train_dataset(fashion.x_train, fashion.y_train, batch_size, 0, 1, augment=True)))

        def fixed():
            while True:
                yield x, y

        iterator = fixed()

    def run(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            images, labels = next(iterator)
            trainer.train_step(images, labels)
        float(trainer.train_loss.result())  # wait for the last step
        return time.perf_counter() - start

    run(warmup)
    seconds = [run(steps) for _ in range(windows)]
    rates = [steps * batch_size / s for s in seconds]
    return asdict(row) | {
        "images_per_second": statistics.median(rates),
        "window_images_per_second": rates,
        "steps_per_window": steps,
        "batch_size": batch_size,
        "onednn_active": _onednn_active(),
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },  # fmt: skip
        "macs_per_image": _macs(row.model),
        "loss_is_finite": bool(np.isfinite(float(trainer.train_loss.result()))),
    }


def _onednn_active() -> bool:
    """Whether TensorFlow actually loaded its oneDNN kernels (not just whether they were asked for)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def _macs(model: str) -> int:
    from . import cost, reduced

    return cost.total_macs(reduced.writeup_functional() if model == "writeup" else reduced.improved_net())


def matmul_gflops(n: int = 1024, windows: int = 5, repeats: int = 10) -> dict:
    """Median GFLOP/s of an ``n x n`` fp32 matrix multiply (2 n^3 FLOPs each)."""
    import tensorflow as tf

    a = tf.random.normal([n, n], seed=1)
    b = tf.random.normal([n, n], seed=2)
    matmul = tf.function(lambda p, q: tf.matmul(p, q))
    matmul(a, b).numpy()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()
        rates.append(2 * n**3 * repeats / (time.perf_counter() - start) / 1e9)
    return {"n": n, "gflops": statistics.median(rates), "window_gflops": rates}


def inference_throughput(path: Path = SHIPPED_MODEL, windows: int = 5, batch_size: int = 500) -> dict:
    """Median images/s of the shipped improved model predicting the 10,000 test images."""
    import keras
    import numpy as np

    from . import data

    if not Path(path).exists():
        raise FileNotFoundError(f"{path} not found: run the benchmark from the repository root")
    model = keras.models.load_model(path, safe_mode=True)
    images = data.load_fashion_mnist().x_test[..., None].astype("float32")
    model.predict(images[:batch_size], batch_size=batch_size, verbose=0)
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        logits = model.predict(images, batch_size=batch_size, verbose=0)
        rates.append(len(images) / (time.perf_counter() - start))
    return {"model": str(path), "batch_size": batch_size, "images_per_second": statistics.median(rates),
            "window_images_per_second": rates, "predictions_finite": bool(np.isfinite(logits).all())}  # fmt: skip


PROFILED_ROWS = ("tfdata", "tfdata_onednn", "book")


def profile_row(row: Row, batch_size: int = 128) -> dict:
    """Per-op-type milliseconds of one training step of ``row``'s model on a fixed batch."""
    import keras
    import numpy as np

    from . import fit, profile, reduced

    keras.utils.set_random_seed(0)
    model = reduced.improved_net(fast=row.fast_layers)
    trainer = fit.Trainer(model, 1e-3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch_size, 28, 28, 1)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, 10, batch_size), 10).astype("float32")
    for _ in range(3):
        trainer.train_step(images, labels)
    times = profile.op_time_by_type(lambda x, y: (trainer.train_step(x, y), trainer.train_loss.result())[1],
                                    (images, labels))  # fmt: skip
    return {"name": row.name, "label": row.label, "ms_per_step_by_op": times,
            "ms_per_step_by_group": profile.group_op_times(times)}  # fmt: skip


def _child(task: str, quick: bool) -> dict:
    if task.startswith("profile:"):
        return profile_row(next(r for r in ROWS if r.name == task.split(":", 1)[1]))
    if task == "matmul":
        return matmul_gflops(windows=3 if quick else 7)
    if task == "inference":
        return inference_throughput(windows=3 if quick else 7)
    row = next(r for r in ROWS if r.name == task)
    windows, steps = (3, 5) if quick else (7, 10)
    if row.model == "writeup":
        windows, steps = (3, 3) if quick else (5, 4)
    return measure_row(row, windows=windows, steps=steps, warmup=3)


# ------------------------------------------------------------------ in the parent process


def _run_children(tasks: list[str], quick: bool, onednn: bool) -> list[dict]:
    """Run ``tasks`` one after another in one child process with oneDNN on or off."""
    env = os.environ | {"TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "googlenet.bench", "--child", ",".join(tasks)] + (["--quick"] if quick else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark tasks {tasks} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_child(task: str, quick: bool, onednn: bool) -> dict:
    return _run_children([task], quick, onednn)[0]


def summarise(rows: list[dict], matmul: dict, inference: dict) -> dict:
    """Speed-ups, GFLOP/s and utilisation from the measured rows."""
    by_name = {row["name"]: row for row in rows}
    base, book = by_name["note_pipeline"], by_name["book"]
    macs = book["macs_per_image"]
    train_gflops = 3 * 2 * macs * book["images_per_second"] / 1e9
    step_gflops = 3 * 2 * macs * by_name["book_fixed_batch"]["images_per_second"] / 1e9
    summary = {
        "speedup": book["images_per_second"] / base["images_per_second"],
        "steps": {
            row["name"]: row["images_per_second"] / base["images_per_second"]
            for row in rows
            if row["model"] == "improved"
        },  # fmt: skip
        "macs_per_image": macs,
        "training_gflops": train_gflops,
        "training_gflops_fixed_batch": step_gflops,
        "matmul_gflops": matmul["gflops"],
        "utilisation": train_gflops / matmul["gflops"],
        "utilisation_fixed_batch": step_gflops / matmul["gflops"],
        "inference_images_per_second": inference["images_per_second"],
    }
    if "writeup_note_pipeline" in by_name:
        summary["writeup_model_speedup"] = (by_name["writeup_book_pipeline"]["images_per_second"]
                                            / by_name["writeup_note_pipeline"]["images_per_second"])  # fmt: skip
    return summary


def format_table(result: dict) -> str:
    """The printed table: one line per row, then the summary figures."""
    base = next(r for r in result["rows"] if r["name"] == "note_pipeline")["images_per_second"]
    lines = [f"{'row':24s} {'model':9s} {'img/s':>8s} {'x note':>7s}  what", "-" * 100]
    for row in result["rows"]:
        ratio = f"{row['images_per_second'] / base:6.2f}x" if row["model"] == "improved" else "       "
        lines.append(f"{row['name']:24s} {row['model']:9s} {row['images_per_second']:8.1f} {ratio}  {row['label']}")
    s = result["summary"]
    lines += [
        "-" * 100,
        f"speedup, book pipeline over the study note's (improved model): {s['speedup']:.2f}x",
        f"multiply-adds per image: {s['macs_per_image']:,}",
        f"training GFLOP/s (3 x forward): {s['training_gflops']:.1f} with the pipeline, "
        f"{s['training_gflops_fixed_batch']:.1f} on a fixed batch",
        f"fp32 matmul GFLOP/s (n={result['matmul']['n']}, oneDNN): {s['matmul_gflops']:.1f}",
        f"utilisation: {s['utilisation']:.1%} with the pipeline, {s['utilisation_fixed_batch']:.1%} on a fixed batch",
        f"inference of {result['inference']['model']}: {s['inference_images_per_second']:.0f} images/s",
    ]
    if "writeup_model_speedup" in s:
        lines.append(f"speedup on the study note's own model: {s['writeup_model_speedup']:.2f}x")
    return "\n".join(lines)


def run_benchmark(name: str, quick: bool, out_dir: Path = RESULTS, log=print) -> dict:
    """Run every row in a child process, write ``<out_dir>/<name>.json`` and return it."""
    from .fit import library_versions, machine_description, write_json_atomic

    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"benchmark name must be a plain file name, got {name!r}")
    if not SHIPPED_MODEL.exists():
        raise FileNotFoundError(f"{SHIPPED_MODEL} not found: run the benchmark from the repository root")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = []
    if quick:  # two child processes (oneDNN off, then on) instead of one per row: start-up dominates
        off = [row.name for row in ROWS if row.name in QUICK_ROWS and not row.onednn]
        on = [row.name for row in ROWS if row.name in QUICK_ROWS and row.onednn]
        log(f"measuring {', '.join(off)} (oneDNN off) ...")
        rows += _run_children(off, quick, False)
        log(f"measuring {', '.join(on)}, matmul and inference (oneDNN on) ...")
        *on_rows, matmul, inference = _run_children([*on, "matmul", "inference"], quick, True)
        rows += on_rows
    else:
        for row in ROWS:
            log(f"measuring {row.name} ...")
            rows.append(_run_child(row.name, quick, row.onednn))
            log(f"  {rows[-1]['images_per_second']:.1f} images/s")
        log("measuring matmul and inference ...")
        matmul = _run_child("matmul", quick, True)
        inference = _run_child("inference", quick, True)
    profiles = []
    if not quick:
        for row in ROWS:
            if row.name in PROFILED_ROWS:
                log(f"profiling {row.name} ...")
                profiles.append(_run_child(f"profile:{row.name}", quick, row.onednn))
    result = {
        "name": name,
        "quick": quick,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": time.time() - started,
        "rows": rows,
        "matmul": matmul,
        "inference": inference,
        "profiles": profiles,
        "machine": machine_description(),
        "versions": library_versions(),
    }
    result["summary"] = summarise(rows, matmul, inference)
    write_json_atomic(out_dir / f"{name}.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m googlenet.bench")
    parser.add_argument("--child", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    from . import runtime

    runtime.quiet_tensorflow()
    print(json.dumps([_child(task, args.quick) for task in args.child.split(",")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
