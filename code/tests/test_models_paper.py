from __future__ import annotations

import numpy as np
import pytest

from googlenet import cost
from googlenet.models import heads, paper

EXPECTED_SHAPES = {
    "3a": (28, 28, 256), "3b": (28, 28, 480), "4a": (14, 14, 512), "4b": (14, 14, 512), "4c": (14, 14, 512),
    "4d": (14, 14, 528), "4e": (14, 14, 832), "5a": (7, 7, 832), "5b": (7, 7, 1024),
}  # fmt: skip


@pytest.fixture(scope="module")
def paper_model():
    return paper.googlenet()


def test_module_output_shapes(paper_model):
    for module, shape in EXPECTED_SHAPES.items():
        assert tuple(paper_model.get_layer(f"inception_{module}").output.shape[1:]) == shape
    assert tuple(paper_model.get_layer("pool2").output.shape[1:]) == (28, 28, 192)
    assert tuple(paper_model.get_layer("conv1_7x7").output.shape[1:]) == (112, 112, 64)


def _closed_form_module_params(c_in, f1, r3, f3, r5, f5, pp, k5=5):
    convs = [(c_in, f1, 1), (c_in, r3, 1), (r3, f3, 3), (c_in, r5, 1), (r5, f5, k5), (c_in, pp, 1)]
    return sum(cost.conv2d_params(a, b, k) for a, b, k in convs)


def test_parameter_totals_with_and_without_aux(paper_model):
    stem = cost.conv2d_params(3, 64, 7) + cost.conv2d_params(64, 64, 1) + cost.conv2d_params(64, 192, 3)
    c_in, modules = 192, 0
    for widths in paper.GOOGLENET_MODULES.values():
        modules += _closed_form_module_params(c_in, *widths)
        f1, _, f3, _, f5, pp = widths
        c_in = f1 + f3 + f5 + pp
    classifier = 1024 * 1000 + 1000
    aux = lambda c: cost.conv2d_params(c, 128, 1) + (4 * 4 * 128 * 1024 + 1024) + (1024 * 1000 + 1000)  # noqa: E731
    main_total = stem + modules + classifier
    assert cost.total_params(heads.inference_model(paper_model)) == main_total == 6_998_552
    assert cost.total_params(paper_model) == main_total + aux(512) + aux(528)


def test_torchvision_configuration_matches_published_count():
    tv = paper.googlenet(batch_norm=True, kernel_5x5=3, last_pool=2, aux_heads=False)
    assert cost.trainable_params(tv) == 6_624_904
    assert len(tv.outputs) == 1
    assert not any(isinstance(layer, paper.LocalResponseNormalization) for layer in tv.layers)


def test_training_has_three_outputs_inference_one_and_weights_are_shared():
    model = paper.googlenet(input_shape=(72, 72, 3), num_classes=10)
    assert sorted(model.output_names) == ["aux1", "aux2", "main"]
    inference = heads.inference_model(model)
    assert len(inference.outputs) == 1
    x = np.random.default_rng(0).uniform(0, 1, size=(2, 72, 72, 3)).astype("float32")
    train_out = model(x, training=False)
    np.testing.assert_allclose(inference(x, training=False), train_out["main"], rtol=1e-5, atol=1e-5)
    main_weights = {id(w) for w in inference.weights}
    assert main_weights <= {id(w) for w in model.weights}
    # Changing a shared weight changes both models.
    fc = model.get_layer("main")
    fc.kernel.assign(fc.kernel * 0.0)
    np.testing.assert_allclose(inference(x, training=False), np.broadcast_to(fc.bias.numpy(), (2, 10)), atol=1e-6)


def test_aux_head_shapes():
    model = paper.googlenet()
    assert tuple(model.get_layer("aux1_pool").output.shape[1:]) == (4, 4, 512)
    assert tuple(model.get_layer("aux2_pool").output.shape[1:]) == (4, 4, 528)
    assert tuple(model.get_layer("aux1_fc").output.shape[1:]) == (1024,)


