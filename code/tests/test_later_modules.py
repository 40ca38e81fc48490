"""The modules that followed GoogLeNet: closed forms equal built layers, fields, and the papers' ratios."""

from __future__ import annotations

from fractions import Fraction

import keras
import pytest

from googlenet import blocks, cost, module_cost, receptive

CH5 = (128, 64, 192, 64, 96, 64)  # chapter 5's module on 28x28x256
ODD = (5, 3, 7, 2, 9, 4)


def module(widths, style, input_shape=(28, 28, 256), **options):
    return blocks.single_block_model(
        lambda x, name: blocks.inception_from_widths(x, widths, name=name, style=style, **options),
        input_shape=input_shape,
        name=style,
    )


def single(layer_fn, input_shape):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layer_fn(inputs))


@pytest.mark.parametrize("style", blocks.MODULE_STYLES)
@pytest.mark.parametrize(("widths", "input_shape"), [(CH5, (28, 28, 256)), (ODD, (9, 7, 6))])
def test_closed_form_equals_the_built_module(style, widths, input_shape):
    model = module(widths, style, input_shape)
    h, w, c = input_shape
    assert cost.total_macs(model) == module_cost.styled_inception_macs(h, w, c, widths, style)
    # every style keeps the four branches' output widths
    assert tuple(model.output.shape[1:]) == (h, w, widths[0] + widths[2] + widths[4] + widths[5])


@pytest.mark.parametrize("style", blocks.MODULE_STYLES)
def test_every_style_sees_a_5x5_window_and_torchvisions_variant_only_3x3(style):
    assert receptive.receptive_fields(module(CH5, style))[style].square == 5
    torchvision = module(CH5, "v1", kernel_5x5=3)
    assert receptive.receptive_fields(torchvision)["v1"].square == 3


@pytest.mark.parametrize("style", blocks.MODULE_STYLES)
def test_batch_normalised_and_fused_styles_count_the_same_multiply_adds(style):
    plain = module(ODD, style, (9, 7, 6))
    fused = module(ODD, style, (9, 7, 6), batch_norm=True, fast=True)
    assert cost.total_macs(fused) == cost.total_macs(plain)


def test_v1_style_is_the_books_module_unchanged():
    reduced = blocks.single_block_model(
        blocks.inception_module,
        name="v1",
        **dict(
            zip(
                ("filters_1x1", "reduce_3x3", "filters_3x3", "reduce_5x5", "filters_5x5", "pool_proj"), CH5, strict=True
            )
        ),
    )
    assert cost.total_macs(module(CH5, "v1")) == cost.total_macs(reduced) == 271_351_808
    assert module_cost.styled_inception_macs(28, 28, 256, CH5, "v1") == module_cost.inception_macs(28, 28, 256, *CH5)


def test_styles_name_their_layers_by_branch():
    model = module(CH5, "asymmetric")
    branches = {layer.name: blocks.branch_of(layer.name, "asymmetric") for layer in model.layers}
    assert branches["asymmetric_5x5_b_3x1"] == "5x5" and branches["asymmetric_3x3_1x3"] == "3x3"


def test_bad_styles_are_refused_with_the_choices():
    inputs = keras.Input((8, 8, 4))
    with pytest.raises(ValueError, match="style"):
        blocks.inception_from_widths(inputs, ODD, style="v3")
    with pytest.raises(ValueError, match="needs 5"):
        blocks.inception_from_widths(inputs, ODD, style="factorised", kernel_5x5=3)
    with pytest.raises(ValueError, match="style"):
        module_cost.styled_inception_macs(8, 8, 4, ODD, "v3")


def _ratio(cheap, dear):
    return Fraction(cost.total_macs(cheap), cost.total_macs(dear))


def test_inception_v3s_factorisation_ratios_from_built_layers():
    """Section 3: (9 + 9)/25 for two 3x3s (a 28% gain), 33% for 3x1 + 1x3, 11% for two 2x2s."""
    m = 16

    def chain(*kernels):
        return blocks.conv_chain_model((12, 12, m), [(m, k) for k in kernels])

    assert _ratio(chain(3, 3), chain(5)) == Fraction(18, 25)
    assert 1 - Fraction(18, 25) == Fraction(28, 100)
    assert _ratio(chain((3, 1), (1, 3)), chain(3)) == Fraction(2, 3)
    assert _ratio(chain(2, 2), chain(3)) == Fraction(8, 9)
    # the same receptive field as the convolution they replace (two 2x2s: 3 as well)
    for kernels, side in (((3, 3), 5), (((3, 1), (1, 3)), 3), ((2, 2), 3)):
        assert receptive.receptive_fields(chain(*kernels))[f"c{len(kernels) - 1}"].square == side


