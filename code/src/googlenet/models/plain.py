"""Chapter 1's plain convolution stacks and the classifier heads they end in.

Functional Keras models with named layers, so :mod:`googlenet.cost` can read every layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..checks import choice, positive_int, positive_ints

HEADS = ("flatten", "gap")
VGG16_STAGES: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
"""VGG-16's convolutions (Simonyan & Zisserman 2015, configuration D): (3x3 convs, width) per stage."""


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


def stage_stack(
    stages: Sequence[tuple[int, int]] = VGG16_STAGES,
    *,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 1000,
    head: str = "gap",
    hidden_units: Sequence[int] = (),
    name: str = "stage_stack",
) -> keras.Model:
    """A VGG-style plain CNN: stages of 3x3 'same' convolutions, each stage ending in a 2x2 max pool.

    Real plain CNNs double the channels where they halve the resolution; with the default
    :data:`VGG16_STAGES` and ``head="flatten", hidden_units=(4096, 4096)`` this is VGG-16.
    Layers are named ``stage<s>_conv<c>`` and ``stage<s>_pool``.

    Args:
        stages: ``(convolutions, width)`` of every stage, in order.
        input_shape: (height, width, channels) of the input; halved by every stage's pool.
        num_classes: outputs of the classifier.
        head: ``"flatten"`` or ``"gap"``, as in :func:`plain_conv_stack`.
        hidden_units: widths of the dense layers before the classifier.
        name: the model's name.
    """
    if not stages:
        raise ValueError("stages is empty: give at least one (convolutions, width) pair")
    for s, (convs, width) in enumerate(stages, start=1):
        positive_int(f"stage {s} convolutions", convs)
        positive_int(f"stage {s} width", width)
    if input_shape[0] < 2 ** len(stages) or input_shape[1] < 2 ** len(stages):
        raise ValueError(f"{len(stages)} stages halve a {input_shape[0]}x{input_shape[1]} input below 1x1")
    choice("head", head, HEADS)
    hidden_units = positive_ints("hidden_units", hidden_units)
    inputs = keras.Input(shape=input_shape, name="image")  # 224 x 224 x 3
    x = inputs
    for s, (convs, width) in enumerate(stages, start=1):
        for c in range(1, convs + 1):
            x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"stage{s}_conv{c}")(x)  # H x W x width
        x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)  # H/2 x W/2 x width
    return keras.Model(inputs, _head(x, head, hidden_units, num_classes), name=name)
