"""Process-wide TensorFlow settings: quiet logging, oneDNN kernels, seeds and deterministic kernels.

Imported first by the package, before TensorFlow loads, because two settings only take effect
then:

* ``TF_ENABLE_ONEDNN_OPTS=1``: TensorFlow's CPU wheel turns its oneDNN convolution kernels on
  by default only on some CPUs. On this book's 2-core AMD machine they make a training step of
  the improved build about 1.5x faster (appendix, benchmark). Set it to 0 beforehand to compare.
* Quiet start-up: ``TF_CPP_MIN_LOG_LEVEL=3`` hides most C++ messages, but with oneDNN on,
  TensorFlow prints an informational line through a logger that ignores it. nbval compares
  stderr, so that line would fail the book's CI; :func:`import_tensorflow_quietly` hides the
  C++ side's stderr for the duration of the import only.
"""

from __future__ import annotations

import os
import sys

from .checks import integer

# Must happen before TensorFlow is imported anywhere in the process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 pointed at /dev/null, then restore it.

    Only the import is silenced; Python exceptions still propagate (and print) afterwards,
    and anything TensorFlow reports later reaches stderr as usual.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> None:
    """Import TensorFlow quietly and silence its Python-side logger."""
    import_tensorflow_quietly()
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

    Args:
        seed: the seed, 0 to 2**32 - 1.
        deterministic: also switch TensorFlow to deterministic kernels.
    """
    integer("seed", seed, minimum=0, maximum=2**32 - 1)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
