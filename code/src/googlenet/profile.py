"""Where a training step's time goes: TensorFlow's profiler, summed by operation type.

Uses the trace TensorFlow's own profiler records (``tf.profiler.experimental``) and the
converter that ships inside TensorFlow's wheel (the one TensorBoard's profile plugin calls),
so it works offline with nothing else installed.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def op_time_by_type(step, args, steps: int = 5) -> dict[str, float]:
    """Milliseconds per step spent in each TensorFlow op type (summed over CPU threads).

    ``step(*args)`` must already be traced (call it a few times first). ``IDLE`` is the time
    the profiler saw worker threads waiting. The values add up to threads x wall time, not
    to the wall time of a step.

    Args:
        step: a compiled training step, already traced.
        args: its arguments.
        steps: profiled steps.
    """
    import tensorflow as tf

    try:
        from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin
    except ImportError as error:  # pragma: no cover - depends on TensorFlow's packaging
        raise RuntimeError(f"this TensorFlow ({tf.__version__}) ships no profile converter: {error}") from error
    with tempfile.TemporaryDirectory(prefix="googlenet-profile-") as folder:
        tf.profiler.experimental.start(folder)
        for _ in range(steps):
            result = step(*args)
        tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, result)
        tf.profiler.experimental.stop()
        traces = [str(p) for p in Path(folder).rglob("*.xplane.pb")]
        if not traces:
            raise RuntimeError(f"the profiler wrote no trace under {folder}")
        raw, ok = plugin.xspace_to_tools_data(traces, "framework_op_stats", {})
    if not ok:
        raise RuntimeError(f"could not convert the profile: {raw[:200]!r}")
    table = json.loads(raw)
    table = table[0] if isinstance(table, list) else table
    columns = [c["id"] for c in table["cols"]]
    totals: Counter[str] = Counter()
    for row in table["rows"]:
        cells = dict(zip(columns, (c.get("v") for c in row["c"]), strict=False))
        totals[_plain_op_name(str(cells["type"]))] += float(cells["total_self_time"])  # microseconds
    return {name: micros / 1000 / steps for name, micros in totals.most_common()}


def _plain_op_name(op_type: str) -> str:
    """``_MklNativeConv2DBackpropFilter`` -> ``Conv2DBackpropFilter`` (oneDNN's kernels renamed)."""
    for prefix in ("_MklNative", "_Mkl"):
        if op_type.startswith(prefix):
            return op_type[len(prefix) :]
    return op_type


# How the op types group into causes a reader can act on. FusedBatchNormEx is batch norm with
# its ReLU fused in (TensorFlow's remapper makes it from the fused layers' forward pass).
GROUPS = {
    "convolution backward": ("Conv2DBackpropFilter", "Conv2DBackpropInput"),
    "convolution forward": ("Conv2D", "FusedConv2D"),
    "batch norm and element-wise": ("FusedBatchNormV3", "FusedBatchNormEx", "FusedBatchNormGradV3",
                                    "FusedBatchNormGradEx", "Relu", "ReluGrad", "AddN", "Mul",
                                    "SquaredDifference", "Mean", "Tile", "Sub", "Rsqrt", "Sum"),
    "max pool": ("MaxPool", "MaxPoolGrad"),
    "concat / split": ("ConcatV2", "Slice", "SplitV", "Split"),
    "idle threads": ("IDLE",),
}  # fmt: skip


def group_op_times(times: dict[str, float]) -> dict[str, float]:
    """Sum op-type times into :data:`GROUPS`; everything else goes to ``other``.

    Args:
        times: milliseconds per op type.
    """
    lookup = {op: group for group, ops in GROUPS.items() for op in ops}
    grouped: Counter[str] = Counter({group: 0.0 for group in [*GROUPS, "other"]})
    for op, ms in times.items():
        grouped[lookup.get(op, "other")] += ms
    return dict(grouped)


BATCH_NORM_OPS = ("FusedBatchNormV3", "FusedBatchNormEx", "FusedBatchNormGradV3", "FusedBatchNormGradEx")
# The fewest full passes over a batch norm's activations that a training step can make: the
# forward pass reads x and writes y; the backward pass reads the incoming gradient and x and
# writes the gradient of x. (Real kernels make more: the batch statistics need their own pass;
# and the ReLU fused into FusedBatchNormEx leaves its gradient to a ReluGrad kernel, not counted.)
BATCH_NORM_MIN_PASSES = 5


def batch_norm_elements(model: keras.Model) -> int:
    """Activation values per image that pass through the model's batch normalisations.

    Args:
        model: a built Keras model (nested layers included).
    """
    import math

    from .reestimation import batch_norm_layers

    return sum(math.prod(layer.output.shape[1:]) for layer in batch_norm_layers(model))


def batch_norm_rate(times: dict[str, float], elements_per_image: int, batch_size: int) -> dict:
    """The batch-norm kernels' time and the memory rate it implies at the fewest passes.

    Args:
        times: milliseconds per op type (:func:`op_time_by_type`).
        elements_per_image: :func:`batch_norm_elements` of the profiled model.
        batch_size: images per profiled step.
    """
    ms = sum(times.get(op, 0.0) for op in BATCH_NORM_OPS)
    moved = BATCH_NORM_MIN_PASSES * 4 * elements_per_image * batch_size  # float32 bytes
    return {"ms": ms, "min_bytes": moved, "gb_per_s_at_least": moved / (ms / 1e3) / 1e9 if ms else None}
