"""The book's reduced GoogLeNet for 28x28 Fashion-MNIST ("the improved build").

Raw pixels 0-255 shaped (28, 28, 1) in, class logits out, so a saved model needs no
preprocessing outside it. Its recipe (optimiser, schedule, augmentation) is in
:mod:`googlenet.recipes`; this module holds only the network.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ..blocks import MODULE_STYLES, conv_unit, inception_from_widths
from ..checks import choice, fraction, integer, positive_int, positive_ints, positive_scale
from ..data import INPUT_SHAPE, NUM_CLASSES
from .heads import MAIN, gap_aux_head, paper_aux_head

# Widths per module (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) at scale 1.0:
# GoogLeNet's 3a, 3b, 4a, 4b, 4c, 4d, 4e, 5a, 5b divided by 4 (rounded).
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
POOL_AFTER_MODULES = (2, 7)
"""A 3x3/2 max pool follows these modules (as GoogLeNet pools after 3b and 4e)."""
AUX_AFTER_MODULES = (3, 6)
"""Where the optional auxiliary heads sit (GoogLeNet's 4a and 4d)."""
AUX_UNITS = 128
"""Hidden units of each auxiliary head at ``width=1.0``."""
AUX_DROPOUT = 0.5
"""Dropout inside each auxiliary head (the paper's heads use 0.7; these are smaller)."""


def improved_net(
    num_modules: int = 5,
    width: float = 1.0,
    *,
    aux_heads: bool = False,
    dropout: float = 0.2,
    stem_filters: int = 32,
    bn_momentum: float = 0.9,
    fast: bool = True,
    aux_style: str = "gap",
    batch_norm: bool = True,
    stem_stride: int = 2,
    module_pools: bool = True,
    widths: tuple[tuple[int, int, int, int, int, int], ...] | None = None,
    module_style: str = "v1",
    name: str = "improved_googlenet",
) -> keras.Model:
    """The book's reduced GoogLeNet for 28x28 inputs.

    A batch-normalised stem halves the resolution to 14x14 before the modules (the modules are
    the expensive part, and 28x28 maps made the study note's build slow). The first two
    modules run at 14x14, a max pool halves to 7x7 for the rest, as GoogLeNet pools after 3b.
    With 9 modules a second pool after the seventh (as after 4e) brings the last two to 4x4.

    Args:
        num_modules: inception modules, 1 to 9, taking :data:`IMPROVED_WIDTHS` in order.
        width: scale factor of every branch and of the stem's second convolution.
        aux_heads: add :func:`~googlenet.models.heads.gap_aux_head` heads after modules 3 and
            6 (outputs ``main``, ``aux1``, ``aux2``); needs at least 6 modules.
        dropout: dropout before the main classifier.
        stem_filters: channels of the stem's first convolution.
        bn_momentum: batch norm's moving-average momentum, Keras convention: 0.9 (PyTorch's
            default) rather than Keras's 0.99, so test-time statistics keep up with weights
            that move fast early in a short run.
        fast: the fused layers of :mod:`googlenet.fused` (same function, quicker on a CPU);
            ``False`` builds the plain ones.
        aux_style: ``"gap"`` (the book's small heads) or ``"paper"`` (the paper's head scaled by
            four: 5x5/3 average pool, 1x1 convolution with 32 filters, 256 units, 70% dropout).
        batch_norm: batch-normalised convolutions; ``False`` gives convolution + bias + ReLU, the
            2014 setting (and no fused layers).
        stem_stride: 2 (the book: modules from 14x14) or 1 (modules from 28x28, as in the note).
        module_pools: the max pools between modules (after modules 2 and 7); ``False`` keeps every
            module at the stem's resolution, as the note does.
        widths: a width table to use instead of :data:`IMPROVED_WIDTHS` (same six columns).
        module_style: how the modules build their 3x3 and 5x5 branches, one of
            :data:`googlenet.blocks.MODULE_STYLES` (``"v1"``: GoogLeNet's; ``"factorised"``,
            ``"asymmetric"``: Inception-v3's; ``"separable"``: Xception's).
        name: the model's name.
    """
    integer("num_modules", num_modules, minimum=1, maximum=len(IMPROVED_WIDTHS))
    positive_scale("width", width)
    if aux_heads and num_modules < max(AUX_AFTER_MODULES):
        raise ValueError(
            f"aux_heads needs at least {max(AUX_AFTER_MODULES)} modules (heads after modules "
            f"{' and '.join(map(str, AUX_AFTER_MODULES))}), got {num_modules}"
        )
    fraction("dropout", dropout)
    positive_int("stem_filters", stem_filters)
    choice("aux_style", aux_style, ("gap", "paper"))
    choice("stem_stride", stem_stride, (1, 2))
    choice("module_style", module_style, MODULE_STYLES)
    table = IMPROVED_WIDTHS if widths is None else tuple(tuple(positive_ints("widths row", row)) for row in widths)
    if len(table) < num_modules or any(len(row) != 6 for row in table):
        raise ValueError(f"widths must have {num_modules} rows of six widths, got {len(table)} rows")
    fast = fast and batch_norm

    def scaled(n: int) -> int:
        return max(1, round(n * width))

    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")  # 28 x 28 x 1, pixels 0-255
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    unit = {"batch_norm": batch_norm, "bn_momentum": bn_momentum, "fast": fast}
    x = conv_unit(x, stem_filters, 3, name="stem_conv1", **unit)  # 28 x 28 x 32
    x = conv_unit(x, scaled(64), 3, strides=stem_stride, name="stem_conv2", **unit)  # 14 x 14 x 64
    aux = []
    # modules 1-2: 14 x 14 x 64, 120; pool -> 7 x 7; modules 3-7: 7 x 7 x 128, 128, 128, 132, 208;
    # (9 modules) pool -> 4 x 4; modules 8-9: 4 x 4 x 208, 256.
    for i, row in enumerate(table[:num_modules], start=1):
        x = inception_from_widths(x, tuple(scaled(w) for w in row), name=f"inception_{i}", style=module_style, **unit)
        if module_pools and i in POOL_AFTER_MODULES and i < num_modules:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{i}")(x)
        if aux_heads and i in AUX_AFTER_MODULES:
            head = f"aux{len(aux) + 1}"
            if aux_style == "paper":  # the paper's head, widths divided by four like the modules'
                logits = paper_aux_head(
                    x, NUM_CLASSES, head, batch_norm=batch_norm, dropout=0.7, conv_filters=scaled(32), units=scaled(256)
                )  # on 7 x 7: the 5x5/3 pool leaves 1 x 1
                aux.append(layers.Identity(name=head)(logits))
            else:
                aux.append(gap_aux_head(x, NUM_CLASSES, head, units=scaled(AUX_UNITS), dropout=AUX_DROPOUT))
    x = layers.GlobalAveragePooling2D(name="gap")(x)  # channels of the last module
    x = layers.Dropout(dropout, name="dropout")(x)
    main = layers.Dense(NUM_CLASSES, name=MAIN)(x)  # 10
    if aux:
        return keras.Model(inputs, {MAIN: main, "aux1": aux[0], "aux2": aux[1]}, name=name)
    return keras.Model(inputs, main, name=name)


def module_widths(model: keras.Model) -> Sequence[int]:
    """Output depth of every inception module of an improved build, in order.

    Args:
        model: an improved build.
    """
    return [
        int(layer.output.shape[-1])
        for layer in model.layers
        if layer.name.startswith("inception_") and isinstance(layer, layers.Concatenate)
    ]
