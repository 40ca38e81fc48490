"""The study note's reduced GoogLeNet for 28x28 Fashion-MNIST, in the note's own style.

The note subclasses Keras: an ``InceptionBlock`` layer and an ``InceptionNet`` model that runs
a ``_layers`` list in order. Both are kept as the note wrote them (registered, so the shipped
model loads); :func:`writeup_functional` is a functional twin with the same layers, which the
cost counter and the figures can read.
"""

from __future__ import annotations

import keras
from keras import layers

from ..blocks import inception_from_widths
from ..checks import positive_int, width
from ..data import INPUT_SHAPE, NUM_CLASSES
from .heads import MAIN


@keras.saving.register_keras_serializable(package="googlenet")
class InceptionBlock(layers.Layer):
    """The study note's inception block: 1x1, 1x1->3x3, 1x1->5x5 and pool->1x1 branches.

    As in the note, every branch has the same number of filters and the reductions equal it.

    Args:
        filters: channels of every convolution (the output has ``4 * filters``).
    """

    def __init__(self, filters: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.filters = width("filters", filters)
        f = self.filters
        self.b1 = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b3_reduce = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b3 = layers.Conv2D(f, 3, padding="same", activation="relu")
        self.b5_reduce = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.b5 = layers.Conv2D(f, 5, padding="same", activation="relu")
        self.pool = layers.MaxPooling2D(3, strides=1, padding="same")
        self.pool_proj = layers.Conv2D(f, 1, padding="same", activation="relu")
        self.concat = layers.Concatenate(axis=-1)

    def call(self, x):  # H x W x C in
        # each branch H x W x filters; concatenated H x W x 4 filters
        return self.concat(
            [self.b1(x), self.b3(self.b3_reduce(x)), self.b5(self.b5_reduce(x)), self.pool_proj(self.pool(x))]
        )

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4 * self.filters)

    def get_config(self):
        return super().get_config() | {"filters": self.filters}


@keras.saving.register_keras_serializable(package="googlenet")
class InceptionNet(keras.Model):
    """The study note's reduced GoogLeNet: a ``_layers`` list run in order.

    The note's figures did not survive, so the stem is the simplest reading of its text: one
    3x3 convolution of 64 filters at full 28x28 resolution, then ``num_blocks`` inception blocks
    of ``filters`` filters per branch (all at 28x28), global average pooling and a dense
    classifier. Pixel scaling (0-255 to 0-1) is the first layer, so the model takes raw images.

    Args:
        filters: channels of every branch of every block.
        num_blocks: inception blocks after the stem.
        num_classes: outputs of the classifier.
    """

    def __init__(self, filters: int = 16, num_blocks: int = 5, num_classes: int = NUM_CLASSES, **kwargs):
        super().__init__(**kwargs)
        self.filters = width("filters", filters)
        self.num_blocks = positive_int("num_blocks", num_blocks)
        self.num_classes = positive_int("num_classes", num_classes)
        self._layers = [
            layers.Rescaling(1.0 / 255),  # 28 x 28 x 1, pixels 0-1
            layers.Conv2D(64, 3, padding="same", activation="relu"),  # 28 x 28 x 64
            *[InceptionBlock(self.filters) for _ in range(self.num_blocks)],  # 28 x 28 x 4 filters
            layers.GlobalAveragePooling2D(),  # 4 filters
            layers.Dense(self.num_classes),  # num_classes
        ]

    def call(self, x):
        for layer in self._layers:
            x = layer(x)
        return x

    def get_config(self):
        return {
            "filters": self.filters,
            "num_blocks": self.num_blocks,
            "num_classes": self.num_classes,
            "name": self.name,
        }


def writeup_net(filters: int = 16, num_blocks: int = 5) -> keras.Model:
    """Build (and call once, so weights exist) the study note's :class:`InceptionNet`.

    Args:
        filters: channels of every branch of every block (the note: 16).
        num_blocks: inception blocks (the note: 5).
    """
    model = InceptionNet(filters=filters, num_blocks=num_blocks, name="writeup_inception_net")
    model(keras.ops.zeros((1, *INPUT_SHAPE)))  # a subclassed model creates its weights on first call
    return model


def writeup_functional(filters: int = 16, num_blocks: int = 5) -> keras.Model:
    """A functional twin of :class:`InceptionNet` with the same layers and weights' shapes.

    The cost counter reads functional graphs; this twin lets it count the study note's build.

    Args:
        filters: as for :func:`writeup_net`.
        num_blocks: as for :func:`writeup_net`.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")  # 28 x 28 x 1
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", name="stem_conv")(x)  # 28 x 28 x 64
    for i in range(1, num_blocks + 1):
        x = inception_from_widths(x, (filters,) * 6, name=f"inception_{i}")  # 28 x 28 x 4 filters
    x = layers.GlobalAveragePooling2D(name="gap")(x)  # 4 filters
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, name=MAIN)(x), name="writeup_functional")


def counting_twin(model: keras.Model) -> keras.Model:
    """A model the cost counter can read: the functional twin of a note's build, else the model.

    Args:
        model: any model.
    """
    if isinstance(model, InceptionNet):
        return writeup_functional(filters=model.filters, num_blocks=model.num_blocks)
    return model
