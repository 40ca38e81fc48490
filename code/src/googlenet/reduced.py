"""Reduced GoogLeNets for 28x28 Fashion-MNIST: the study note's build and the book's improved one.

Both take raw pixels 0-255 shaped (28, 28, 1) and return class logits, so a saved model needs
no preprocessing outside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from .blocks import check_width, conv_unit, inception_module

NUM_CLASSES = 10
INPUT_SHAPE = (28, 28, 1)


@keras.saving.register_keras_serializable(package="googlenet")
class InceptionBlock(layers.Layer):
    """The study note's inception block: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches.

    As in the note, every branch has the same number of filters and the reductions equal it.
    """

    def __init__(self, filters: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_width("filters", filters)
        f = self.filters
        self.b1 = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b3_reduce = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b3 = layers.Conv2D(f, 3, padding="same", activation="relu")
        self.b5_reduce = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b5 = layers.Conv2D(f, 5, padding="same", activation="relu")
        self.pool = layers.MaxPooling2D(3, strides=1, padding="same")
        self.pool_proj = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.concat = layers.Concatenate(axis=-1)

    def call(self, x):
        return self.concat(
            [self.b1(x), self.b3(self.b3_reduce(x)), self.b5(self.b5_reduce(x)), self.pool_proj(self.pool(x))]
        )

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4 * self.filters)

    def get_config(self):
        return super().get_config() | {"filters": self.filters}


@keras.saving.register_keras_serializable(package="googlenet")
class InceptionNet(keras.Model):
    """The study note's reduced GoogLeNet, in its own style: a ``_layers`` list run in order.

    The note's figures did not survive, so the stem is the simplest reading of its text: one
    3x3 convolution of 64 filters at full 28x28 resolution, then ``num_blocks`` inception blocks
    of ``filters`` filters per branch (all at 28x28), global average pooling and a dense
    classifier. Pixel scaling (0-255 to 0-1) is the first layer, so the model takes raw images.
    """

    def __init__(self, filters: int = 16, num_blocks: int = 5, num_classes: int = NUM_CLASSES, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_width("filters", filters)
        self.num_blocks = check_width("num_blocks", num_blocks)
        self.num_classes = check_width("num_classes", num_classes)
        self._layers = [
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            *[InceptionBlock(self.filters) for _ in range(self.num_blocks)],
            layers.GlobalAveragePooling2D(),
            layers.Dense(self.num_classes),
        ]

    def call(self, x, training=False):
        for layer in self._layers:
            x = layer(x, training=training) if isinstance(layer, layers.Dropout) else layer(x)
        return x

    def get_config(self):
        return {
            "filters": self.filters,
            "num_blocks": self.num_blocks,
            "num_classes": self.num_classes,
            "name": self.name,
        }


def writeup_net(filters: int = 16, num_blocks: int = 5) -> keras.Model:
    """Build (and call once, so weights exist) the study note's ``InceptionNet``."""
    model = InceptionNet(filters=filters, num_blocks=num_blocks, name="writeup_inception_net")
    model(keras.ops.zeros((1, *INPUT_SHAPE)))  # a subclassed model creates its weights on first call
    return model


# Widths per module (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) at scale 1.0:
# GoogLeNet's 3a, 3b, 4a, 4b, 4c, 4d, 4e, 5a, 5b divided by 4.
IMPROVED_WIDTHS: tuple[tuple[int, int, int, int, int, int], ...] = (
    (16, 24, 32, 4, 8, 8),
    (32, 32, 48, 8, 24, 16),
    (48, 24, 52, 4, 12, 16),
    (40, 28, 56, 6, 16, 16),
    (32, 32, 64, 6, 16, 16),
    (28, 36, 72, 8, 16, 16),
    (64, 40, 80, 8, 32, 32),
    (64, 40, 80, 8, 32, 32),
    (96, 48, 96, 12, 32, 32),
)


