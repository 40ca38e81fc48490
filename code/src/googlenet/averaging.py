"""An exponential moving average of a model's weights (the GoogLeNet paper's Polyak averaging).

After every training step each trainable weight ``w`` updates its average ``a``::

    a <- decay * a + (1 - decay) * w        (a starts equal to w)

so ``a`` averages roughly the last ``1 / (1 - decay)`` steps. The model is scored and saved with
the averages swapped in; batch normalisation's moving statistics are averages already and are
left as they are. The averages are a :class:`tf.Module`, so a ``tf.train.Checkpoint`` saves them
and a resumed run continues them exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf

from .checks import fraction


class WeightAverage(tf.Module):
    """The running average of every trainable weight of ``model``.

    Args:
        model: the model whose trainable weights are averaged (built).
        decay: how much of the old average each step keeps, in (0, 1); 0.999 averages about the
            last thousand steps.
    """

    def __init__(self, model: keras.Model, decay: float):
        super().__init__(name="weight_average")
        fraction("decay", decay, allow_zero=False)
        self.decay = float(decay)
        self._weights = list(model.trainable_variables)
        # Keras variables wrap tf.Variables; the averages are plain tf.Variables
        self.averages = [
            tf.Variable(keras.ops.convert_to_numpy(w), trainable=False, name=w.path.replace("/", "_") + "_average")
            for w in self._weights
        ]

    def update(self) -> None:
        """Move every average one step towards its weight (call after each optimiser step)."""
        for average, weight in zip(self.averages, self._weights, strict=True):
            average.assign(self.decay * average + (1.0 - self.decay) * tf.convert_to_tensor(weight.value))

    def copy_to_model(self) -> None:
        """Overwrite the model's weights with the averages for good (before saving the final model)."""
        for average, weight in zip(self.averages, self._weights, strict=True):
            weight.assign(average)

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """Within the block the model computes with the averages; afterwards its own weights are back."""
        saved = [tf.identity(weight.value) for weight in self._weights]
        self.copy_to_model()
        try:
            yield
        finally:
            for value, weight in zip(saved, self._weights, strict=True):
                weight.assign(value)
