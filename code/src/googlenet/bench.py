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
  the same in bfloat16 for the bfloat16 rows (:mod:`googlenet.precision`: whether this CPU has
  bfloat16 in hardware is recorded beside them);
* inference images/s of the shipped ``results/improved/model.keras``;
* (full mode) where a step's time goes, by TensorFlow op type (:mod:`googlenet.profile`).

Each measurement is in :mod:`googlenet.throughput`. Rows run in child processes, because
oneDNN can only be switched when TensorFlow loads: one process per row in full mode, one per
oneDNN setting in quick mode. Figures are medians of timed windows after warm-up; the JSON
keeps every window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .paths import benchmarks_dir, results_dir


@dataclass(frozen=True)
class Row:
    """One measured way of training a model."""

    name: str
    model: str  # "improved" or "writeup"
    pipeline: str  # "imagedatagenerator", "tfdata" or "fixed-batch"
    fast_layers: bool
    onednn: bool
    label: str
    precision: str = "float32"  # or "mixed_bfloat16" (googlenet.precision)
    jit: bool = False  # the step compiled with XLA (tf.function's jit_compile): googlenet.xla_study


ROWS: tuple[Row, ...] = (
    Row("note_pipeline", "improved", "imagedatagenerator", False, False,
        "study note's pipeline: ImageDataGenerator -> compiled step, oneDNN off"),
    Row("tfdata", "improved", "tfdata", False, False, "+ augmentation inside tf.data"),
    Row("tfdata_onednn", "improved", "tfdata", False, True, "+ oneDNN kernels"),
    Row("book", "improved", "tfdata", True, True, "+ fused batch norm and 1x1 convolutions (the book)"),
    Row("book_fixed_batch", "improved", "fixed-batch", True, True,
        "the book's step on one fixed batch (no pipeline)"),
    Row("book_bf16", "improved", "tfdata", True, True, "the book's pipeline in mixed bfloat16",
        "mixed_bfloat16"),
    Row("book_fixed_batch_bf16", "improved", "fixed-batch", True, True,
        "the book's step on one fixed batch, mixed bfloat16", "mixed_bfloat16"),
    Row("writeup_note_pipeline", "writeup", "imagedatagenerator", False, False,
        "write-up model: ImageDataGenerator, oneDNN off"),
    Row("writeup_book_pipeline", "writeup", "tfdata", False, True, "write-up model: tf.data + oneDNN"),
)  # fmt: skip
PROFILED_ROWS = ("tfdata", "tfdata_onednn", "book")
# The XLA study's rows (googlenet.xla_study), not part of the full benchmark: the fixed-batch step
# with the book's fused layers and with Keras's own, each without and with XLA.
XLA_ROWS: tuple[Row, ...] = (
    Row("book_fixed_batch_xla", "improved", "fixed-batch", True, True,
        "the book's step on one fixed batch, compiled with XLA", jit=True),
    Row("keras_fixed_batch", "improved", "fixed-batch", False, True,
        "Keras's own layers (no fused ones) on one fixed batch"),
    Row("keras_fixed_batch_xla", "improved", "fixed-batch", False, True,
        "Keras's own layers on one fixed batch, compiled with XLA", jit=True),
)  # fmt: skip

QUICK_ROWS = (
    "note_pipeline",
    "tfdata",
    "tfdata_onednn",
    "book",
    "book_fixed_batch",
    "book_bf16",
    "book_fixed_batch_bf16",
)


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent process dies."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C still reaches the whole process group
        pass