def improved_net(
    num_modules: int = 5,
    width: float = 1.0,
    *,
    aux_heads: bool = False,
    dropout: float = 0.2,
    stem_filters: int = 32,
    bn_momentum: float = 0.9,
    fast: bool = True,
    name: str = "improved_googlenet",
) -> keras.Model:
    """The book's reduced GoogLeNet for 28x28 inputs.

    A batch-normalised stem halves the resolution to 14x14 before the modules (the modules are
    the expensive part, and 28x28 maps made the study note's build slow). The first two
    modules run at 14x14, a max pool halves to 7x7 for the rest, as GoogLeNet pools after 3b.
    With 9 modules a second pool after the seventh (as after 4e) brings 5a-5b to 4x4.
    ``width`` scales every branch; ``aux_heads`` adds GoogLeNet-style heads after modules 3
    and 6 (outputs ``main``, ``aux1``, ``aux2``). Batch norm's moving averages use momentum 0.9
    (PyTorch's default) rather than Keras's 0.99, so test-time statistics keep up with weights
    that move fast early in a short run. ``fast`` builds the fused layers of
    :mod:`googlenet.fused` (same function, quicker on a CPU); ``fast=False`` the plain ones.
    """
    if not isinstance(num_modules, int) or not 1 <= num_modules <= len(IMPROVED_WIDTHS):
        raise ValueError(f"num_modules must be an integer from 1 to {len(IMPROVED_WIDTHS)}, got {num_modules!r}")
    if not width > 0:
        raise ValueError(f"width must be a positive scale factor, got {width!r}")
    if aux_heads and num_modules < 6:
        raise ValueError(f"aux_heads needs at least 6 modules (heads after modules 3 and 6), got {num_modules}")

    def scaled(n: int) -> int:
        return max(1, round(n * width))

    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    unit = {"batch_norm": True, "bn_momentum": bn_momentum, "fast": fast}
    x = conv_unit(x, stem_filters, 3, name="stem_conv1", **unit)
    x = conv_unit(x, scaled(64), 3, strides=2, name="stem_conv2", **unit)  # 28 -> 14
    aux = []
    for i, widths in enumerate(IMPROVED_WIDTHS[:num_modules], start=1):
        f1, r3, f3, r5, f5, pp = (scaled(w) for w in widths)
        x = inception_module(
            x, filters_1x1=f1, reduce_3x3=r3, filters_3x3=f3, reduce_5x5=r5, filters_5x5=f5, pool_proj=pp,
            name=f"inception_{i}", **unit,
        )  # fmt: skip
        if i in (2, 7) and i < num_modules:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{i}")(x)
        if aux_heads and i in (3, 6):
            a = layers.GlobalAveragePooling2D(name=f"aux{len(aux) + 1}_gap")(x)
            a = layers.Dense(scaled(128), activation="relu", name=f"aux{len(aux) + 1}_fc")(a)
            a = layers.Dropout(0.5, name=f"aux{len(aux) + 1}_dropout")(a)
            aux.append(layers.Dense(NUM_CLASSES, name=f"aux{len(aux) + 1}")(a))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    main = layers.Dense(NUM_CLASSES, name="main")(x)
    if aux:
        return keras.Model(inputs, {"main": main, "aux1": aux[0], "aux2": aux[1]}, name=name)
    return keras.Model(inputs, main, name=name)


def module_widths(model: keras.Model) -> Sequence[int]:
    """Output depth of every inception module of an improved build, in order."""
    return [int(layer.output.shape[-1]) for layer in model.layers if layer.name.startswith("inception_") and
            isinstance(layer, layers.Concatenate)]  # fmt: skip


def writeup_functional(filters: int = 16, num_blocks: int = 5) -> keras.Model:
    """A functional twin of :class:`InceptionNet` with the same layers and weights' shapes.

    The cost counter reads functional graphs; this twin lets it count the study note's build.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="stem_conv")(x)
    for i in range(1, num_blocks + 1):
        x = inception_module(
            x, filters_1x1=filters, reduce_3x3=filters, filters_3x3=filters, reduce_5x5=filters,
            filters_5x5=filters, pool_proj=filters, name=f"inception_{i}",
        )  # fmt: skip
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, name="main")(x), name="writeup_functional")