@pytest.mark.parametrize(("n", "k"), [(32, 3), (96, 5), (7, 1)])
def test_a_separable_convolution_costs_one_over_n_plus_one_over_k_squared(n, k):
    full = single(lambda x: keras.layers.Conv2D(n, k, padding="same", use_bias=False)(x), (10, 10, 12))
    separable = single(lambda x: keras.layers.SeparableConv2D(n, k, padding="same", use_bias=False)(x), (10, 10, 12))
    assert cost.total_macs(separable) == cost.separable_conv2d_macs(10, 10, 12, n, k)
    assert _ratio(separable, full) == Fraction(1, n) + Fraction(1, k * k)
    assert cost.total_params(separable) == 12 * (k * k + n)


def test_depthwise_convolution_with_a_multiplier():
    model = single(lambda x: keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")(x), (6, 6, 5))
    assert cost.total_macs(model) == 6 * 6 * 5 * 2 * 9
    assert receptive.receptive_fields(model)[model.layers[-1].name].square == 3


def test_extreme_inception_is_a_1x1_then_a_filter_per_channel():
    model = single(lambda x: blocks.extreme_inception(x, 48, name="x"), (14, 14, 32))
    assert cost.total_macs(model) == 14 * 14 * 48 * (32 + 9)
    assert tuple(model.output.shape[1:]) == (14, 14, 48)
    assert receptive.receptive_fields(model)["x"].square == 3


@pytest.mark.parametrize("order", blocks.GRID_REDUCTIONS)
@pytest.mark.parametrize("kernel", [1, 3])
def test_grid_reductions_closed_form_and_shape(order, kernel):
    model = single(lambda x: blocks.grid_reduction(x, 64, order=order, kernel=kernel), (16, 16, 32))
    assert cost.total_macs(model) == module_cost.grid_reduction_macs(16, 32, 64, order, kernel)
    assert tuple(model.output.shape[1:]) == (8, 8, 64)


def test_grid_reduction_reproduces_section_5s_arithmetic():
    """2 d^2 k^2 for convolving first, a quarter of it pooling first; the bottleneck halves."""
    d, k = 16, 32

    def built(order):
        return single(lambda x: blocks.grid_reduction(x, 2 * k, order=order, kernel=1), (d, d, k))

    assert cost.total_macs(built("conv_pool")) == 2 * d * d * k * k
    assert cost.total_macs(built("pool_conv")) == 2 * (d // 2) ** 2 * k * k
    assert cost.total_macs(built("parallel")) == cost.total_macs(built("pool_conv")) // 2
    elements = {order: cost.elements_at_first_reduction(built(order)) for order in blocks.GRID_REDUCTIONS}
    assert elements == {
        "conv_pool": (d // 2) ** 2 * 2 * k,
        "pool_conv": (d // 2) ** 2 * k,
        "parallel": (d // 2) ** 2 * 2 * k,
    }


def test_bad_grid_reductions_are_refused():
    inputs = keras.Input((8, 8, 16))
    with pytest.raises(ValueError, match="must exceed 16"):
        blocks.grid_reduction(inputs, 16, order="parallel")
    with pytest.raises(ValueError, match="order"):
        blocks.grid_reduction(inputs, 32, order="conv_then_pool")
    with pytest.raises(ValueError, match="order"):
        module_cost.grid_reduction_macs(8, 16, 32, "conv_then_pool")
    flat = single(lambda x: keras.layers.Conv2D(4, 3, padding="same")(x), (8, 8, 3))
    with pytest.raises(ValueError, match="smaller"):
        cost.elements_at_first_reduction(flat)


def test_a_chain_needs_convolutions():
    with pytest.raises(ValueError, match="empty"):
        blocks.conv_chain_model((8, 8, 3), [])
