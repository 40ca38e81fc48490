"""Exact cost accounting: output sizes, parameters and multiply-adds of built Keras models.

Convention (the one the GoogLeNet paper and the CS231n example use for "ops"):

* A **multiply-add** (MAC) is one multiplication of a weight by an input plus its accumulation.
  A convolution producing an ``H x W x C_out`` map from ``C_in`` channels with a ``k_h x k_w``
  kernel costs ``H * W * C_out * k_h * k_w * C_in / groups`` MACs; a dense layer costs
  ``inputs * outputs`` per position it is applied at.
* **Biases are not counted** as MACs (an addition, not a multiply-add) but are counted as
  parameters.
* **Pooling, activations, concatenation, normalisation and dropout cost 0 MACs**: they have no
  weights to multiply by (batch normalisation folds into the preceding convolution at inference).
* **Parameters** are every weight of a layer, trainable or not, as Keras counts them
  (``layer.count_params()``); batch normalisation's moving statistics are included there and
  reported separately by :func:`trainable_params`.

Counts are read from the layers of a built model (kernel shapes, output shapes), never re-typed;
:func:`conv2d_macs` is the closed form the tests compare against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras

from .checks import integer


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output height/width of a convolution or pooling: ``(W - F + 2P) / S + 1``.

    Raises ``ValueError`` when the combination does not tile the input exactly (a
    non-integer result) or leaves no output at all.

    Args:
        size: input height or width in pixels.
        kernel: kernel (or pool window) size in pixels.
        stride: step in pixels.
        padding: zero padding added on each side, in pixels.
    """
    for name, value, minimum in (
        ("size", size, 1),
        ("kernel", kernel, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
    ):
        integer(name, value, minimum=minimum)
    span = size - kernel + 2 * padding
    if span < 0:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size} + 2*{padding}: no output position")
    if span % stride:
        raise ValueError(
            f"(W - F + 2P) / S + 1 = ({size} - {kernel} + 2*{padding}) / {stride} + 1 = "
            f"{span / stride + 1:g} is not an integer: this stride does not tile the input; "
            f"change the padding or the stride"
        )
    return span // stride + 1


def same_padding_output_size(size: int, stride: int = 1) -> int:
    """Output size of Keras's ``padding='same'``: ``ceil(size / stride)``.

    Args:
        size: input height or width in pixels.
        stride: step in pixels.
    """
    return math.ceil(size / stride)


def conv2d_macs(
    height: int,
    width: int,
    in_channels: int,
    out_channels: int,
    kernel: int | tuple[int, int],
    stride: int = 1,
    padding: str = "same",
) -> int:
    """Closed-form multiply-adds of one 2-D convolution (no biases), for cross-checking.

    Args:
        height, width: the input's spatial size.
        in_channels: channels read.
        out_channels: channels written (filters).
        kernel: kernel size, square or (height, width).
        stride: step in pixels.
        padding: ``"same"`` or ``"valid"``.
    """
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if padding == "same":
        out_h, out_w = same_padding_output_size(height, stride), same_padding_output_size(width, stride)
    elif padding == "valid":
        out_h = (height - kh) // stride + 1
        out_w = (width - kw) // stride + 1
    else:
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return out_h * out_w * out_channels * kh * kw * in_channels


def separable_conv2d_macs(height: int, width: int, in_channels: int, out_channels: int, kernel: int) -> int:
    """Closed-form multiply-adds of a depthwise separable convolution ('same', stride 1, no biases).

    A k x k filter per input channel (``H W C k^2``), then a 1x1 convolution to the output
    channels (``H W C N``); against a full k x k convolution (``H W C N k^2``) the ratio is
    ``1/N + 1/k^2``.

    Args:
        height, width: the input's spatial size.
        in_channels: channels read (each gets its own k x k filter).
        out_channels: channels written by the pointwise 1x1 convolution.
        kernel: the depthwise filter's side.
    """
    return height * width * in_channels * (kernel * kernel + out_channels)


def conv2d_params(in_channels: int, out_channels: int, kernel: int | tuple[int, int], bias: bool = True) -> int:
    """Closed-form parameter count of one 2-D convolution.

    Args:
        in_channels: channels read.
        out_channels: filters.
        kernel: kernel size, square or (height, width).
        bias: whether the convolution has a bias per filter.
    """
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return kh * kw * in_channels * out_channels + (out_channels if bias else 0)


