from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest

from googlenet import data, recipes, splits
from googlenet.models import improved, note


def test_every_recipe_builds_and_records_its_builder():
    for name, recipe in recipes.RECIPES.items():
        assert recipe.name == name
        record = recipe.record()
        assert record["config"] == name and record["builder"].startswith("googlenet.models.")
        assert set(recipe.model_args) <= set(recipe.full_model_args())


def test_unknown_recipe_lists_the_known_ones():
    with pytest.raises(
        ValueError, match="unknown recipe 'bogus': choose one of aux_paper, bf16, bn_heads, bn_no_heads, constant_lr"
    ) as error:
        recipes.get("bogus")
    assert str(error.value).endswith(", ".join(sorted(recipes.RECIPES)))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": True}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"schedule": "step"}, "schedule"),
        ({"model_args": {"num_modules": 5, "depth": 3}}, "takes no argument"),
    ],
)
def test_bad_recipes_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        replace(recipes.IMPROVED, **change)


def test_ablation_recipes_change_one_thing_each():
    base = recipes.IMPROVED
    built = {name: recipes.get(name).build() for name in ("improved", "wide", "deep", "deep_aux", "no_augment", "vgg")}
    assert improved.module_widths(built["wide"]) == [2 * w for w in improved.module_widths(built["improved"])]
    assert len(improved.module_widths(built["deep"])) == 9
    assert tuple(built["deep"].get_layer("pool_7").output.shape[1:3]) == (4, 4)  # as after GoogLeNet's 4e
    assert sorted(built["deep_aux"].output_names) == ["aux1", "aux2", "main"]
    assert keras.Model.count_params(built["no_augment"]) == keras.Model.count_params(built["improved"])
    assert not recipes.NO_AUGMENT.augment
    for name in ("wide", "deep", "deep_aux", "vgg"):
        other = recipes.get(name)
        assert (other.learning_rate, other.schedule, other.augment, other.epochs, other.batch_size) == (
            base.learning_rate,
            base.schedule,
            True,
            base.epochs,
            base.batch_size,
        )


def test_improved_recipe_states_what_the_builder_defaults_were():
    # The recipe spells out the network's settings; they equal the builder's defaults, so the
    # shipped runs (recorded before the recipe listed them) describe the same model.
    defaults = recipes.Recipe("x", improved.improved_net).full_model_args()
    for key, value in recipes.IMPROVED.model_args.items():
        assert defaults[key] == value, key


def test_training_subset_is_stratified_and_recorded():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 7).astype(np.uint8)
    images = rng.integers(0, 256, size=(70, 28, 28), dtype=np.uint8)
    fashion = data.FashionMNIST(images, labels, images[:10], labels[:10], data.CLASS_NAMES, source=None)
    subset = splits.training_split(replace(recipes.IMPROVED, train_per_class=3), fashion)
    x, y = subset.x_train, subset.y_train
    assert len(x) == 30 and np.bincount(y).tolist() == [3] * 10
    assert replace(recipes.IMPROVED, train_per_class=3).record()["train_per_class"] == 3
    full_x = splits.training_split(recipes.IMPROVED, fashion).x_train
    assert len(full_x) == 70


def test_recipes_are_read_only_and_record_the_whole_model():
    with pytest.raises(TypeError):
        recipes.IMPROVED.model_args["width"] = 3.0  # shared by every variant: must not change
    assert recipes.IMPROVED.record()["model_args"]["fast"] is True  # the builder's default, recorded too
    assert recipes.NO_AUGMENT.model_args == recipes.IMPROVED.model_args