def run_children(
    tasks: list[str],
    quick: bool,
    onednn: bool,
    threads: tuple[int, int] | None = None,
    deterministic: bool = False,
    remapper: bool = True,
) -> list[dict]:
    """Run ``tasks`` (:func:`googlenet.throughput.run_task`) one after another in one child process.

    Args:
        tasks: the measurements, in order; their results come back in the same order.
        quick: fewer, shorter windows.
        onednn: TensorFlow's oneDNN kernels on or off (fixed when TensorFlow loads).
        threads: (intra-op, inter-op) sizes of TensorFlow's thread pools; None: its defaults.
        deterministic: TensorFlow's op determinism on, as in the book's training runs.
        remapper: grappler's remapper on (TensorFlow's default: it fuses kernels) or off.
    """
    env = os.environ | {"TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "googlenet.throughput", ",".join(tasks)] + (["--quick"] if quick else [])
    if threads is not None:
        command += ["--intra-op", str(threads[0]), "--inter-op", str(threads[1])]
    if deterministic:
        command.append("--deterministic")
    if not remapper:
        command.append("--no-remapper")
    # The child dies with the parent (SIGTERM on Linux), so killing the benchmark leaves no orphan.
    done = subprocess.run(command, env=env, capture_output=True, text=True, preexec_fn=_die_with_parent)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark tasks {tasks} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# TensorFlow's rule on Linux (DefaultOneDnnPolicy in its util.cc): oneDNN is on by default when
# the CPU reports one of these instructions.
ONEDNN_DEFAULT_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def onednn_default_by_flags(flags: set[str]) -> bool:
    """Whether TensorFlow's Linux rule turns oneDNN on by default for a CPU with ``flags``.

    Args:
        flags: the CPU's flags, as :func:`googlenet.precision.read_cpu_flags` gives them.
    """
    return any(flag in flags for flag in ONEDNN_DEFAULT_FLAGS)


def tensorflow_onednn_default() -> bool:
    """Whether TensorFlow turns its oneDNN kernels on by itself here (``TF_ENABLE_ONEDNN_OPTS`` unset).

    TensorFlow decides when it loads, so a child process imports it without the variable and
    without this package (which sets the variable), and asks.
    """
    code = "import tensorflow\nfrom tensorflow.python.util import _pywrap_util_port as p\nprint(p.IsMklEnabled())"
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, preexec_fn=_die_with_parent
    )
    answer = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    if answer not in (["True"], ["False"]):
        raise RuntimeError(f"could not ask TensorFlow for its oneDNN default:\n{done.stderr[-2000:]}")
    return answer == ["True"]


def _run_child(task: str, quick: bool, onednn: bool) -> dict:
    return run_children([task], quick, onednn)[0]


def training_gflops(macs_per_image: int, images_per_second: float) -> float:
    """Training GFLOP/s: a step costs about 3 forward passes (2 FLOPs per multiply-add).

    Args:
        macs_per_image: the model's forward multiply-adds per image.
        images_per_second: the training rate.
    """
    return 3 * 2 * macs_per_image * images_per_second / 1e9


def summarise(rows: list[dict], matmul: dict, inference: dict, matmul_bf16: dict | None = None) -> dict:
    """Speed-ups, GFLOP/s and utilisation from the measured rows.

    Args:
        rows: the measured rows.
        matmul: the fp32 matrix-multiply measurement.
        inference: the inference measurement.
        matmul_bf16: the bfloat16 matrix-multiply measurement (with bfloat16 rows), or None.
    """
    by_name = {row["name"]: row for row in rows}
    base, book = by_name["note_pipeline"], by_name["book"]
    macs = book["macs_per_image"]
    train_gflops = training_gflops(macs, book["images_per_second"])
    step_gflops = training_gflops(macs, by_name["book_fixed_batch"]["images_per_second"])
    summary = {
        "speedup": book["images_per_second"] / base["images_per_second"],
        "steps": {
            row["name"]: row["images_per_second"] / base["images_per_second"]
            for row in rows
            if row["model"] == "improved"
        },
        "macs_per_image": macs,
        "training_gflops": train_gflops,
        "training_gflops_fixed_batch": step_gflops,
        "matmul_gflops": matmul["gflops"],
        "utilisation": train_gflops / matmul["gflops"],
        "utilisation_fixed_batch": step_gflops / matmul["gflops"],
        "inference_images_per_second": inference["images_per_second"],
    }
    if "book_bf16" in by_name and matmul_bf16 is not None:
        bf16_gflops = training_gflops(macs, by_name["book_bf16"]["images_per_second"])
        bf16_step = training_gflops(macs, by_name["book_fixed_batch_bf16"]["images_per_second"])
        summary |= {
            "bf16_speedup": by_name["book_bf16"]["images_per_second"] / book["images_per_second"],
            "bf16_speedup_fixed_batch": by_name["book_fixed_batch_bf16"]["images_per_second"]
            / by_name["book_fixed_batch"]["images_per_second"],
            "matmul_gflops_bf16": matmul_bf16["gflops"],
            "utilisation_bf16": bf16_gflops / matmul_bf16["gflops"],
            "utilisation_bf16_fixed_batch": bf16_step / matmul_bf16["gflops"],
        }
    if "writeup_note_pipeline" in by_name:
        summary["writeup_model_speedup"] = (
            by_name["writeup_book_pipeline"]["images_per_second"]
            / by_name["writeup_note_pipeline"]["images_per_second"]
        )
    return summary


def format_table(result: dict) -> str:
    """The printed table: one line per row, then the summary figures.

    Args:
        result: what :func:`run_benchmark` returned.
    """
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
    if "bf16_speedup" in s:
        lines += [
            f"bfloat16 over float32: {s['bf16_speedup']:.2f}x with the pipeline, "
            f"{s['bf16_speedup_fixed_batch']:.2f}x on a fixed batch ({result.get('bf16_hardware', '')})",
            f"bf16 matmul GFLOP/s: {s['matmul_gflops_bf16']:.1f}; bf16 utilisation: {s['utilisation_bf16']:.1%} "
            f"with the pipeline, {s['utilisation_bf16_fixed_batch']:.1%} on a fixed batch",
        ]
    if "writeup_model_speedup" in s:
        lines.append(f"speedup on the study note's own model: {s['writeup_model_speedup']:.2f}x")
    return "\n".join(lines)


