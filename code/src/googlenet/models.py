"""Model builders. Chapter 1's plain convolution stacks and classifier heads live here.

All builders are functional Keras models with named layers, so :mod:`googlenet.cost` can read
every layer's shapes and weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

HEADS = ("flatten", "gap")


def _positive_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _check_head(head: str) -> None:
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")


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

    A 2x2 max pool follows every ``pool_every`` convolutions while the map is at least 2x2.
    ``head='flatten'`` flattens the last map into dense layers (``hidden_units``, then the
    classifier), as AlexNet and VGG do; ``head='gap'`` averages it globally first, as
    Network in Network and GoogLeNet do. ``rescale`` maps raw 0-255 pixels to 0-1 inside.
    """
    _positive_int("depth", depth)
    _positive_int("width", width)
    _positive_int("num_classes", num_classes)
    _positive_int("pool_every", pool_every)
    _check_head(head)
    for units in hidden_units:
        _positive_int("hidden_units entry", units)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs) if rescale else inputs
    for i in range(1, depth + 1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if i % pool_every == 0 and x.shape[1] >= 2 and x.shape[2] >= 2:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x) if head == "flatten" else layers.GlobalAveragePooling2D(name="gap")(x)
    for j, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation="relu", name=f"fc{j}")(x)
    outputs = layers.Dense(num_classes, name="classifier")(x)
    return keras.Model(inputs, outputs, name=name or f"plain_d{depth}_w{width}_{head}")


def classifier_head(
    feature_shape: tuple[int, int, int],
    num_classes: int,
    head: str,
    hidden_units: Sequence[int] = (),
) -> keras.Model:
    """Just the classifier that sits on a final feature map, to price it on its own."""
    _check_head(head)
    _positive_int("num_classes", num_classes)
    inputs = keras.Input(shape=feature_shape, name="features")
    x = (
        layers.Flatten(name="flatten")(inputs)
        if head == "flatten"
        else layers.GlobalAveragePooling2D(name="gap")(inputs)
    )
    for j, units in enumerate(hidden_units, start=1):
        x = layers.Dense(_positive_int("hidden_units entry", units), activation="relu", name=f"fc{j}")(x)
    outputs = layers.Dense(num_classes, name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"{head}_head")
