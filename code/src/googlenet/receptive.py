"""Receptive fields: how much of the input image each layer of a built model can see.

For a layer with kernel ``k``, stride ``s`` and dilation ``d`` the textbook recurrences are::

    field_out = field_in + (d (k - 1)) * jump_in        jump_out = jump_in * s

where *jump* is the distance, in input pixels, between neighbouring positions of the layer's
map (the cumulative stride). Parallel branches that are concatenated see the union of their
fields: the widest branch's. These are *theoretical* fields (every pixel that can influence an
output at all); the effective field, where most of the influence lies, is smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from .cost import inbound_layer_names

# Layers that change neither field nor jump (element-wise, per-channel or bookkeeping).
_PASS_THROUGH = (
    keras.layers.InputLayer,
    keras.layers.BatchNormalization,
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.Dropout,
    keras.layers.Rescaling,
    keras.layers.Identity,
)
_PASS_THROUGH_NAMES = {"LocalResponseNormalization", "SplitChannels", "FusedBatchNormalization"}
_MERGES = (keras.layers.Concatenate, keras.layers.Add, keras.layers.Multiply, keras.layers.Average)
_GLOBAL = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D, keras.layers.Flatten)


@dataclass(frozen=True)
class Field:
    """A layer's receptive field and jump, per axis (height, width), in input pixels.

    ``size`` is ``None`` for layers that see the whole input (after global pooling or flatten).
    """

    size: tuple[int, int] | None
    jump: tuple[int, int]

    @property
    def square(self) -> int | None:
        """The field's side when it is square, else ``None`` (also for a global field)."""
        return self.size[0] if self.size and self.size[0] == self.size[1] else None


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _window(layer) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """(kernel, stride, dilation) of a sliding-window layer, or None."""
    if isinstance(layer, keras.layers.Conv2D | keras.layers.SeparableConv2D | keras.layers.DepthwiseConv2D):
        return _pair(layer.kernel_size), _pair(layer.strides), _pair(layer.dilation_rate)
    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        return _pair(layer.pool_size), _pair(layer.strides), (1, 1)
    return None


def receptive_fields(model: keras.Model) -> dict[str, Field]:
    """The receptive field and jump of every layer of a built functional model, by layer name.

    Args:
        model: a functional Keras model whose layers are convolutions, pools, merges and
            element-wise layers (as every builder of :mod:`googlenet.models` makes).

    Raises ``ValueError`` for a model without convolutions or pools, a layer type the
    recurrences do not cover (naming the layer), or branches with different jumps merged.
    """
    if not any(_window(layer) for layer in model.layers):
        raise ValueError(f"model {model.name!r} has no convolutions or pools: every layer sees one pixel")
    fields: dict[str, Field] = {}
    for entry in model.get_config()["layers"]:
        layer = model.get_layer(entry["name"])
        parents = [fields[name] for name in inbound_layer_names(entry) if name in fields]
        if isinstance(layer, keras.layers.InputLayer) or not parents:
            fields[layer.name] = Field((1, 1), (1, 1))
            continue
        window = _window(layer)
        if window is not None:
            (parent,) = parents
            if parent.size is None:
                raise ValueError(f"layer {layer.name!r} slides a window over a global feature; not supported")
            kernel, stride, dilation = window
            size = tuple(
                f + d * (k - 1) * j for f, k, d, j in zip(parent.size, kernel, dilation, parent.jump, strict=True)
            )
            fields[layer.name] = Field(size, tuple(j * s for j, s in zip(parent.jump, stride, strict=True)))
        elif isinstance(layer, _MERGES):
            jumps = {p.jump for p in parents}
            if len(jumps) > 1:
                raise ValueError(f"layer {layer.name!r} merges branches with different strides {sorted(jumps)}")
            sizes = [p.size for p in parents]
            merged = None if None in sizes else tuple(max(axis) for axis in zip(*sizes, strict=True))
            fields[layer.name] = Field(merged, parents[0].jump)
        elif isinstance(layer, _GLOBAL):
            fields[layer.name] = Field(None, parents[0].jump)
        elif isinstance(layer, keras.layers.Dense):  # on a global feature it stays global; on a map it is per pixel
            fields[layer.name] = parents[0]
        elif isinstance(layer, _PASS_THROUGH) or type(layer).__name__ in _PASS_THROUGH_NAMES:
            fields[layer.name] = parents[0]
        else:
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) has no receptive-field rule; "
                f"add one to googlenet.receptive before measuring this model"
            )
    return fields