@pytest.mark.parametrize("aux_heads, size", [(True, 64), (False, 31)])
def test_too_small_input_names_minimum(aux_heads, size):
    minimum = paper.googlenet_min_input_size(aux_heads)
    with pytest.raises(ValueError, match=f"minimum is {minimum}x{minimum}"):
        paper.googlenet(input_shape=(size, size, 1), num_classes=10, aux_heads=aux_heads)
    paper.googlenet(input_shape=(minimum, minimum, 1), num_classes=10, aux_heads=aux_heads)


def test_bad_options():
    with pytest.raises(ValueError, match="last_pool"):
        paper.googlenet(last_pool=4)
    with pytest.raises(ValueError, match="kernel_5x5"):
        paper.googlenet(kernel_5x5=7)


def test_compile_uses_paper_loss_weights():
    model = paper.compile_googlenet(paper.googlenet(input_shape=(72, 72, 1), num_classes=10))
    assert model.compiled_loss is not None or model.loss is not None
    x = np.zeros((4, 72, 72, 1), "float32")
    y = np.arange(4) % 10
    logs = model.evaluate(x, {"main": y, "aux1": y, "aux2": y}, verbose=0, return_dict=True)
    expected = logs["main_loss"] + heads.AUX_LOSS_WEIGHT * (logs["aux1_loss"] + logs["aux2_loss"])
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)


def test_lrn_layer_round_trips_config():
    layer = paper.LocalResponseNormalization(size=3, alpha=2e-4, name="n")
    clone = paper.LocalResponseNormalization.from_config(layer.get_config())
    assert (clone.size, clone.alpha, clone.beta, clone.k) == (3, 2e-4, 0.75, 1.0)
    x = np.ones((1, 2, 2, 8), "float32")
    assert layer(x).shape == (1, 2, 2, 8)


def test_fashion_googlenet_resizes_raw_pixels_inside_the_model():
    model = paper.googlenet_fashion(72)
    assert model.input_shape == (None, 28, 28, 1)
    assert model.get_layer("resize").output.shape == (None, 72, 72, 1)
    assert model.get_layer("inception_4a").output.shape[1:3] == (5, 5)  # the heads' 5x5 pool fits
    assert set(model.output) == {"main", "aux1", "aux2"}
    assert any(layer.name == "lrn1" for layer in model.layers)  # the 2014 setting: LRN, no BN
    with_bn = paper.googlenet_fashion(72, batch_norm=True, aux_heads=False)
    assert not any(layer.name == "lrn1" for layer in with_bn.layers) and len(with_bn.outputs) == 1


def test_fashion_googlenet_too_small_for_the_heads_names_the_minimum():
    with pytest.raises(ValueError, match="minimum is 65"):
        paper.googlenet_fashion(64)
    assert paper.googlenet_fashion(64, aux_heads=False).output_shape == (None, 10)
    with pytest.raises(ValueError, match=r"minimum is 32 \(five stride-2 stages\); pass size >= 32$"):
        paper.googlenet_fashion(31, aux_heads=False)


def test_fashion_googlenet_width_scales_every_layer_but_not_the_depth():
    full, half = paper.googlenet_fashion(72), paper.googlenet_fashion(72, width=0.5)
    assert half.get_layer("inception_3a").output.shape[-1] == 128  # 256 halved
    assert half.get_layer("aux1_fc").units == 512 and half.get_layer("conv2_3x3").filters == 96
    assert cost.conv_depth(half) == cost.conv_depth(full)
    assert 0.2 < half.count_params() / full.count_params() < 0.3  # widths halved: about a quarter
    with pytest.raises(ValueError, match="width"):
        paper.googlenet_fashion(72, width=0)


def test_fashion_googlenet_with_and_without_heads_start_from_the_same_weights():
    import keras

    keras.utils.set_random_seed(7)
    with_heads = paper.googlenet_fashion(72, width=0.25)
    keras.utils.set_random_seed(7)
    without = paper.googlenet_fashion(72, width=0.25, aux_heads=False)
    assert len(without.outputs) == 1 and not any(layer.name.startswith("aux") for layer in without.layers)
    for layer in without.layers:
        for mine, theirs in zip(layer.get_weights(), with_heads.get_layer(layer.name).get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)
