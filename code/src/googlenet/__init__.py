"""The shared package of the book *Building GoogLeNet*.

Importing it silences TensorFlow's start-up logging before TensorFlow loads (see
:mod:`googlenet.runtime`), so notebooks stay free of stderr noise.
"""

from . import runtime as runtime  # noqa: I001 - must run before anything imports TensorFlow

runtime.quiet_tensorflow()

from . import ablation, baseline, blocks, cost, data, evaluate, figures, models, reduced, train  # noqa: E402

__all__ = [
    "ablation",
    "baseline",
    "blocks",
    "cost",
    "data",
    "evaluate",
    "figures",
    "models",
    "reduced",
    "runtime",
    "train",
]
__version__ = "0.1.0"
