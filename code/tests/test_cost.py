from __future__ import annotations

import keras
import pytest
from keras import layers

from googlenet import cost, module_cost
from googlenet.models import improved, note, vgg


@pytest.mark.parametrize(
    "size, kernel, stride, padding, expected",
    [
        (28, 1, 1, 0, 28),
        (28, 3, 1, 1, 28),
        (28, 5, 1, 2, 28),
        (224, 7, 2, 3, 112.5),
        (227, 11, 4, 0, 55),
        (7, 7, 1, 0, 1),
    ],
)
def test_conv_output_size(size, kernel, stride, padding, expected):
    if isinstance(expected, float):
        with pytest.raises(ValueError, match="not an integer"):
            cost.conv_output_size(size, kernel, stride, padding)
    else:
        assert cost.conv_output_size(size, kernel, stride, padding) == expected


@pytest.mark.parametrize(
    "args, message",
    [
        ((3, 5, 1, 0), "no output"),
        ((0, 1), "size"),
        ((8, 0), "kernel"),
        ((8, 3, 0), "stride"),
        ((8, 3, 1, -1), "padding"),
        ((8.0, 3), "size"),
    ],
)
def test_conv_output_size_rejects(args, message):
    with pytest.raises(ValueError, match=message):
        cost.conv_output_size(*args)


def _single_conv(h, w, cin, cout, k, stride, padding, use_bias=True):
    inputs = keras.Input((h, w, cin))
    outputs = layers.Conv2D(cout, k, strides=stride, padding=padding, use_bias=use_bias, name="c")(inputs)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    "h, w, cin, cout, k, stride, padding",
    [
        (28, 28, 256, 128, 1, 1, "same"),
        (28, 28, 256, 192, 3, 1, "same"),
        (28, 28, 256, 96, 5, 1, "same"),
        (224, 224, 3, 64, 7, 2, "same"),
        (227, 227, 3, 96, 11, 4, "valid"),
        (13, 17, 8, 4, 3, 2, "valid"),
        (15, 15, 6, 10, (1, 3), 1, "same"),
        (9, 9, 5, 7, 3, 3, "same"),
    ],
)
def test_counter_matches_closed_form(h, w, cin, cout, k, stride, padding):
    model = _single_conv(h, w, cin, cout, k, stride, padding)
    (row,) = cost.layer_costs(model)
    assert row.macs == cost.conv2d_macs(h, w, cin, cout, k, stride, padding)
    assert row.params == cost.conv2d_params(cin, cout, k)
    assert row.output_shape == tuple(model.output.shape[1:])


def test_bias_counts_as_parameter_not_mac():
    with_bias = cost.layer_costs(_single_conv(8, 8, 4, 6, 3, 1, "same"))[0]
    without = cost.layer_costs(_single_conv(8, 8, 4, 6, 3, 1, "same", use_bias=False))[0]
    assert with_bias.macs == without.macs
    assert with_bias.params - without.params == 6


def test_dense_pool_bn_concat_convention():
    inputs = keras.Input((6, 6, 4))
    a = layers.Conv2D(3, 1, name="a")(inputs)
    b = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")(inputs)
    x = layers.Concatenate(name="cat")([a, b])
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(5, name="fc")(x)
    model = keras.Model(inputs, outputs)
    rows = {r.name: r for r in cost.layer_costs(model)}
    assert rows["a"].macs == 6 * 6 * 3 * 4
    assert rows["pool"].macs == rows["cat"].macs == rows["bn"].macs == rows["gap"].macs == 0
    assert rows["bn"].params == 4 * 7  # gamma, beta, moving mean, moving variance
    assert rows["fc"].macs == 7 * 5 and rows["fc"].params == 7 * 5 + 5
    assert cost.total_params(model) == sum(r.params for r in rows.values())
    assert cost.trainable_params(model) == cost.total_params(model) - 2 * 7
    assert cost.total_macs(model) == 6 * 6 * 3 * 4 + 35