def test_the_recipes_own_ablations_build_what_they_say():
    from googlenet import cost
    from googlenet.models import vgg

    base_macs = cost.total_macs(recipes.IMPROVED.build())
    paper_heads = recipes.AUX_PAPER.build()
    assert sorted(paper_heads.output_names) == ["aux1", "aux2", "main"]
    assert tuple(paper_heads.get_layer("aux1_pool").output.shape[1:3]) == (1, 1)  # 5x5/3 on 7x7
    assert paper_heads.get_layer("aux1_dropout").rate == 0.7 and paper_heads.get_layer("aux1_fc").units == 256
    no_bn = recipes.NO_BN.build()
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in no_bn.layers)
    assert cost.total_macs(no_bn) == base_macs  # same convolutions, only the normalisation gone
    full = recipes.FULL_RES.build()
    modules = [layer for layer in full.layers if isinstance(layer, keras.layers.Concatenate)]
    assert len(modules) == 5 and all(tuple(layer.output.shape[1:3]) == (28, 28) for layer in modules)
    assert recipes.CONSTANT_LR.schedule == "constant" and recipes.CONSTANT_LR.model_args == recipes.IMPROVED.model_args
    equal = recipes.EQUAL_WIDTHS.build()
    assert improved.module_widths(equal) == [4 * recipes.EQUAL_WIDTH_FILTERS] * 5
    assert abs(cost.total_macs(equal) / base_macs - 1) < 0.05
    shaped = recipes.VGG_SHAPED.build()
    assert cost.conv_depth(shaped) == 12 >= cost.conv_depth(note.writeup_functional())
    assert abs(cost.total_macs(shaped) / base_macs - 1) < 0.05
    for other in (recipes.VGG_SHAPED_BASE_WIDTH - 1, recipes.VGG_SHAPED_BASE_WIDTH + 1):  # the nearest width
        nearer = cost.total_macs(vgg.vgg_net(other, stages=4, convs_per_stage=3))
        assert abs(nearer - base_macs) > abs(cost.total_macs(shaped) - base_macs)


def test_the_gradient_probe_is_refused_for_models_without_googlenets_stages():
    from dataclasses import replace

    with pytest.raises(ValueError, match="only models.paper.googlenet_fashion has"):
        replace(recipes.IMPROVED, gradient_probe=8)


def test_the_heads_experiment_pairs_its_arms():
    from googlenet import cost, gradients
    from googlenet.models.heads import has_auxiliary_heads

    arms = {r.name: r for r in (recipes.HEADS, recipes.NO_HEADS, recipes.BN_HEADS, recipes.BN_NO_HEADS)}
    for name, recipe in arms.items():  # everything but the heads and the normalisation is shared
        assert recipes.get(name) is recipe
        assert (recipe.epochs, recipe.learning_rate, recipe.schedule, recipe.gradient_probe) == (
            recipes.HEADS_EPOCHS,
            recipes.HEADS_LEARNING_RATE,
            "cosine",
            recipes.HEADS_PROBE_IMAGES,
        )
        assert recipe.model_args["size"] == recipes.HEADS_SIZE and recipe.model_args["width"] == recipes.HEADS_WIDTH
    built = {}
    for name, recipe in arms.items():
        keras.utils.set_random_seed(3)
        built[name] = recipe.build()
    assert has_auxiliary_heads(built["heads"]) and has_auxiliary_heads(built["bn_heads"])
    assert not has_auxiliary_heads(built["no_heads"]) and not has_auxiliary_heads(built["bn_no_heads"])
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in built["heads"].layers)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in built["bn_heads"].layers)
    # the same seed, the same start: every weight of the net without heads is the net with heads'
    for with_heads, without in (("heads", "no_heads"), ("bn_heads", "bn_no_heads")):
        kept = {w.path: w.numpy() for w in built[with_heads].weights}
        for weight in built[without].weights:
            np.testing.assert_array_equal(weight.numpy(), kept[weight.path])
        assert cost.total_macs(built[without]) < cost.total_macs(built[with_heads])
    stages = {gradients.googlenet_stage(layer.name) for layer in built["heads"].layers} - {None}
    assert {"conv1", "conv2", "3a", "5b", "aux1", "aux2", "classifier"} <= stages


def test_a_heads_recipe_too_small_for_its_heads_is_refused_before_any_training():
    refused = r"recipe 'heads': size 64 is too small .* minimum is 65 .*; set model_args size >= 65$"
    with pytest.raises(ValueError, match=refused):
        replace(recipes.HEADS, model_args=recipes.HEADS.model_args | {"size": 64})
    small = replace(recipes.NO_HEADS, model_args=recipes.NO_HEADS.model_args | {"size": 64})  # no heads: 32 is enough
    assert small.model_args["size"] == 64
    with pytest.raises(ValueError, match=r"size 31 is too small for GoogLeNet: the minimum is 32 \(five stride-2"):
        replace(recipes.NO_HEADS, model_args=recipes.NO_HEADS.model_args | {"size": 31})
