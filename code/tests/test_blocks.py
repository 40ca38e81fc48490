from __future__ import annotations

import numpy as np
import pytest

from googlenet import blocks, cost, module_cost

NAIVE = {"filters_1x1": 128, "filters_3x3": 192, "filters_5x5": 96}
REDUCED = {
    "filters_1x1": 128,
    "reduce_3x3": 64,
    "filters_3x3": 192,
    "reduce_5x5": 64,
    "filters_5x5": 96,
    "pool_proj": 64,
}


def test_naive_module_shapes_and_depth():
    model = blocks.single_block_model(blocks.naive_inception, name="m", **NAIVE)
    assert model.output.shape[1:] == (28, 28, 128 + 192 + 96 + 256)
    for branch, depth in (("m_1x1", 128), ("m_3x3", 192), ("m_5x5", 96), ("m_pool", 256)):
        assert model.get_layer(branch).output.shape[1:] == (28, 28, depth)
    out = model(np.ones((1, 28, 28, 256), "float32"))
    assert out.shape == (1, 28, 28, 672)


def test_reduced_module_shapes():
    model = blocks.single_block_model(blocks.inception_module, name="m", **REDUCED)
    assert model.output.shape[1:] == (28, 28, 480)
    assert model.get_layer("m_3x3_reduce").output.shape[-1] == 64
    assert model.get_layer("m_pool_proj").output.shape[-1] == 64


def test_cs231n_example_exact_totals():
    naive = blocks.single_block_model(blocks.naive_inception, name="m", **NAIVE)
    reduced = blocks.single_block_model(blocks.inception_module, name="m", **REDUCED)
    hw = 28 * 28
    assert cost.total_macs(naive) == hw * 256 * (128 + 192 * 9 + 96 * 25) == 854_196_224
    assert cost.total_macs(reduced) == hw * (256 * (64 + 64 + 128 + 64) + 64 * (192 * 9 + 96 * 25)) == 271_351_808


@pytest.mark.parametrize("input_shape", [(28, 28, 256), (14, 14, 480), (7, 9, 32)])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_branch_costs_match_closed_form(input_shape, batch_norm):
    h, w, c = input_shape
    model = blocks.single_block_model(blocks.inception_module, input_shape, name="m", batch_norm=batch_norm, **REDUCED)
    groups = cost.group_costs(model, lambda name: blocks.branch_of(name, "m"))
    bias = not batch_norm
    bn = 2 * 2 if batch_norm else 0  # gamma, beta, moving mean, moving variance per channel

    def conv(cin, cout, k):
        return cost.conv2d_params(cin, cout, k, bias=bias) + bn * cout, cost.conv2d_macs(h, w, cin, cout, k)

    def add(*parts):
        return tuple(map(sum, zip(*parts, strict=True)))

    assert groups["1x1"] == conv(c, 128, 1)
    assert groups["3x3"] == add(conv(c, 64, 1), conv(64, 192, 3))
    assert groups["5x5"] == add(conv(c, 64, 1), conv(64, 96, 5))
    assert groups["pool"] == conv(c, 64, 1)


def test_kernel_5x5_option():
    model = blocks.single_block_model(blocks.inception_module, name="m", kernel_5x5=3, **REDUCED)
    assert model.get_layer("m_5x5").kernel_size == (3, 3)
    with pytest.raises(ValueError, match="kernel_5x5"):
        blocks.single_block_model(blocks.inception_module, name="m", kernel_5x5=7, **REDUCED)


@pytest.mark.parametrize("bad", [0, -4, 2.5, "64", True, None])
@pytest.mark.parametrize("argument", sorted(REDUCED))
def test_reduced_module_rejects_invalid_widths(argument, bad):
    widths = REDUCED | {argument: bad}
    with pytest.raises(ValueError, match=argument):
        blocks.single_block_model(blocks.inception_module, **widths)


@pytest.mark.parametrize("argument", sorted(NAIVE))
def test_naive_module_rejects_missing_width(argument):
    widths = {k: v for k, v in NAIVE.items() if k != argument}
    with pytest.raises(ValueError, match=f"{argument} is missing"):
        blocks.single_block_model(blocks.naive_inception, **widths)


def test_branch_of():
    assert blocks.branch_of("inception_3a_3x3_reduce", "inception_3a") == "3x3"
    assert blocks.branch_of("inception_3a_pool_proj_bn", "inception_3a") == "pool"
    assert blocks.branch_of("inception_3a_1x1", "inception_3a") == "1x1"
    assert blocks.branch_of("inception_3a", "inception_3a") is None
    assert blocks.branch_of("inception_3b_1x1", "inception_3a") is None


def test_multiplicities_matching_finds_the_slip():
    terms = {"a": 100, "b": 30, "c": 7}
    found = module_cost.multiplicities_matching(terms, 137 + 30, tolerance=0)
    assert found[0] == {"a": 1, "b": 2, "c": 1}
    assert all(sum(c * terms[n] for n, c in f.items()) == 167 for f in found)
    with pytest.raises(ValueError, match="empty"):
        module_cost.multiplicities_matching({}, 1, 0)
