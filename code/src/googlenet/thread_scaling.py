"""How the book's training step scales from one CPU thread to all of them.

``python -m googlenet bench --threads [--quick]`` times the book's fused step on one fixed batch
(the benchmark's ``book_fixed_batch`` row) and a fp32 matrix multiply under several TensorFlow
thread settings, each in its own process (thread pools are fixed when TensorFlow starts):

* ``one_thread``: one op at a time, each on one thread (intra-op 1, inter-op 1);
* ``ops_side_by_side``: each op on one thread, as many independent ops at once as there are
  cores (intra-op 1, inter-op N): the branches of an inception module can run side by side;
* ``ops_split``: one op at a time, each split over every core (intra-op N, inter-op 1);
* ``default``: TensorFlow's own choice (both 0), what the benchmark's rows use;
* ``default_deterministic``: the same with ``tf.config.experimental.enable_op_determinism()``,
  as the book's training runs (:func:`googlenet.runtime.set_seed`);
* ``default_no_remapper``: the default with grappler's remapper off, the graph pass that fuses
  kernels; in this model it fuses each batch norm with its ReLU (``FusedBatchNormEx`` instead of
  ``FusedBatchNormV3`` and ``Relu``): the same function, other kernels.

Utilisation is training GFLOP/s (3 x the forward multiply-adds, 2 FLOPs each) over the matrix
multiply's GFLOP/s on the same cores: the one-thread multiply for ``one_thread``, the default
setting's multiply for the others. For the default setting it factors, by definition, into what
a single core achieves and how the step scales::

    utilisation(all cores) = utilisation(one core) x step_scaling / matmul_scaling

where ``step_scaling`` and ``matmul_scaling`` are the all-core rates over the one-thread rates.
On a CPU with bfloat16 in hardware (:func:`googlenet.precision.native_bf16`), every setting also
times the step in mixed bfloat16 against a bfloat16 matrix multiply. Each setting also measures the
memory rate of a plain element-wise kernel on activation-sized tensors; in full mode it is also
profiled (:mod:`googlenet.profile`), which gives the share of executor-thread time in which no
kernel ran and the memory rate the batch-norm kernels reach at the fewest passes they need.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROW = "book_fixed_batch"  # the timed step: googlenet.bench.ROWS
ROW_BF16 = "book_fixed_batch_bf16"  # the same step in mixed bfloat16 (where the CPU has it)
PROFILED_ROW = "book"  # profile_row times this row's model on a fixed batch


@dataclass(frozen=True)
class ThreadSetting:
    """One TensorFlow thread configuration (0 lets TensorFlow choose)."""

    name: str
    intra_op: int
    inter_op: int
    deterministic: bool
    label: str
    remapper: bool = True  # grappler's remapper (kernel fusions), on by default

    @property
    def one_core(self) -> bool:
        """Whether the setting can use only one core."""
        return self.intra_op == 1 and self.inter_op == 1


def settings(cores: int) -> tuple[ThreadSetting, ...]:
    """The measured settings on a machine with ``cores`` cores.

    Args:
        cores: the cores this process may run on (at least 2 for the comparison to mean anything).
    """
    if cores < 2:
        raise ValueError(
            f"the thread study compares one core with several, but this process may use {cores}: "
            "run it on a machine (or with a CPU affinity, see taskset) that gives it at least two"
        )
    return (
        ThreadSetting("one_thread", 1, 1, False, "one thread"),
        ThreadSetting("ops_side_by_side", 1, cores, False, f"{cores} ops at once, one thread each"),
        ThreadSetting("ops_split", cores, 1, False, f"one op at a time over {cores} threads"),
        ThreadSetting("default", 0, 0, False, "TensorFlow's default"),
        ThreadSetting("default_deterministic", 0, 0, True, "default + op determinism (training runs)"),
        ThreadSetting("default_no_remapper", 0, 0, False, "default, remapper off (no fused kernels)", remapper=False),
    )


def available_cores() -> int:
    """The logical CPUs this process may run on (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _idle_share(profile: dict | None) -> float | None:
    """The profiled thread time in which a TensorFlow executor thread ran no kernel."""
    if not profile:
        return None
    from .profile import group_op_times

    groups = group_op_times(profile["ms_per_step_by_op"])
    return groups["idle threads"] / sum(groups.values())


def _batch_norm(profile: dict | None) -> dict | None:
    if not profile:
        return None
    from .profile import batch_norm_rate

    return batch_norm_rate(
        profile["ms_per_step_by_op"], profile["batch_norm_elements_per_image"], profile["batch_size"]
    )


def summarise(measured: list[dict], macs_per_image: int) -> dict:
    """Utilisation, scaling and the factors of the all-core utilisation.

    Args:
        measured: one dict per setting: its :class:`ThreadSetting` fields, ``row`` (the timed
            step, with ``images_per_second``), ``matmul`` (with ``gflops``) and optionally
            ``profile`` (:func:`googlenet.throughput.profile_row`'s result), ``stream`` (the
            element-wise kernel's GB/s), ``row_bf16`` and ``matmul_bf16`` (mixed bfloat16).
        macs_per_image: the model's forward multiply-adds per image.
    """
    from .bench import training_gflops

    by_name = {m["name"]: m for m in measured}
    missing = {"one_thread", "default"} - set(by_name)
    if missing:
        raise ValueError(f"the thread study needs the settings {sorted(missing)} to compare against")
    one, default = by_name["one_thread"], by_name["default"]
    reference = {True: one["matmul"]["gflops"], False: default["matmul"]["gflops"]}
    per_setting = {}
    for m in measured:
        ips = m["row"]["images_per_second"]
        gflops = training_gflops(macs_per_image, ips)
        one_core = m["intra_op"] == 1 and m["inter_op"] == 1
        per_setting[m["name"]] = {
            "images_per_second": ips,
            "training_gflops": gflops,
            "utilisation": gflops / reference[one_core],
            "vs_default": ips / default["row"]["images_per_second"],
            "idle_share": _idle_share(m.get("profile")),
            "batch_norm": _batch_norm(m.get("profile")),
            "matmul_gflops": m["matmul"]["gflops"],
            "stream_gb_per_s": m["stream"]["gb_per_s"] if m.get("stream") else None,
        }
        if m.get("row_bf16"):
            bf16_ips = m["row_bf16"]["images_per_second"]
            bf16_reference = (one if one_core else default)["matmul_bf16"]["gflops"]
            per_setting[m["name"]] |= {
                "bf16_images_per_second": bf16_ips,
                "bf16_speedup": bf16_ips / ips,
                "bf16_utilisation": training_gflops(macs_per_image, bf16_ips) / bf16_reference,
            }
    summary = {
        "settings": per_setting,
        "single_core_utilisation": per_setting["one_thread"]["utilisation"],
        "utilisation": per_setting["default"]["utilisation"],
        "step_scaling": default["row"]["images_per_second"] / one["row"]["images_per_second"],
        "matmul_scaling": default["matmul"]["gflops"] / one["matmul"]["gflops"],
        "fastest": max(per_setting, key=lambda name: per_setting[name]["images_per_second"]),
    }
    if "default_deterministic" in by_name:
        summary["determinism_slowdown"] = (
            default["row"]["images_per_second"] / by_name["default_deterministic"]["row"]["images_per_second"]
        )
    if "default_no_remapper" in by_name:
        summary["no_remapper_speedup"] = (
            by_name["default_no_remapper"]["row"]["images_per_second"] / default["row"]["images_per_second"]
        )
    if one.get("profile") and one.get("stream"):
        summary["one_core_bounds"] = one_core_bounds(
            one["profile"], macs_per_image, one["matmul"]["gflops"], one["stream"]["gb_per_s"]
        )
    return summary


def one_core_bounds(profile: dict, macs_per_image: int, matmul_gflops: float, stream_gb_per_s: float) -> dict:
    """What bounds the one-thread step: its convolutions' efficiency and its batch norm's.

    With one thread, kernels run one after another, so the profile's op times, with the
    executor's idle time, add up to the step's time. All utilisations are of the one-thread matrix multiply:

    * ``utilisation``: the profiled step's (profiling slows it a little against the timed row);
    * ``convolution_forward`` / ``convolution_backward``: the convolution kernels alone (the
      backward pass has about twice the forward's arithmetic: the first layer needs no input
      gradient, and the multiply-adds counted include the small classifier);
    * ``if_convolutions_at_matmul``: the step if its convolutions ran at the matrix multiply's rate;
    * ``if_batch_norm_streamed``: the step if its batch-norm kernels moved only the fewest bytes
      they must, at the rate of the element-wise kernel of :func:`googlenet.throughput.stream_bandwidth`
      (None without batch-norm kernels in the profile);
    * ``if_only_convolutions``: the step if every kernel but the convolutions took no time.

    Args:
        profile: the one-thread setting's profile (:func:`googlenet.throughput.profile_row`).
        macs_per_image: the model's forward multiply-adds per image.
        matmul_gflops: the one-thread matrix multiply's GFLOP/s.
        stream_gb_per_s: the one-thread element-wise kernel's GB/s.
    """
    from .profile import group_op_times

    groups = group_op_times(profile["ms_per_step_by_op"])
    step_ms = sum(groups.values())
    forward_gflop = 2 * macs_per_image * profile["batch_size"] / 1e9
    batch_norm = _batch_norm(profile)
    streamed_ms = step_ms - batch_norm["ms"] + 1e3 * batch_norm["min_bytes"] / (stream_gb_per_s * 1e9)
    convolutions_ms = groups["convolution forward"] + groups["convolution backward"]
    at_matmul_ms = step_ms - convolutions_ms + 1e3 * 3 * forward_gflop / matmul_gflops
    has_batch_norm = batch_norm["ms"] > 0

    def utilisation(gflop: float, ms: float) -> float | None:
        return gflop / (ms / 1e3) / matmul_gflops if ms > 0 else None  # None: no such kernel profiled

    return {
        "step_ms": step_ms,
        "shares": {group: ms / step_ms for group, ms in groups.items()},
        "utilisation": utilisation(3 * forward_gflop, step_ms),
        "convolution_forward": utilisation(forward_gflop, groups["convolution forward"]),
        "convolution_backward": utilisation(2 * forward_gflop, groups["convolution backward"]),
        "batch_norm_share_of_stream": batch_norm["gb_per_s_at_least"] / stream_gb_per_s if has_batch_norm else None,
        "if_convolutions_at_matmul": utilisation(3 * forward_gflop, at_matmul_ms),
        "if_batch_norm_streamed": utilisation(3 * forward_gflop, streamed_ms) if has_batch_norm else None,
        "if_only_convolutions": utilisation(3 * forward_gflop, convolutions_ms),
    }


def format_table(result: dict) -> str:
    """The printed table: one line per setting, then the factors of the utilisation.

    Args:
        result: what :func:`run_thread_study` returned.
    """
    s = result["summary"]
    header = f"{'setting':24s} {'intra':>5s} {'inter':>5s} {'img/s':>8s} {'util.':>6s} {'idle':>5s} {'bf16 x':>7s}"
    lines = [f"{header}  what", "-" * 100]
    for m in result["settings"]:
        row = s["settings"][m["name"]]
        idle = "" if row["idle_share"] is None else f"{row['idle_share']:.0%}"
        bf16 = f"{row['bf16_speedup']:.2f}x" if "bf16_speedup" in row else ""
        lines.append(
            f"{m['name']:24s} {m['intra_op']:5d} {m['inter_op']:5d} {row['images_per_second']:8.1f} "
            f"{row['utilisation']:6.1%} {idle:>5s} {bf16:>7s}  {m['label']}"
        )
    lines += [
        "-" * 100,
        f"one core: {s['single_core_utilisation']:.1%} of its matmul rate; all {result['cores']} cores: "
        f"{s['utilisation']:.1%}",
        f"scaling from one thread to the default: step {s['step_scaling']:.2f}x, matmul {s['matmul_scaling']:.2f}x",
        f"fastest setting: {s['fastest']}",
    ]
    if "determinism_slowdown" in s:
        lines.append(f"op determinism: the default step is {s['determinism_slowdown']:.2f}x the deterministic one")
    if "no_remapper_speedup" in s:
        lines.append(f"remapper off: {s['no_remapper_speedup']:.2f}x the default step")
    if "one_core_bounds" in s:
        b = s["one_core_bounds"]
        lines.append(
            f"one core, profiled: convolutions at {b['convolution_forward']:.0%} (forward) and "
            f"{b['convolution_backward']:.0%} (backward) of the matmul rate; the step at {b['utilisation']:.1%}, "
            f"{b['if_convolutions_at_matmul']:.1%} with convolutions at the matmul rate, "
            f"{b['if_only_convolutions']:.1%} with convolutions alone"
        )
        if b["batch_norm_share_of_stream"] is not None:
            lines.append(
                f"one core, batch norm at {b['batch_norm_share_of_stream']:.0%} of a streaming kernel's GB/s at "
                f"its fewest passes; the step {b['if_batch_norm_streamed']:.1%} with batch norm at that speed"
            )
    return "\n".join(lines)


def run_thread_study(
    name: str, quick: bool, out_dir: Path | None = None, log: Callable[[str], None] = print, overwrite: bool = False
) -> dict:
    """Measure every setting in its own child process, write ``<out_dir>/<name>.json``, return it.

    Args:
        name: the result's file name without ``.json`` (a plain name, no folders).
        quick: fewer, shorter windows and no profiles.
        out_dir: folder for the JSON (default: the book's ``results/benchmarks``); created if missing.
        log: where progress lines go.
        overwrite: replace an existing ``<name>.json``.
    """
    from .bench import check_output_name, result_record, run_children
    from .precision import native_bf16, read_cpu_flags
    from .provenance import write_json_atomic

    out_dir = check_output_name(name, out_dir, overwrite)
    cores = available_cores()
    chosen = settings(cores)
    out_dir.mkdir(parents=True, exist_ok=True)  # an unwritable --out fails now, not after minutes
    bf16 = bool(native_bf16(read_cpu_flags()))  # oneDNN runs no bfloat16 convolution without it
    started = time.time()
    measured = []
    for setting in chosen:
        log(f"measuring {setting.name} (intra-op {setting.intra_op}, inter-op {setting.inter_op}) ...")
        tasks = {"row": ROW, "matmul": "matmul", "stream": "stream"}
        if bf16:
            tasks |= {"row_bf16": ROW_BF16, "matmul_bf16": "matmul_bf16"}
        if not quick:
            tasks["profile"] = f"profile:{PROFILED_ROW}"
        results = run_children(
            list(tasks.values()),
            quick,
            True,
            threads=(setting.intra_op, setting.inter_op),
            deterministic=setting.deterministic,
            remapper=setting.remapper,
        )
        measured.append(asdict(setting) | {"profile": None} | dict(zip(tasks, results, strict=True)))
        log(f"  {results[0]['images_per_second']:.1f} images/s, matmul {results[1]['gflops']:.1f} GFLOP/s")
    result = result_record(name, quick, started, {"cores": cores, "settings": measured})
    result["summary"] = summarise(measured, measured[0]["row"]["macs_per_image"])
    write_json_atomic(out_dir / f"{name}.json", result)
    return result
