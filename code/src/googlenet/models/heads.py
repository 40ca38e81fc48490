"""Classifier heads shared by the GoogLeNet builds, and the rules for models with several.

A model with auxiliary heads returns a dict ``{"main": ..., "aux1": ..., "aux2": ...}`` of
logits while training; everything else here (the weighted loss, the inference model, reading
predictions) finds the main head through :func:`main_output`, the one place that rule lives.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
from keras import layers

from ..blocks import conv_unit

AUX_LOSS_WEIGHT = 0.3
"""The paper's discount weight of each auxiliary loss (Szegedy et al. 2015, section 5)."""

MAIN = "main"
"""Name of the main classifier's output (and of its final dense layer)."""


def main_output(outputs):
    """The main head's logits from whatever a model returned: a dict of heads or one tensor.

    Args:
        outputs: what the model returned.
    """
    if isinstance(outputs, Mapping):
        return outputs[MAIN]
    return outputs


def as_heads(outputs) -> dict:
    """Every head's logits as a dict; a single-output model's logits are ``{"main": logits}``.

    Args:
        outputs: what the model returned.
    """
    return dict(outputs) if isinstance(outputs, Mapping) else {MAIN: outputs}


def weighted_loss(losses: Mapping[str, object], aux_weight: float = AUX_LOSS_WEIGHT):
    """The paper's total: main loss plus ``aux_weight`` times each auxiliary loss.

    Args:
        losses: each head's loss, keyed by head name; must contain ``"main"``.
        aux_weight: weight of every auxiliary loss (0.3 in the paper).
    """
    total = losses[MAIN]
    for name, value in losses.items():
        if name != MAIN:
            total = total + aux_weight * value
    return total


def inference_model(model: keras.Model) -> keras.Model:
    """The main head only, sharing every weight with ``model`` (the auxiliary heads dropped).

    Args:
        model: a functional model with or without auxiliary heads.
    """
    structure, outputs = model.output, model.outputs
    if isinstance(structure, Mapping):  # a dict of heads (its main output may be cast, under bfloat16)
        main = structure[MAIN]
    else:
        main = model.get_layer(MAIN).output if len(outputs) > 1 else outputs[0]
    return keras.Model(model.input, main, name=f"{model.name}_inference")


def has_auxiliary_heads(model: keras.Model) -> bool:
    """Whether a functional model returns more than its main head.

    Args:
        model: a Keras model.
    """
    outputs = getattr(model, "outputs", None)  # None for a subclassed model such as the note's
    return bool(outputs) and len(outputs) > 1


def paper_aux_head(
    x,
    num_classes: int,
    name: str,
    *,
    batch_norm: bool = False,
    dropout: float = 0.7,
    conv_filters: int = 128,
    units: int = 1024,
):
    """The GoogLeNet paper's auxiliary classifier (section 5), on a 14x14 map at 224x224 input.

    5x5/3 average pool -> 1x1 convolution with 128 filters -> fully connected 1024 with ReLU ->
    dropout -> linear classifier. Layers are named ``<name>_pool``, ``<name>_conv``, ...

    Args:
        x: the module output it sits on (batch, H, W, C); needs H, W >= 5.
        num_classes: classes of its linear classifier.
        name: prefix of its layers (``aux1``).
        batch_norm: batch-normalise its convolution (torchvision) instead of conv + ReLU.
        dropout: fraction of the fully connected units dropped while training (the paper: 0.7).
        conv_filters: filters of the 1x1 convolution (the paper: 128).
        units: width of the fully connected layer (the paper: 1024).
    """
    x = layers.AveragePooling2D(5, strides=3, padding="valid", name=f"{name}_pool")(x)  # 4 x 4 x C
    x = conv_unit(x, conv_filters, 1, name=f"{name}_conv", batch_norm=batch_norm)  # 4 x 4 x 128
    x = layers.Flatten(name=f"{name}_flatten")(x)  # 2048
    x = layers.Dense(units, activation="relu", name=f"{name}_fc")(x)  # 1024
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return layers.Dense(num_classes, name=f"{name}_logits")(x)  # num_classes


def gap_aux_head(x, num_classes: int, name: str, *, units: int = 128, dropout: float = 0.5):
    """The book's small auxiliary head: global average pool -> dense ``units`` -> dropout -> logits.

    Not the paper's head (no 5x5/3 pool, no 1x1 convolution, 128 units instead of 1024): it
    fits the 7x7 maps of the reduced builds. Its logits layer is named ``name`` itself.

    Args:
        x: the module output it sits on (batch, H, W, C).
        num_classes: classes of its linear classifier.
        name: prefix of its layers and the name of its output (``aux1``).
        units: width of its hidden dense layer.
        dropout: fraction of those units dropped while training.
    """
    x = layers.GlobalAveragePooling2D(name=f"{name}_gap")(x)  # C
    x = layers.Dense(units, activation="relu", name=f"{name}_fc")(x)  # units
    x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return layers.Dense(num_classes, name=name)(x)  # num_classes
