"""Inception building blocks as functional Keras helpers with named layers.

Every block takes a tensor and returns a tensor, and names its layers
``<module>_<branch>`` (``inception_3a_3x3_reduce``, ``inception_3a_pool_proj``, ...), so the
cost counter can group layers by branch and chapters can trace shapes by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from .checks import choice, width
from .fused import FUSED_1X1, FusedBatchNormalization, SplitChannels

# Branch names in the order they are concatenated (the paper's order: 1x1, 3x3, 5x5, pool).
BRANCHES = ("1x1", "3x3", "5x5", "pool")

MODULE_STYLES = ("v1", "factorised", "asymmetric", "separable")
"""How :func:`inception_module` builds its 3x3 and 5x5 branches after their 1x1 reductions:

- ``"v1"``: one 3x3 and one 5x5 convolution (GoogLeNet, 2014);
- ``"factorised"``: the 5x5 as two stacked 3x3 convolutions (Inception-v3's Figure 5);
- ``"asymmetric"``: additionally every 3x3 as a 1x3 then a 3x1 convolution (Inception-v3's
  Figure 6 with n = 3);
- ``"separable"``: the 3x3 and 5x5 as depthwise separable convolutions (Xception's building
  block: a per-channel k x k convolution, then a 1x1 across channels, no ReLU between).
"""

GRID_REDUCTIONS = ("conv_pool", "pool_conv", "parallel")
"""Orders of :func:`grid_reduction` (Inception-v3's section 5)."""


def conv_unit(
    x: keras.KerasTensor,
    filters: int,
    kernel: int | tuple[int, int],
    *,
    name: str,
    strides: int = 1,
    padding: str = "same",
    batch_norm: bool = False,
    bn_momentum: float = 0.99,
    fast: bool = False,
    separable: bool = False,
) -> keras.KerasTensor:
    """Convolution + ReLU (the paper), or convolution without bias + batch norm + ReLU.

    Args:
        x: input feature map (batch, height, width, channels).
        filters: output channels.
        kernel: kernel size, square (``3``) or ``(height, width)``.
        name: the convolution's layer name; with ``batch_norm`` the others are ``<name>_bn``
            and ``<name>_relu`` (without, the ReLU is the convolution's own activation).
        strides: stride in pixels, both directions.
        padding: ``"same"`` (output = ceil(input / stride)) or ``"valid"``.
        batch_norm: whether to normalise (the convolution then has no bias).
        bn_momentum: Keras's moving-average momentum (0.99 by default; 0.9 equals PyTorch's 0.1).
        fast: use :class:`~googlenet.fused.FusedBatchNormalization` (same function, one kernel).
        separable: a depthwise separable convolution (Keras's ``SeparableConv2D``: one k x k
            filter per input channel, then a 1x1 convolution to ``filters`` channels).
    """
    conv = layers.SeparableConv2D if separable else layers.Conv2D
    if not batch_norm:
        return conv(filters, kernel, strides=strides, padding=padding, activation="relu", name=name)(x)
    x = conv(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
    # epsilon 1e-3 as in torchvision's BasicConv2d for GoogLeNet and Keras's InceptionV3.
    norm = FusedBatchNormalization if fast else layers.BatchNormalization
    x = norm(epsilon=1e-3, momentum=bn_momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def naive_inception(
    x: keras.KerasTensor,
    *,
    filters_1x1: int | None = None,
    filters_3x3: int | None = None,
    filters_5x5: int | None = None,
    name: str = "naive_inception",
    batch_norm: bool = False,
) -> keras.KerasTensor:
    """Parallel 1x1, 3x3 and 5x5 'same' convolutions and a 3x3 stride-1 max pool, concatenated.

    The pool branch passes every input channel through, so the output depth is
    ``filters_1x1 + filters_3x3 + filters_5x5 + input channels``.

    Args:
        x: input feature map (batch, H, W, C).
        filters_1x1, filters_3x3, filters_5x5: output channels of each convolution branch.
        name: the concatenation's name and the prefix of every layer (``<name>_3x3``).
        batch_norm: batch-normalised convolutions instead of convolution + ReLU.
    """
    f1 = width("filters_1x1", filters_1x1)
    f3 = width("filters_3x3", filters_3x3)
    f5 = width("filters_5x5", filters_5x5)
    b1 = conv_unit(x, f1, 1, name=f"{name}_1x1", batch_norm=batch_norm)  # H x W x f1
    b3 = conv_unit(x, f3, 3, name=f"{name}_3x3", batch_norm=batch_norm)  # H x W x f3
    b5 = conv_unit(x, f5, 5, name=f"{name}_5x5", batch_norm=batch_norm)  # H x W x f5
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)  # H x W x C
    return layers.Concatenate(axis=-1, name=name)([b1, b3, b5, bp])  # H x W x (f1 + f3 + f5 + C)


def inception_module(
    x: keras.KerasTensor,
    *,
    filters_1x1: int | None = None,
    reduce_3x3: int | None = None,
    filters_3x3: int | None = None,
    reduce_5x5: int | None = None,
    filters_5x5: int | None = None,
    pool_proj: int | None = None,
    name: str = "inception",
    batch_norm: bool = False,
    kernel_5x5: int = 5,
    bn_momentum: float = 0.99,
    fast: bool = False,
    style: str = "v1",
) -> keras.KerasTensor:
    """The inception module with dimension reduction (GoogLeNet's building block).

    1x1 reductions before the 3x3 and "5x5" convolutions and a 1x1 projection after the
    3x3 stride-1 max pool; the output has ``filters_1x1 + filters_3x3 + filters_5x5 +
    pool_proj`` channels at the input's height and width.

    Args:
        x: input feature map (batch, H, W, C).
        filters_1x1: the 1x1 branch's channels (Table 1's "#1x1").
        reduce_3x3, filters_3x3: the 3x3 branch's 1x1 reduction and 3x3 output channels.
        reduce_5x5, filters_5x5: the same for the 5x5 branch.
        pool_proj: channels of the 1x1 projection after the pool.
        name: the concatenation's name and the prefix of every layer.
        batch_norm: batch-normalised convolutions (torchvision, the book's builds).
        kernel_5x5: 5 (the paper) or 3 (torchvision's variant of that branch).
        bn_momentum: batch norm's moving-average momentum (Keras convention).
        fast: compute the same function faster on a CPU: the three 1x1 convolutions that read
            the input become one (``<name>_fused_1x1``, split by ``<name>_split``) and batch
            norm uses one fused kernel (see :mod:`googlenet.fused`).
        style: one of :data:`MODULE_STYLES`, how the 3x3 and 5x5 branches are built after their
            reductions (the later modules of Inception-v3 and Xception); every style keeps the
            branches' output widths, so the module's output depth is the same.
    """
    f1 = width("filters_1x1", filters_1x1)
    r3 = width("reduce_3x3", reduce_3x3)
    f3 = width("filters_3x3", filters_3x3)
    r5 = width("reduce_5x5", reduce_5x5)
    f5 = width("filters_5x5", filters_5x5)
    pp = width("pool_proj", pool_proj)
    choice("kernel_5x5 (5: the paper, 3: torchvision)", kernel_5x5, (5, 3))
    choice("style", style, MODULE_STYLES)
    if style != "v1" and kernel_5x5 != 5:
        raise ValueError(f"kernel_5x5={kernel_5x5} is torchvision's variant of the v1 module; style {style!r} needs 5")
    unit = {"batch_norm": batch_norm, "bn_momentum": bn_momentum, "fast": fast}
    if fast:
        fused = conv_unit(x, f1 + r3 + r5, 1, name=f"{name}_{FUSED_1X1}", **unit)  # H x W x (f1+r3+r5)
        b1, b3, b5 = SplitChannels([f1, r3, r5], name=f"{name}_split")(fused)
    else:
        b1 = conv_unit(x, f1, 1, name=f"{name}_1x1", **unit)  # H x W x f1
        b3 = conv_unit(x, r3, 1, name=f"{name}_3x3_reduce", **unit)  # H x W x r3
        b5 = conv_unit(x, r5, 1, name=f"{name}_5x5_reduce", **unit)  # H x W x r5
    if style == "v1":
        b3 = conv_unit(b3, f3, 3, name=f"{name}_3x3", **unit)  # H x W x f3
        b5 = conv_unit(b5, f5, kernel_5x5, name=f"{name}_5x5", **unit)  # H x W x f5
    elif style == "separable":
        b3 = conv_unit(b3, f3, 3, name=f"{name}_3x3", separable=True, **unit)  # H x W x f3
        b5 = conv_unit(b5, f5, 5, name=f"{name}_5x5", separable=True, **unit)  # H x W x f5
    else:  # "factorised"/"asymmetric": the 5x5 as two 3x3s, the first as wide as the second (Keras InceptionV3)
        b3 = _three_by_three(b3, f3, f"{name}_3x3", asymmetric=style == "asymmetric", **unit)  # H x W x f3
        b5 = _three_by_three(b5, f5, f"{name}_5x5_a", asymmetric=style == "asymmetric", **unit)  # H x W x f5
        b5 = _three_by_three(b5, f5, f"{name}_5x5_b", asymmetric=style == "asymmetric", **unit)  # H x W x f5
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)  # H x W x C
    bp = conv_unit(bp, pp, 1, name=f"{name}_pool_proj", **unit)  # H x W x pp
    return layers.Concatenate(axis=-1, name=name)([b1, b3, b5, bp])  # H x W x (f1 + f3 + f5 + pp)


def _three_by_three(x: keras.KerasTensor, filters: int, name: str, *, asymmetric: bool, **unit) -> keras.KerasTensor:
    """A 3x3 convolution unit, or a 1x3 unit as wide as its input then a 3x1 unit to ``filters``.

    The 1x3 keeps its input's width, as Keras's InceptionV3 keeps the reduction's width in its
    1x7 convolutions.
    """
    if not asymmetric:
        return conv_unit(x, filters, 3, name=name, **unit)  # H x W x filters
    x = conv_unit(x, int(x.shape[-1]), (1, 3), name=f"{name}_1x3", **unit)  # H x W x C
    return conv_unit(x, filters, (3, 1), name=f"{name}_3x1", **unit)  # H x W x filters


def grid_reduction(
    x: keras.KerasTensor,
    filters: int,
    *,
    order: str,
    kernel: int = 3,
    name: str = "reduction",
    batch_norm: bool = False,
) -> keras.KerasTensor:
    """Halve the grid and widen the channels to ``filters`` in one of Inception-v3's three orders.

    ``"conv_pool"`` convolves on the large grid, then max-pools (3x3/2); ``"pool_conv"``
    pools first and convolves on the small grid (a quarter of the cost, and a representation of
    only ``C`` channels on the small grid between them: the "representational bottleneck");
    ``"parallel"`` puts a stride-2 convolution with ``filters - C`` channels beside the stride-2
    pool and concatenates them (the paper's section 5; its Figure 10 adds 1x1 reductions inside
    the convolution branches, left out here so that the three orders differ only in order).

    Args:
        x: input feature map (batch, H, W, C), H and W even.
        filters: output channels; ``"parallel"`` needs more than C.
        order: one of :data:`GRID_REDUCTIONS`.
        kernel: the convolution's side.
        name: prefix of every layer; the output is ``<name>``.
        batch_norm: batch-normalised convolution.
    """
    choice("order", order, GRID_REDUCTIONS)
    f = width("filters", filters)
    channels = int(x.shape[-1])
    unit = {"batch_norm": batch_norm}
    if order == "conv_pool":
        x = conv_unit(x, f, kernel, name=f"{name}_conv", **unit)  # H x W x f
        return layers.MaxPooling2D(3, strides=2, padding="same", name=name)(x)  # H/2 x W/2 x f
    if order == "pool_conv":
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)  # H/2 x W/2 x C
        return conv_unit(x, f, kernel, name=name, **unit)  # H/2 x W/2 x f
    if f <= channels:
        raise ValueError(
            f"order 'parallel' concatenates the pooled input ({channels} channels) with a convolution, "
            f"so filters must exceed {channels}; got {f}"
        )
    conv = conv_unit(x, f - channels, kernel, strides=2, name=f"{name}_conv", **unit)  # H/2 x W/2 x (f - C)
    pool = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)  # H/2 x W/2 x C
    return layers.Concatenate(axis=-1, name=name)([conv, pool])  # H/2 x W/2 x f


