"""Process-wide TensorFlow settings: quiet logging, seeds and deterministic kernels.

Imported first by the package so that TensorFlow's C++ start-up messages never reach a
notebook's stderr (nbval compares stderr, so noise there would fail the book's CI).
"""

from __future__ import annotations

import os

# Must happen before TensorFlow is imported anywhere in the process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's Python-side logger (the C++ side is silenced on import)."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    try:  # absl prints a one-off warning otherwise when logging before init
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's kernels deterministic.

    With determinism on, a CPU run repeats bit for bit on the same machine and library
    versions, which is what lets nbval compare a training demo's printed numbers.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
