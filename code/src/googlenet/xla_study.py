"""Whether XLA compilation makes the book's training step faster on this CPU.

``python -m googlenet bench --xla [--quick]`` times four training steps on one fixed batch of 128
images (no input pipeline, as the benchmark's ``book_fixed_batch`` row), oneDNN on and TensorFlow's
default threads, each in its own child process:

* ``book_fixed_batch``: the book's step, with its fused layers (:mod:`googlenet.fused`);
* ``book_fixed_batch_xla``: the same step compiled with XLA (``tf.function(jit_compile=True)``);
* ``keras_fixed_batch``: the same network built from Keras's own layers (XLA fuses batch norm
  with its neighbours by itself, so it might do what the fused layers do, or more);
* ``keras_fixed_batch_xla``: that one compiled with XLA.

The book trains without XLA (``googlenet.training.Trainer``); this study is the evidence for that
choice. The four processes run in turn, ``rounds`` times over, so that a slow spell of a shared
machine falls on every setting alike. A setting's rate is the median of all its timed windows; the
XLA ratio of a layer kind is the XLA rate over the rate without, from those medians and, as a check
on the noise, round by round. The first steps, which trace the step and (with XLA) compile it, are
timed apart (``warmup_seconds``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

# (without XLA, with XLA) for each kind of layers: rows of googlenet.bench
PAIRS = {
    "fused": ("book_fixed_batch", "book_fixed_batch_xla"),
    "keras": ("keras_fixed_batch", "keras_fixed_batch_xla"),
}
ROUNDS = 3  # full mode; quick mode runs one round
QUICK_ROUNDS = 1


def order() -> list[str]:
    """The rows of one round, in the order they run."""
    return [name for pair in PAIRS.values() for name in pair]


def summarise(rounds: list[dict[str, dict]]) -> dict:
    """Rates, XLA ratios and compile times from the measured rounds.

    Args:
        rounds: one dict per round, from row name to :func:`googlenet.throughput.measure_row`'s
            result (``window_images_per_second`` and ``warmup_seconds`` are read).
    """
    if not rounds:
        raise ValueError("the XLA study needs at least one measured round")
    missing = [name for name in order() if any(name not in r for r in rounds)]
    if missing:
        raise ValueError(f"every round needs every row; missing {sorted(set(missing))}")
    rate = {name: statistics.median(w for r in rounds for w in r[name]["window_images_per_second"]) for name in order()}
    per_kind = {}
    for kind, (plain, xla) in PAIRS.items():
        per_round = [r[xla]["images_per_second"] / r[plain]["images_per_second"] for r in rounds]
        per_kind[kind] = {
            "images_per_second": rate[plain],
            "xla_images_per_second": rate[xla],
            "xla_speedup": rate[xla] / rate[plain],
            "xla_speedup_per_round": per_round,
            "xla_slower_every_round": all(ratio < 1 for ratio in per_round),
            "xla_faster_every_round": all(ratio > 1 for ratio in per_round),
            "warmup_seconds": statistics.median(r[plain]["warmup_seconds"] for r in rounds),
            "xla_warmup_seconds": statistics.median(r[xla]["warmup_seconds"] for r in rounds),
        }
    fastest = max(rate, key=rate.get)
    return {
        "rounds": len(rounds),
        "kinds": per_kind,
        "images_per_second": rate,
        "fastest": fastest,
        "fused_over_keras_xla": rate["book_fixed_batch"] / rate["keras_fixed_batch_xla"],
    }


def format_table(result: dict) -> str:
    """The printed table: one line per layer kind, then the fastest row.

    Args:
        result: what :func:`run_xla_study` returned.
    """
    s = result["summary"]
    lines = [
        f"{'layers':8s} {'img/s':>8s} {'XLA img/s':>10s} {'XLA x':>6s} {'per round':>20s} "
        f"{'warm-up s':>10s} {'XLA warm-up s':>14s}",
        "-" * 84,
    ]
    for kind, k in s["kinds"].items():
        rounds = ", ".join(f"{r:.2f}" for r in k["xla_speedup_per_round"])
        lines.append(
            f"{kind:8s} {k['images_per_second']:8.1f} {k['xla_images_per_second']:10.1f} {k['xla_speedup']:5.2f}x "
            f"{rounds:>20s} {k['warmup_seconds']:10.1f} {k['xla_warmup_seconds']:14.1f}"
        )
    lines += [
        "-" * 84,
        f"fastest: {s['fastest']} ({s['images_per_second'][s['fastest']]:.1f} images/s, medians of "
        f"{s['rounds']} round(s))",
        f"the book's fused step over Keras's layers with XLA: {s['fused_over_keras_xla']:.2f}x",
    ]
    return "\n".join(lines)


def run_xla_study(
    name: str, quick: bool, out_dir: Path | None = None, log: Callable[[str], None] = print, overwrite: bool = False
) -> dict:
    """Measure every row in its own child process, round after round; write ``<out_dir>/<name>.json``.

    Args:
        name: the result's file name without ``.json`` (a plain name, no folders).
        quick: one round of fewer, shorter windows.
        out_dir: folder for the JSON (default: the book's ``results/benchmarks``); created if missing.
        log: where progress lines go.
        overwrite: replace an existing ``<name>.json``.
    """
    from .bench import check_output_name, result_record, run_children
    from .provenance import write_json_atomic

    out_dir = check_output_name(name, out_dir, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)  # an unwritable --out fails now, not after minutes
    started = time.time()
    rounds: list[dict[str, dict]] = []
    for index in range(QUICK_ROUNDS if quick else ROUNDS):
        measured = {}
        for row in order():
            log(f"round {index + 1}: measuring {row} ...")
            measured[row] = run_children([row], quick, True)[0]
            log(
                f"  {measured[row]['images_per_second']:.1f} images/s (warm-up {measured[row]['warmup_seconds']:.1f} s)"
            )
        rounds.append(measured)
    result = result_record(name, quick, started, {"rounds": rounds})
    result["summary"] = summarise(rounds)
    write_json_atomic(out_dir / f"{name}.json", result)
    return result
