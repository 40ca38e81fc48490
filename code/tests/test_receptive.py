from __future__ import annotations

import keras
import pytest

from googlenet import blocks, receptive
from googlenet.models import improved, paper


def stack(n, strides=1, input_size=64):
    inputs = keras.Input((input_size, input_size, 1))
    x = inputs
    for i in range(n):
        x = keras.layers.Conv2D(2, 3, strides=strides, padding="same", name=f"c{i}")(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_n_stacked_3x3_convolutions_see_2n_plus_1(n):
    field = receptive.receptive_fields(stack(n))[f"c{n - 1}"]
    assert field.square == 2 * n + 1 and field.jump == (1, 1)


def test_strides_multiply_and_widen_later_fields():
    fields = receptive.receptive_fields(stack(3, strides=2))
    assert [fields[f"c{i}"].jump for i in range(3)] == [(2, 2), (4, 4), (8, 8)]
    assert [fields[f"c{i}"].square for i in range(3)] == [3, 3 + 2 * 2, 3 + 2 * 2 + 2 * 4]


def test_a_module_sees_as_far_as_its_widest_branch():
    model = blocks.single_block_model(blocks.inception_from_widths, (16, 16, 8), "m", widths=(2,) * 6)
    fields = receptive.receptive_fields(model)
    assert fields["m_1x1"].square == 1 and fields["m_3x3"].square == 3 and fields["m_pool_proj"].square == 3
    assert fields["m_5x5"].square == 5 and fields["m"].square == 5


def test_googlenet_fields_grow_past_the_input():
    fields = receptive.receptive_fields(paper.googlenet(aux_heads=False))
    assert fields["conv1_7x7"].square == 7 and fields["conv1_7x7"].jump == (2, 2)
    assert fields["inception_5b"].jump == (32, 32) and fields["inception_5b"].square > 224
    assert fields["avg_pool"].size is None
    fast, plain = improved.improved_net(), improved.improved_net(fast=False)
    assert receptive.receptive_fields(fast)["inception_5"] == receptive.receptive_fields(plain)["inception_5"]


def test_unknown_layers_and_models_without_windows_are_refused():
    inputs = keras.Input((8,))
    with pytest.raises(ValueError, match="no convolutions or pools"):
        receptive.receptive_fields(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
    image = keras.Input((8, 8, 1))
    odd = keras.layers.UpSampling2D(name="up")(keras.layers.Conv2D(1, 3, name="c")(image))
    with pytest.raises(ValueError, match="layer 'up' \\(UpSampling2D\\) has no receptive-field rule"):
        receptive.receptive_fields(keras.Model(image, odd))
