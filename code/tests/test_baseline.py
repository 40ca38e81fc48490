from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import baseline, cost, fit, reduced


def test_vgg_net_shapes_and_stage_widths():
    model = baseline.vgg_net()
    w = baseline.DEFAULT_BASE_WIDTH
    assert tuple(model.output.shape[1:]) == (10,)
    assert tuple(model.get_layer("block1_conv2_relu").output.shape[1:]) == (28, 28, w)
    assert tuple(model.get_layer("block2_conv2_relu").output.shape[1:]) == (14, 14, 2 * w)
    assert tuple(model.get_layer("block3_conv2_relu").output.shape[1:]) == (7, 7, 4 * w)
    assert [layer.kernel_size for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [(3, 3)] * 6
    assert model(np.zeros((2, 28, 28, 1), "float32")).shape == (2, 10)


def test_vgg_net_parameter_count_closed_form():
    w = baseline.DEFAULT_BASE_WIDTH
    widths = [1, w, w, 2 * w, 2 * w, 4 * w, 4 * w]
    convs = sum(9 * c_in * c_out + 4 * c_out for c_in, c_out in zip(widths, widths[1:], strict=False))  # BN: 4 each
    assert cost.total_params(baseline.vgg_net()) == convs + 4 * w * 10 + 10


def test_default_vgg_matches_the_improved_build_in_multiply_adds():
    vgg, improved = cost.total_macs(baseline.vgg_net()), cost.total_macs(reduced.improved_net())
    assert abs(vgg / improved - 1) < 0.05  # the base width was chosen for this
    # One step of width either way moves further away.
    for other in (baseline.DEFAULT_BASE_WIDTH - 1, baseline.DEFAULT_BASE_WIDTH + 1):
        assert abs(cost.total_macs(baseline.vgg_net(other)) - improved) > abs(vgg - improved)


def test_vgg_net_fast_and_plain_layers_compute_the_same_function():
    fast, plain = baseline.vgg_net(8, fast=True), baseline.vgg_net(8, fast=False)
    plain.set_weights(fast.get_weights())
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(fast.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"base_width": 0}, "base_width"), ({"stages": 0}, "stages"), ({"convs_per_stage": 1.5}, "convs_per_stage"),
     ({"stages": 7}, "below 1x1")],
)  # fmt: skip
def test_vgg_net_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        baseline.vgg_net(**kwargs)


def test_vgg_model_reloads_in_safe_mode(tmp_path):
    model = baseline.vgg_net(4)
    model.save(tmp_path / "v.keras")
    again = keras.models.load_model(tmp_path / "v.keras", safe_mode=True)
    x = np.full((1, 28, 28, 1), 128, "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


def test_ablation_configs_change_one_thing_each():
    base = fit.make_config("improved", 4, 128, 0)
    built = {name: fit.build_model(fit.make_config(name, 4, 128, 0)) for name in
             ("improved", "wide", "deep", "deep_aux", "no_augment", "vgg")}  # fmt: skip
    assert reduced.module_widths(built["wide"]) == [2 * w for w in reduced.module_widths(built["improved"])]
    assert len(reduced.module_widths(built["deep"])) == 9
    assert tuple(built["deep"].get_layer("pool_7").output.shape[1:3]) == (4, 4)  # as after GoogLeNet's 4e
    assert sorted(built["deep_aux"].output_names) == ["aux1", "aux2", "main"]
    assert cost.total_params(built["no_augment"]) == cost.total_params(built["improved"])
    assert not fit.make_config("no_augment", 4, 128, 0).augment
    for name in ("wide", "deep", "deep_aux", "vgg"):
        other = fit.make_config(name, 4, 128, 0)
        assert (other.learning_rate, other.schedule, other.augment) == (base.learning_rate, base.schedule, True)


def test_aux_config_trains_end_to_end_and_ships_the_main_head_only(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 2).astype(np.uint8)
    images = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    tiny = fit_data(images, labels)
    config = fit.make_config("deep_aux", 1, 10, 0, model_args={"num_modules": 6, "width": 0.25, "aux_heads": True})
    meta = fit.train_run(config, tmp_path / "a", tiny, progress=False, log=lambda m: None)
    model = keras.models.load_model(tmp_path / "a" / fit.MODEL, safe_mode=True)
    assert len(model.outputs) == 1 and model.output.shape[1:] == (10,)
    assert meta["test_accuracy"] == fit.evaluate_accuracy(model, tiny.x_test, tiny.y_test)


def fit_data(images, labels):
    from googlenet import data

    return data.FashionMNIST(images, labels, images[:10], labels[:10], data.CLASS_NAMES, source=None)


def test_conv_depth_counts_the_longest_path_of_convolutions():
    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 1)(inputs)
    b = keras.layers.Conv2D(2, 3, padding="same")(keras.layers.Conv2D(2, 1)(inputs))
    model = keras.Model(inputs, keras.layers.Concatenate()([a, b]))
    assert cost.conv_depth(model) == 2  # parallel branches count once
    assert cost.conv_depth(baseline.vgg_net()) == 6
    assert cost.conv_depth(reduced.improved_net()) == 2 + 2 * 5  # stem, then two per module
    assert cost.conv_depth(reduced.improved_net(fast=False)) == cost.conv_depth(reduced.improved_net())
    assert cost.conv_depth(reduced.improved_net(num_modules=9, aux_heads=True)) == 2 + 2 * 9
    assert cost.conv_depth(reduced.writeup_functional()) == 1 + 2 * 5
