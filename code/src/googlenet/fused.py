"""Faster layers that compute the same function as the plain ones, and weight transfer between them.

Profiling a training step of the improved build on a 2-core CPU (appendix) showed two costs
that have nothing to do with the model's arithmetic:

* Keras 3's ``BatchNormalization`` computes batch moments with a chain of small element-wise
  ops (mean, squared difference, tile, multiply...) whose gradients double that chain. One
  ``FusedBatchNormV3`` kernel does the same normalisation forward and backward.
  :class:`FusedBatchNormalization` uses it when training and Keras's own code otherwise.
* The 1x1 branch and the two 1x1 reductions of an inception module read the same input. One
  convolution with all their filters, split afterwards (:class:`SplitChannels`), makes one
  larger kernel call instead of three small ones.

:func:`transfer_weights` copies a plain model's weights into its fused twin (concatenating the
three 1x1 kernels and their batch-norm statistics), which is how the tests check that both
compute the same outputs and gradients.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

FUSED_1X1 = "fused_1x1"
FUSED_PARTS = ("1x1", "3x3_reduce", "5x5_reduce")  # the order of the fused filters


@keras.saving.register_keras_serializable(package="googlenet")
class FusedBatchNormalization(layers.BatchNormalization):
    """``BatchNormalization`` whose training pass is one fused TensorFlow kernel.

    Same normalisation (biased batch variance), same moving-average update, same weights
    and config as Keras's layer; inference, masks and non-NHWC inputs use Keras's own code.
    """

    def call(self, inputs, training=None, mask=None):
        if (
            not (training and self.trainable)
            or mask is not None
            or len(inputs.shape) != 4
            or self.axis not in (-1, 3)
            or self.renorm
        ):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, "float32")
        channels = x.shape[-1]
        scale = self.gamma if self.scale else tf.ones([channels])
        offset = self.beta if self.center else tf.zeros([channels])
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x,
            scale=scale,
            offset=offset,
            mean=tf.zeros([0]),
            variance=tf.zeros([0]),
            epsilon=self.epsilon,
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=True,
        )
        # The kernel returns the unbiased variance; Keras's moving average uses the biased one.
        n = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), "float32")
        variance = variance * (n - 1.0) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.cast(y, inputs.dtype)


@keras.saving.register_keras_serializable(package="googlenet")
class SplitChannels(layers.Layer):
    """Split the last axis into consecutive pieces of the given sizes (returns a list)."""

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        sizes = [int(s) for s in sizes]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"sizes must be positive channel counts, got {sizes!r}")
        self.sizes = sizes

    def call(self, inputs):
        return tf.split(inputs, self.sizes, axis=-1)

    def compute_output_shape(self, input_shape):
        return [(*input_shape[:-1], size) for size in self.sizes]

    def get_config(self):
        return super().get_config() | {"sizes": self.sizes}


def _fused_sources(name: str) -> tuple[str, list[str]] | None:
    """For a fused layer name, the module it belongs to and its plain layers' names."""
    for suffix in ("", "_bn"):
        tail = f"_{FUSED_1X1}{suffix}"
        if name.endswith(tail):
            module = name[: -len(tail)]
            return module, [f"{module}_{part}{suffix}" for part in FUSED_PARTS]
    return None


def transfer_weights(plain: keras.Model, fused: keras.Model) -> int:
    """Copy the weights of a plain build into its fused twin; return how many layers were set.

    Layers with the same name are copied as they are; each fused 1x1 convolution (and its batch
    norm) receives the concatenation of its module's 1x1, 3x3-reduce and 5x5-reduce weights.
    Raises ``ValueError`` naming the first layer that has no counterpart or a different shape.

    Args:
        plain: a model built with plain layers (``fast=False``).
        fused: the same architecture built with fused layers (``fast=True``).
    """
    plain_layers = {layer.name: layer for layer in plain.layers}
    count = 0
    for layer in fused.layers:
        if not layer.weights:
            continue
        sources = _fused_sources(layer.name)
        if sources is None:
            if layer.name not in plain_layers:
                raise ValueError(f"layer {layer.name!r} of {fused.name} has no counterpart in {plain.name}")
            values = plain_layers[layer.name].get_weights()
        else:
            missing = [n for n in sources[1] if n not in plain_layers]
            if missing:
                raise ValueError(f"fused layer {layer.name!r} needs {missing} in {plain.name}")
            parts = [plain_layers[n].get_weights() for n in sources[1]]
            values = [np.concatenate(group, axis=-1) for group in zip(*parts, strict=True)]
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ValueError(f"layer {layer.name!r}: shapes {[v.shape for v in values]} do not fit {expected}")
        layer.set_weights(values)
        count += 1
    return count
