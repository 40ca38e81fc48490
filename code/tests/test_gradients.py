from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import gradients
from googlenet.models import paper


def _tiny(aux: bool) -> keras.Model:
    """x -> Dense(2, "main") with zero weights; with ``aux``, a second head "aux1" from x as well."""
    inputs = keras.Input(shape=(1,))
    main = keras.layers.Dense(2, kernel_initializer="zeros", name="main")(inputs)
    if not aux:
        return keras.Model(inputs, main)
    aux1 = keras.layers.Dense(2, kernel_initializer="zeros", name="aux1_logits")(inputs)
    return keras.Model(inputs, {"main": main, "aux1": aux1})


def test_norms_match_the_gradient_worked_by_hand():
    # Zero weights: softmax (1/2, 1/2); label 0: dL/dlogits = (-1/2, 1/2). With x = 2 the kernel's
    # gradient is (-1, 1) and the bias's (-1/2, 1/2): the stage's norm is sqrt(1 + 1 + 1/4 + 1/4).
    norms = gradients.stage_gradient_norms(_tiny(False), np.array([[2.0]]), np.array([0]))
    assert norms == {"classifier": pytest.approx(np.sqrt(2.5))}


def test_aux_weight_adds_the_heads_gradient_only_where_they_reach():
    model, x, y = _tiny(True), np.array([[2.0]]), np.array([0])
    alone = gradients.stage_gradient_norms(model, x, y, aux_weight=0.0)
    weighted = gradients.stage_gradient_norms(model, x, y, aux_weight=0.3)
    assert alone == {"classifier": pytest.approx(np.sqrt(2.5)), "aux1": 0.0}
    assert weighted == {"classifier": pytest.approx(np.sqrt(2.5)), "aux1": pytest.approx(0.3 * np.sqrt(2.5))}


def test_googlenet_stages_in_order():
    model = paper.googlenet_fashion(72)
    names = list(gradients.stage_variables(model))
    modules = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert (
        [n for n in names if n not in ("aux1", "aux2")]
        == ["conv1", "conv2", *modules, "classifier"]
        == list(gradients.GOOGLENET_STAGES)
    )
    assert {"aux1", "aux2"} <= set(names)
    x, y = np.zeros((2, 28, 28, 1), np.uint8), np.array([0, 1])
    norms = gradients.stage_gradient_norms(model, x, y, training=False)
    assert norms["aux1"] == 0.0 and norms["classifier"] > 0  # main loss alone never reaches a head


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"aux_weight": -1}, "aux_weight"), ({"labels": np.array([], int)}, "non-empty")],
)
def test_bad_input_is_refused(kwargs, message):
    arguments = {"images": np.array([[1.0]]), "labels": np.array([0])} | kwargs
    with pytest.raises(ValueError, match=message):
        gradients.stage_gradient_norms(_tiny(False), **arguments)


def test_a_model_without_stages_is_an_error():
    inputs = keras.Input(shape=(1,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="other")(inputs))
    with pytest.raises(ValueError, match="no layer"):
        gradients.stage_variables(model)


def test_stage_sizes_count_every_trainable_weight_once():
    model = _tiny(True)
    assert gradients.stage_sizes(model) == {"classifier": 2 + 2, "aux1": 2 + 2}  # a 1x2 kernel and 2 biases each
    googlenet = paper.googlenet_fashion(72, width=0.5)
    sizes = gradients.stage_sizes(googlenet)
    assert sum(sizes.values()) == sum(int(np.prod(w.shape)) for w in googlenet.trainable_weights)


def test_per_weight_and_the_relative_profile_worked_by_hand():
    norms, sizes = {"conv1": 2.0, "classifier": 3.0}, {"conv1": 4, "classifier": 9}
    assert gradients.per_weight(norms, sizes) == {"conv1": 1.0, "classifier": 1.0}
    profile = gradients.relative_per_weight({"conv1": 1.0, "classifier": 3.0}, sizes)
    assert profile == pytest.approx({"conv1": 0.5, "classifier": 1.0})
    assert gradients.relative_per_weight(norms, sizes, top="conv1") == {"conv1": 1.0, "classifier": 1.0}
    with pytest.raises(ValueError, match=r"no size for stages \['3a'\]"):
        gradients.per_weight({"3a": 1.0}, sizes)
    with pytest.raises(ValueError, match="has no stage 'classifier'"):
        gradients.relative_per_weight({"conv1": 1.0}, sizes)
    with pytest.raises(ValueError, match="is zero"):
        gradients.relative_per_weight({"conv1": 1.0, "classifier": 0.0}, sizes)
    with pytest.raises(ValueError, match="hold no weights"):
        gradients.per_weight({"conv1": 1.0}, {"conv1": 0})