def extreme_inception(
    x: keras.KerasTensor, filters: int, *, kernel: int = 3, name: str = "extreme"
) -> keras.KerasTensor:
    """Xception's "extreme" inception module: a 1x1 convolution, then one k x k filter per channel.

    The order is the reverse of a depthwise separable convolution (spatial first, then 1x1),
    which Xception's paper counts among the "two minor differences" between the two.

    Args:
        x: input feature map (batch, H, W, C).
        filters: channels of the 1x1 convolution (and of the output).
        kernel: the per-channel filters' side.
        name: prefix of every layer; the output is ``<name>``.
    """
    f = width("filters", filters)
    x = layers.Conv2D(f, 1, activation="relu", name=f"{name}_1x1")(x)  # H x W x f
    return layers.DepthwiseConv2D(kernel, padding="same", activation="relu", name=name)(x)  # H x W x f


def inception_from_widths(
    x: keras.KerasTensor, widths: tuple[int, int, int, int, int, int], **options
) -> keras.KerasTensor:
    """:func:`inception_module` from one row of a Table 1 style width table.

    Args:
        x: input feature map.
        widths: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), Table 1's column order.
        **options: the other arguments of :func:`inception_module` (``name``, ``batch_norm``...).
    """
    f1, r3, f3, r5, f5, pp = widths
    return inception_module(
        x, filters_1x1=f1, reduce_3x3=r3, filters_3x3=f3, reduce_5x5=r5, filters_5x5=f5, pool_proj=pp, **options
    )