def check_output_name(name: str, out_dir: Path | None, overwrite: bool) -> Path:
    """The folder a benchmark writes ``<name>.json`` to, refusing a bad name or a committed file.

    Nothing is created or changed.

    Args:
        name: the result's file name without ``.json`` (a plain name, no folders).
        out_dir: the folder asked for, or None for :func:`benchmarks_dir`.
        overwrite: whether an existing ``<name>.json`` may be replaced.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"benchmark name must be a plain file name, got {name!r}")
    out_dir = Path(out_dir) if out_dir is not None else benchmarks_dir()
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file, not a folder: give a folder for {name}.json")
    if (out_dir / f"{name}.json").exists() and not overwrite:
        raise ValueError(
            f"{out_dir / (name + '.json')} exists and the book's figures read it: nothing was changed; "
            f"pass --overwrite to replace it, or --name to write another file"
        )
    return out_dir


def result_record(name: str, quick: bool, started: float, measured: dict) -> dict:
    """A benchmark's JSON: name, mode and timing, then ``measured``, then the machine it ran on.

    Args:
        name: the result's name (its file name without ``.json``).
        quick: whether it ran in quick mode.
        started: when it started (``time.time()``); the duration is counted up to now.
        measured: the measurements, by key.
    """
    from .precision import describe_bf16, read_cpu_flags
    from .provenance import library_versions, machine_description

    return {
        "name": name,
        "quick": quick,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": time.time() - started,
        **measured,
        "bf16_hardware": describe_bf16(read_cpu_flags()),
        "machine": machine_description(),
        "versions": library_versions(),
    }


def run_benchmark(name: str, quick: bool, out_dir: Path | None = None, log=print, overwrite: bool = False) -> dict:
    """Run every row in a child process, write ``<out_dir>/<name>.json`` and return it.

    Args:
        name: the result's file name without ``.json`` (a plain name, no folders).
        quick: fewer, shorter windows and two child processes instead of one per row.
        out_dir: folder for the JSON (default :func:`benchmarks_dir`); created if missing.
        log: where progress lines go.
        overwrite: replace an existing ``<name>.json`` (the book's figures read the committed ones).
    """
    from .provenance import write_json_atomic

    out_dir = check_output_name(name, out_dir, overwrite)
    shipped = results_dir() / "improved" / "model.keras"
    if not shipped.exists():
        raise FileNotFoundError(f"{shipped} not found: the benchmark scores the shipped improved model")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = []
    if quick:  # two child processes (oneDNN off, then on) instead of one per row: start-up dominates
        off = [row.name for row in ROWS if row.name in QUICK_ROWS and not row.onednn]
        on = [row.name for row in ROWS if row.name in QUICK_ROWS and row.onednn]
        log(f"measuring {', '.join(off)} (oneDNN off) ...")
        rows += run_children(off, quick, False)
        log(f"measuring {', '.join(on)}, matmul and inference (oneDNN on) ...")
        *on_rows, matmul, matmul_bf16, inference = run_children(
            [*on, "matmul", "matmul_bf16", "inference"], quick, True
        )
        rows += on_rows
    else:
        for row in ROWS:
            log(f"measuring {row.name} ...")
            rows.append(_run_child(row.name, quick, row.onednn))
            log(f"  {rows[-1]['images_per_second']:.1f} images/s")
        log("measuring matmul and inference ...")
        matmul = _run_child("matmul", quick, True)
        matmul_bf16 = _run_child("matmul_bf16", quick, True)
        inference = _run_child("inference", quick, True)
    profiles = []
    if not quick:
        for row in ROWS:
            if row.name in PROFILED_ROWS:
                log(f"profiling {row.name} ...")
                profiles.append(_run_child(f"profile:{row.name}", quick, row.onednn))
    result = result_record(
        name,
        quick,
        started,
        {
            "rows": rows,
            "matmul": matmul,
            "matmul_bf16": matmul_bf16,
            "inference": inference,
            "profiles": profiles,
            # What TensorFlow would choose by itself: the note-pipeline rows force oneDNN off.
            "onednn_default": tensorflow_onednn_default(),
        },
    )
    result["summary"] = summarise(rows, matmul, inference, matmul_bf16)
    write_json_atomic(out_dir / f"{name}.json", result)
    return result