def test_dense_on_feature_map_counts_every_position():
    inputs = keras.Input((5, 5, 8))
    model = keras.Model(inputs, layers.Dense(3, name="d")(inputs))
    assert cost.total_macs(model) == 25 * 8 * 3


def test_nested_model_is_flattened():
    inner_in = keras.Input((8, 8, 3))
    inner = keras.Model(inner_in, layers.Conv2D(4, 3, padding="same", name="inner_conv")(inner_in), name="inner")
    outer_in = keras.Input((8, 8, 3))
    outer = keras.Model(outer_in, layers.Conv2D(2, 1, name="outer_conv")(inner(outer_in)))
    names = [r.name for r in cost.layer_costs(outer)]
    assert names == ["inner_conv", "outer_conv"]
    assert cost.total_macs(outer) == cost.conv2d_macs(8, 8, 3, 4, 3) + cost.conv2d_macs(8, 8, 4, 2, 1)


def test_unknown_weighted_layer_is_refused():
    inputs = keras.Input((4,), dtype="int32")
    model = keras.Model(inputs, layers.Embedding(10, 3, name="emb")(inputs))
    with pytest.raises(NotImplementedError, match="emb"):
        cost.layer_costs(model)


def test_group_costs_sums_by_key():
    model = _single_conv(8, 8, 4, 6, 3, 1, "same")
    groups = cost.group_costs(model, lambda name: "all")
    assert groups == {"all": (cost.total_params(model), cost.total_macs(model))}


@pytest.mark.parametrize(
    "value, text", [(854_196_224, "854.2M"), (1_500, "1.5K"), (999, "999"), (2_000_000_000, "2.0G")]
)
def test_format_count(value, text):
    assert cost.format_count(value) == text


def test_conv_depth_counts_the_longest_path_of_convolutions():
    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 1)(inputs)
    b = keras.layers.Conv2D(2, 3, padding="same")(keras.layers.Conv2D(2, 1)(inputs))
    model = keras.Model(inputs, keras.layers.Concatenate()([a, b]))
    assert cost.conv_depth(model) == 2  # parallel branches count once
    assert cost.conv_depth(vgg.vgg_net()) == 6
    assert cost.conv_depth(improved.improved_net()) == 2 + 2 * 5  # stem, then two per module
    assert cost.conv_depth(improved.improved_net(fast=False)) == cost.conv_depth(improved.improved_net())
    assert cost.conv_depth(improved.improved_net(num_modules=9, aux_heads=True)) == 2 + 2 * 9
    assert cost.conv_depth(note.writeup_functional()) == 1 + 2 * 5


def test_module_closed_forms_match_built_models():
    from googlenet import blocks

    widths = {"filters_1x1": 128, "filters_3x3": 192, "filters_5x5": 96}
    naive = blocks.single_block_model(blocks.naive_inception, name="n", **widths)
    assert cost.total_macs(naive) == module_cost.naive_inception_macs(28, 28, 256, 128, 192, 96)
    for r in (16, 64):
        m = blocks.single_block_model(
            blocks.inception_module, name="m", reduce_3x3=r, reduce_5x5=r, pool_proj=64, **widths
        )
        assert cost.total_macs(m) == module_cost.inception_macs(28, 28, 256, 128, r, 192, r, 96, 64)


def test_reduction_break_even_is_exact():
    # Chapter 4's module: 784 x (49,152 + 4,640 r) against the naive module's 784 x 1,089,536.
    r = module_cost.reduction_break_even(28, 28, 256, 128, 192, 96, 64)
    assert r == pytest.approx((1_089_536 - 49_152) / 4_640)
    assert 224 < r < 225


def test_reduction_cost_line_gives_the_module_cost_at_every_width():
    a, b = module_cost.reduction_cost_line(28, 28, 256, 128, 192, 96, 64)
    assert (a, b) == (784 * 49_152, 784 * 4_640)  # chapter 4's per-pixel terms
    for r in (1, 16, 64, 200):
        assert a + b * r == module_cost.inception_macs(28, 28, 256, 128, r, 192, r, 96, 64)
