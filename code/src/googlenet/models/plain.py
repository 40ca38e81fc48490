"""Chapter 1's plain convolution stacks and the classifier heads they end in.

Functional Keras models with named layers, so :mod:`googlenet.cost` can read every layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..checks import choice, positive_int, positive_ints

HEADS = ("flatten", "gap")


def _head(x, head: str, hidden_units: Sequence[int], num_classes: int):
    x = layers.Flatten(name="flatten")(x) if head == "flatten" else layers.GlobalAveragePooling2D(name="gap")(x)
    for j, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{j}")(x)
    return layers.Dense(num_classes, name="classifier")(x)


def plain_conv_stack(
    *,
    depth: int,
    width: int,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 1000,
    pool_every: int = 2,
    head: str = "gap",
    hidden_units: Sequence[int] = (),
    rescale: bool = False,
    name: str | None = None,
) -> keras.Model:
    """A plain CNN: ``depth`` 3x3 'same' convolutions of ``width`` channels with ReLU.

    Args:
        depth: number of 3x3 convolutions.
        width: channels of every convolution.
        input_shape: (height, width, channels) of the input.
        num_classes: outputs of the classifier.
        pool_every: a 2x2 max pool follows every ``pool_every`` convolutions while the map is
            at least 2x2.
        head: ``"flatten"`` flattens the last map into dense layers, as AlexNet and VGG do;
            ``"gap"`` averages it globally first, as Network in Network and GoogLeNet do.
        hidden_units: widths of the dense layers before the classifier.
        rescale: map raw 0-255 pixels to 0-1 inside the model.
        name: the model's name (default ``plain_d<depth>_w<width>_<head>``).
    """
    positive_int("depth", depth)
    positive_int("width", width)
    positive_int("num_classes", num_classes)
    positive_int("pool_every", pool_every)
    choice("head", head, HEADS)
    hidden_units = positive_ints("hidden_units", hidden_units)

    inputs = keras.Input(shape=input_shape, name="image")  # H x W x C
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs) if rescale else inputs
    for i in range(1, depth + 1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)  # same H x W, width
        if i % pool_every == 0 and x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)  # H/2 x W/2 x width
    outputs = _head(x, head, hidden_units, num_classes)  # num_classes
    return keras.Model(inputs, outputs, name=name or f"plain_d{depth}_w{width}_{head}")


def classifier_head(
    feature_shape: tuple[int, int, int],
    num_classes: int,
    head: str,
    hidden_units: Sequence[int] = (),
) -> keras.Model:
    """Just the classifier that sits on a final feature map, to price it on its own.

    Args:
        feature_shape: (height, width, channels) of the feature map it reads.
        num_classes: outputs of the classifier.
        head: ``"flatten"`` or ``"gap"``, as in :func:`plain_conv_stack`.
        hidden_units: widths of the dense layers before the classifier.
    """
    choice("head", head, HEADS)
    positive_int("num_classes", num_classes)
    hidden_units = positive_ints("hidden_units", hidden_units)
    inputs = keras.Input(shape=feature_shape, name="features")
    return keras.Model(inputs, _head(inputs, head, hidden_units, num_classes), name=f"{head}_head")
