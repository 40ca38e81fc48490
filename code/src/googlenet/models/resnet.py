"""The small ResNet behind the best published Fashion-MNIST figures near the book's size.

He et al.'s CIFAR ResNet (``6n + 2`` layers: a 3x3 convolution, three stages of ``n`` basic
blocks at 16, 32 and 64 channels, global average pooling, a dense layer) as the random-erasing
authors' script builds it for 28x28 grey images (``models/fashion/resnet.py`` of
zhunzhong07/Random-Erasing): one input channel, convolutions without bias, each followed by
batch normalisation, and a 1x1 convolution with batch normalisation on the shortcut wherever a
block changes the shape (the script's downsample). Chapter 10 builds it to count what such a
network costs beside the book's; the book does not train it.
"""

from __future__ import annotations

import keras
from keras import layers

from ..checks import integer
from ..data import INPUT_SHAPE, NUM_CLASSES

STAGE_WIDTHS = (16, 32, 64)
"""Channels of the three stages (the second and third start with stride 2)."""
MAX_BASIC_DEPTH = 43
"""The script switches to bottleneck blocks from depth 44 on; this builder stops before."""


def _conv_bn(x: keras.KerasTensor, filters: int, kernel: int, strides: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    # PyTorch's BatchNorm2d defaults: epsilon 1e-5, momentum 0.1 (Keras's 0.9)
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn")(x)


def _basic_block(x: keras.KerasTensor, filters: int, strides: int, name: str) -> keras.KerasTensor:
    shortcut = x
    y = layers.ReLU(name=f"{name}_relu1")(_conv_bn(x, filters, 3, strides, f"{name}_conv1"))
    y = _conv_bn(y, filters, 3, 1, f"{name}_conv2")
    if strides != 1 or x.shape[-1] != filters:  # the script's downsample: 1x1 conv + BN
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_shortcut")
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def resnet_cifar(depth: int = 20, *, name: str | None = None) -> keras.Model:
    """He et al.'s CIFAR ResNet of ``depth`` layers, for 28x28x1 images (raw pixels 0-255 in, logits out).

    With ``depth=20``: 28x28x16 (stem) -> 3 blocks at 28x28x16 -> 3 at 14x14x32 -> 3 at 7x7x64
    -> global average pool (the script's 7x7 average pool) -> 10 logits.

    Args:
        depth: layers with weights, ``6n + 2`` (20, 26, 32, 38); the script's bottleneck depths
            (44 and more) are refused.
        name: the model's name (default ``resnet<depth>``).
    """
    integer("depth", depth, minimum=8, maximum=MAX_BASIC_DEPTH)
    if (depth - 2) % 6:
        raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 26, 32, 38), got {depth}")
    blocks = (depth - 2) // 6
    inputs = keras.Input(INPUT_SHAPE, name="image")  # 28 x 28 x 1, pixels 0-255
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    x = layers.ReLU(name="stem_relu")(_conv_bn(x, STAGE_WIDTHS[0], 3, 1, "stem"))  # 28 x 28 x 16
    for stage, filters in enumerate(STAGE_WIDTHS, start=1):
        for block in range(1, blocks + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            x = _basic_block(x, filters, strides, f"stage{stage}_block{block}")
    # 7 x 7 x 64
    x = layers.GlobalAveragePooling2D(name="pool")(x)  # 64
    outputs = layers.Dense(NUM_CLASSES, name="logits")(x)  # 10
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}")
