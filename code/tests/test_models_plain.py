from __future__ import annotations

import numpy as np
import pytest

from googlenet import cost
from googlenet.models import plain


def test_plain_stack_shapes_and_pools():
    model = plain.plain_conv_stack(depth=4, width=8, input_shape=(32, 32, 3), num_classes=7, head="flatten")
    assert model.output.shape[1:] == (7,)
    assert model.get_layer("pool4").output.shape[1:] == (8, 8, 8)  # two 2x2 pools: 32 -> 8
    assert model.get_layer("flatten").output.shape[1:] == (512,)
    assert model(np.zeros((2, 32, 32, 3), "float32")).shape == (2, 7)


def test_plain_stack_cost_scales_linearly_in_depth_and_quadratically_in_width():
    def conv_macs(depth: int, width: int) -> int:
        model = plain.plain_conv_stack(depth=depth, width=width, input_shape=(16, 16, 8), pool_every=100)
        return sum(r.macs for r in cost.layer_costs(model) if r.kind == "Conv2D" and r.name != "conv1")

    assert conv_macs(5, 16) == 2 * conv_macs(3, 16)  # 4 vs 2 width-to-width convs
    assert conv_macs(3, 32) == 4 * conv_macs(3, 16)


def test_gap_head_is_far_cheaper_than_flatten_head():
    flat = plain.classifier_head((7, 7, 512), 1000, "flatten", hidden_units=(4096, 4096))
    gap = plain.classifier_head((7, 7, 512), 1000, "gap")
    assert cost.total_params(flat) == 7 * 7 * 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert cost.total_params(gap) == 512 * 1000 + 1000


def test_pool_stops_at_one_pixel():
    model = plain.plain_conv_stack(depth=6, width=4, input_shape=(4, 4, 1), pool_every=1)
    assert model.get_layer("conv6").output.shape[1:3] == (1, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 0}, "depth"),
        ({"width": -3}, "width"),
        ({"head": "fc"}, "head"),
        ({"width": 2.5}, "width"),
        ({"hidden_units": (0,)}, "hidden_units"),
    ],
)
def test_plain_stack_rejects_bad_arguments(kwargs, message):
    args = {"depth": 2, "width": 4, "input_shape": (8, 8, 1)} | kwargs
    with pytest.raises(ValueError, match=message):
        plain.plain_conv_stack(**args)


def test_stage_stack_is_vgg16_with_its_published_counts():
    vgg16 = plain.stage_stack(head="flatten", hidden_units=(4096, 4096))
    assert cost.total_params(vgg16) == 138_357_544  # Simonyan & Zisserman's VGG-16 (Keras: 138,357,544)
    assert cost.conv_depth(vgg16) == 13
    assert tuple(vgg16.get_layer("stage5_pool").output.shape[1:]) == (7, 7, 512)
    stage1 = sum(r.macs for r in cost.layer_costs(vgg16) if r.name.startswith("stage1_"))
    convs = sum(r.macs for r in cost.layer_costs(vgg16) if r.kind == "Conv2D")
    assert 0.12 < stage1 / convs < 0.14  # the first stage is about an eighth of the convolutions' cost


def test_stage_stack_rejects_bad_stages():
    with pytest.raises(ValueError, match="stages is empty"):
        plain.stage_stack(())
    with pytest.raises(ValueError, match="stage 2 width"):
        plain.stage_stack(((1, 8), (1, 0)), input_shape=(8, 8, 1))
    with pytest.raises(ValueError, match="below 1x1"):
        plain.stage_stack(((1, 8),) * 4, input_shape=(8, 8, 1))