def branch_of(layer_name: str, module: str) -> str | None:
    """Which branch of ``module`` a layer belongs to ('1x1', '3x3', '5x5', 'pool'), else None.

    Args:
        layer_name: a layer's name.
        module: the module's name.
    """
    prefix = f"{module}_"
    if not layer_name.startswith(prefix):
        return None
    rest = layer_name[len(prefix) :]
    for branch in ("3x3", "5x5", "pool", "1x1"):  # '1x1' last: it is never a prefix of the others
        if rest.startswith(branch):
            return branch
    return None


def conv_chain_model(
    input_shape: tuple[int, int, int], convolutions: Sequence[tuple[int, int | tuple[int, int]]], name: str = "chain"
) -> keras.Model:
    """A model of plain stacked 'same' convolutions (no bias), to price one factorisation.

    Layers are named ``c0``, ``c1``... in order.

    Args:
        input_shape: (height, width, channels) of the input.
        convolutions: ``(filters, kernel)`` per layer, kernel square (``3``) or ``(height, width)``.
        name: the model's name.
    """
    if not convolutions:
        raise ValueError("convolutions is empty: give at least one (filters, kernel) pair")
    inputs = keras.Input(shape=input_shape, name="input")
    x = inputs
    for i, (filters, kernel) in enumerate(convolutions):
        x = layers.Conv2D(width("filters", filters), kernel, padding="same", use_bias=False, name=f"c{i}")(x)
    return keras.Model(inputs, x, name=name)


def single_block_model(
    block,
    input_shape: tuple[int, int, int] = (28, 28, 256),
    name: str = "inception",
    **widths: int,
) -> keras.Model:
    """Wrap one block (``naive_inception`` or ``inception_module``) in a model of its own.

    Args:
        block: the block function.
        input_shape: the block's input (height, width, channels), chapter 3's 28x28x256 by default.
        name: the block's name.
        **widths: the block's width arguments (``filters_1x1=...``).
    """
    inputs = keras.Input(shape=input_shape, name="input")
    outputs = block(inputs, name=name, **widths)
    return keras.Model(inputs, outputs, name=f"{name}_model")