@dataclass(frozen=True)
class LayerCost:
    """One layer's contribution: parameters and multiply-adds for a single input image."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


def _shape(tensor: object) -> tuple[int, ...]:
    if isinstance(tensor, (list, tuple)):  # a layer with several outputs (a split): their total
        shapes = [_shape(t) for t in tensor]
        return (*shapes[0][:-1], sum(s[-1] for s in shapes))
    shape = tuple(tensor.shape)
    return tuple(int(d) for d in shape[1:] if d is not None)


def _layer_macs(layer: keras.layers.Layer) -> int:
    if isinstance(layer, keras.layers.SeparableConv2D):  # k x k per input channel, then 1x1 across channels
        kh, kw, cin, multiplier = layer.depthwise_kernel.shape
        out = _shape(layer.output)
        return out[0] * out[1] * int(cin) * int(multiplier) * (int(kh) * int(kw) + out[2])
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw, cin, multiplier = layer.kernel.shape
        out = _shape(layer.output)
        return out[0] * out[1] * int(cin) * int(multiplier) * int(kh) * int(kw)
    if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.Conv2DTranspose):
        kh, kw, cin_per_group, cout = layer.kernel.shape
        out = _shape(layer.output)
        return out[0] * out[1] * int(cout) * int(kh) * int(kw) * int(cin_per_group)
    if isinstance(layer, keras.layers.Dense):
        n_in, n_out = layer.kernel.shape
        positions = math.prod(_shape(layer.output)[:-1])
        return positions * int(n_in) * int(n_out)
    if layer.weights and not isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Normalization)):
        raise NotImplementedError(
            f"layer {layer.name!r} ({type(layer).__name__}) has weights but no MAC rule; "
            f"add one to googlenet.cost before counting this model"
        )
    return 0


def layer_costs(model: keras.Model) -> list[LayerCost]:
    """Per-layer parameters and MACs of a built functional model, nested models flattened.

    Args:
        model: a built functional Keras model (a subclassed one has no graph to read).
    """
    rows: list[LayerCost] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):  # a nested functional model: count its layers
            rows.extend(layer_costs(layer))
            continue
        rows.append(
            LayerCost(
                name=layer.name,
                kind=type(layer).__name__,
                output_shape=_shape(layer.output),
                params=int(layer.count_params()),
                macs=_layer_macs(layer),
            )
        )
    return rows


def total_macs(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of one image.

    Args:
        model: a built functional Keras model.
    """
    return sum(row.macs for row in layer_costs(model))


def total_params(model: keras.Model) -> int:
    """All parameters (trainable and not), as ``model.count_params()``.

    Args:
        model: a built Keras model.
    """
    return int(model.count_params())


def trainable_params(model: keras.Model) -> int:
    """Trainable parameters only (excludes batch normalisation's moving statistics).

    Args:
        model: a built Keras model.
    """
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def inbound_layer_names(layer_config: dict) -> set[str]:
    """Names of the layers feeding one layer, read from a functional model's (public) config.

    Args:
        layer_config: one entry of ``model.get_config()["layers"]``.
    """
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            history = (
                node.get("config", {}).get("keras_history") if node.get("class_name") == "__keras_tensor__" else None
            )
            if history:
                names.add(history[0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(layer_config.get("inbound_nodes", []))
    return names


def conv_depths(model: keras.Model) -> dict[str, int]:
    """For every layer, the convolutions on the longest path from the input to its output.

    Args:
        model: a built functional Keras model.
    """
    depth: dict[str, int] = {}
    for entry in model.get_config()["layers"]:  # functional configs list layers in topological order
        below = max((depth[name] for name in inbound_layer_names(entry) if name in depth), default=0)
        depth[entry["name"]] = below + isinstance(model.get_layer(entry["name"]), keras.layers.Conv2D)
    return depth


def conv_depth(model: keras.Model) -> int:
    """Convolutions on the longest input-to-output path of a functional model.

    The depth a "too shallow" argument is about: parallel branches count once, so an
    inception module adds two (1x1 reduction, then 3x3 or 5x5), a VGG stage its stacked convs.
    Read from the model's public config (its layers in topological order, each with its inputs).

    Args:
        model: a built functional Keras model.
    """
    return max(conv_depths(model).values(), default=0)


def group_costs(model: keras.Model, key) -> dict[str, tuple[int, int]]:
    """Sum (params, MACs) over layers grouped by ``key(layer_name)`` (``None`` drops a layer).

    Args:
        model: a built functional Keras model.
        key: maps a layer name to its group, or ``None`` to leave the layer out.
    """
    groups: dict[str, tuple[int, int]] = {}
    for row in layer_costs(model):
        group = key(row.name)
        if group is None:
            continue
        params, macs = groups.get(group, (0, 0))
        groups[group] = (params + row.params, macs + row.macs)
    return groups


def format_count(value: int, unit: str = "") -> str:
    """Human scale for prose: 854,196,224 -> '854.2M'.

    Args:
        value: the count.
        unit: appended after the scale letter.
    """
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= threshold:
            return f"{value / threshold:.1f}{suffix}{unit}"
    return f"{value}{unit}"


def elements_at_first_reduction(model: keras.Model) -> int:
    """Activations (per image) of the layers that first shrink the grid, summed over parallel branches.

    For every layer whose input has the model input's height and width and whose output is
    smaller, its output's elements are counted: the representation a grid-size reduction leaves
    (Inception-v3's "representational bottleneck" when it is small).

    Args:
        model: a built functional model with one image input.

    Raises ``ValueError`` when no layer reduces the grid.
    """
    grid = tuple(int(d) for d in model.input.shape[1:3])
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        out = _shape(layer.output)
        if len(out) == 3 and all(tuple(int(d) for d in t.shape[1:3]) == grid for t in inputs) and out[:2] < grid:
            total += math.prod(out)
    if not total:
        raise ValueError(f"no layer of {model.name!r} makes the {grid[0]}x{grid[1]} grid smaller")
    return total
