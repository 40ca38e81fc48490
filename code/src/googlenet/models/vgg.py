"""A small VGG-style baseline for 28x28 Fashion-MNIST, sized to the improved GoogLeNet's cost.

Simonyan & Zisserman's recipe: stages of stacked 3x3 convolutions (stride 1, same padding),
each stage ending in a 2x2 max pool that halves the map while the next stage doubles the
width. To compare bodies rather than heads, the baseline shares the improved build's
rescaling, batch-normalised conv units and head (global average pooling, dropout, dense);
VGG's 4096-wide fully connected layers would dwarf a 28x28 network's convolutions.
"""

from __future__ import annotations

import keras
from keras import layers

from ..blocks import conv_unit
from ..checks import fraction, positive_int, width
from ..data import INPUT_SHAPE, NUM_CLASSES
from .heads import MAIN

# Base width chosen (tests/test_models_vgg.py checks it) so that the default baseline's
# multiply-adds land within 5% of the default improved build's (15.1M against 14.8M).
DEFAULT_BASE_WIDTH = 23


def vgg_net(
    base_width: int = DEFAULT_BASE_WIDTH,
    *,
    stages: int = 3,
    convs_per_stage: int = 2,
    dropout: float = 0.2,
    bn_momentum: float = 0.9,
    fast: bool = True,
    name: str = "vgg_baseline",
) -> keras.Model:
    """Stages of ``convs_per_stage`` 3x3 conv units, widths ``base_width * 2**stage``.

    With the defaults: 28x28x23 -> 14x14x46 -> 7x7x92 (pools between stages, none after the
    last), then the improved build's head. Raw pixels 0-255 in, logits out.

    Args:
        base_width: channels of the first stage; each later stage doubles it.
        stages: number of stages (a 2x2 max pool between consecutive ones).
        convs_per_stage: 3x3 conv units per stage.
        dropout: dropout before the classifier.
        bn_momentum: batch norm's moving-average momentum (Keras convention).
        fast: fused batch norm (same function, quicker on a CPU).
        name: the model's name.
    """
    width("base_width", base_width)
    positive_int("stages", stages)
    positive_int("convs_per_stage", convs_per_stage)
    fraction("dropout", dropout)
    if 2 ** (stages - 1) > INPUT_SHAPE[0]:
        raise ValueError(f"stages={stages} would pool a {INPUT_SHAPE[0]}x{INPUT_SHAPE[1]} input below 1x1")
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")  # 28 x 28 x 1
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for stage in range(1, stages + 1):
        for conv in range(1, convs_per_stage + 1):
            x = conv_unit(
                x,
                base_width * 2 ** (stage - 1),
                3,
                name=f"block{stage}_conv{conv}",
                batch_norm=True,
                bn_momentum=bn_momentum,
                fast=fast,
            )  # (28 / 2**(stage-1)) squared x base_width * 2**(stage-1)
        if stage < stages:
            x = layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)  # base_width * 2**(stages-1)
    x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, name=MAIN)(x), name=name)
