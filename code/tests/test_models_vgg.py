from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import cost
from googlenet.models import improved, vgg


def test_vgg_net_shapes_and_stage_widths():
    model = vgg.vgg_net()
    w = vgg.DEFAULT_BASE_WIDTH
    assert tuple(model.output.shape[1:]) == (10,)
    assert tuple(model.get_layer("block1_conv2_relu").output.shape[1:]) == (28, 28, w)
    assert tuple(model.get_layer("block2_conv2_relu").output.shape[1:]) == (14, 14, 2 * w)
    assert tuple(model.get_layer("block3_conv2_relu").output.shape[1:]) == (7, 7, 4 * w)
    assert [layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [(3, 3)] * 6
    assert model(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 10)


def test_vgg_net_parameter_count_closed_form():
    w = vgg.DEFAULT_BASE_WIDTH
    widths = [1, w, w, 2 * w, 2 * w, 4 * w, 4 * w]
    convs = sum(9 * c_in * c_out + 4 * c_out for c_in, c_out in zip(widths, widths[1:], strict=False))  # BN: 4 each
    assert cost.total_params(vgg.vgg_net()) == convs + 4 * w * 10 + 10


def test_default_vgg_matches_the_improved_build_in_multiply_adds():
    vgg_macs, improved_macs = cost.total_macs(vgg.vgg_net()), cost.total_macs(improved.improved_net())
    assert abs(vgg_macs / improved_macs - 1) < 0.05  # the base width was chosen for this
    # One step of width either way moves further away.
    for other in (vgg.DEFAULT_BASE_WIDTH - 1, vgg.DEFAULT_BASE_WIDTH + 1):
        assert abs(cost.total_macs(vgg.vgg_net(other)) - improved_macs) > abs(vgg_macs - improved_macs)


def test_vgg_net_fast_and_plain_layers_compute_the_same_function():
    fast, plain = vgg.vgg_net(8, fast=True), vgg.vgg_net(8, fast=False)
    plain.set_weights(fast.get_weights())
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(fast.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"base_width": 0}, "base_width"),
        ({"stages": 0}, "stages"),
        ({"convs_per_stage": 1.5}, "convs_per_stage"),
        ({"stages": 7}, "below 1x1"),
    ],
)
def test_vgg_net_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vgg.vgg_net(**kwargs)


def test_vgg_model_reloads_in_safe_mode(tmp_path):
    model = vgg.vgg_net(4)
    model.save(tmp_path / "v.keras")
    again = keras.models.load_model(tmp_path / "v.keras", safe_mode=True)
    x = np.full((1, 28, 28, 1), 128, "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
