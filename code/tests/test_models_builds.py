from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import cost
from googlenet.models import improved, note


def test_writeup_net_structure_and_shapes():
    model = note.writeup_net()
    kinds = [type(layer).__name__ for layer in model._layers]
    assert kinds == ["Rescaling", "Conv2D"] + ["InceptionBlock"] * 5 + ["GlobalAveragePooling2D", "Dense"]
    out = model(np.zeros((2, 28, 28, 1), "float32"))
    assert out.shape == (2, 10)
    block = model._layers[2]
    assert block.compute_output_shape((None, 28, 28, 64)) == (None, 28, 28, 64)


def test_writeup_net_parameter_count_closed_form():
    f = 16
    stem = cost.conv2d_params(1, 64, 3)

    def block(c):
        return (
            cost.conv2d_params(c, f, 1) * 3
            + cost.conv2d_params(f, f, 3)
            + cost.conv2d_params(f, f, 5)
            + cost.conv2d_params(c, f, 1)
        )

    expected = stem + block(64) + 4 * block(4 * f) + (4 * f * 10 + 10)
    assert note.writeup_net().count_params() == expected


def test_improved_net_shapes_and_widths():
    model = improved.improved_net()
    assert tuple(model.output.shape[1:]) == (10,)
    assert tuple(model.get_layer("stem_conv2").output.shape[1:3]) == (14, 14)
    assert tuple(model.get_layer("inception_3").output.shape[1:3]) == (7, 7)
    assert improved.module_widths(model) == [64, 120, 128, 128, 128]
    assert cost.total_params(model) == 141_978


def test_improved_net_options():
    nine = improved.improved_net(num_modules=9, aux_heads=True)
    assert sorted(nine.output_names) == ["aux1", "aux2", "main"]
    assert tuple(nine.get_layer("inception_8").output.shape[1:3]) == (4, 4)
    wide = improved.improved_net(width=2.0)
    assert improved.module_widths(wide) == [128, 240, 256, 256, 256]
    assert cost.total_params(wide) > 3 * cost.total_params(improved.improved_net())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_modules": 0}, "num_modules"),
        ({"num_modules": 10}, "num_modules"),
        ({"width": 0}, "width"),
        ({"aux_heads": True}, "aux_heads"),
        ({"aux_style": "big"}, "aux_style"),
        ({"stem_stride": 3}, "stem_stride"),
        ({"widths": ((8,) * 6,) * 3}, "widths must have 5 rows"),
        ({"widths": ((8,) * 5,) * 5}, "rows of six widths"),
        ({"widths": ((8, 8, 8, 8, 8, 0),) * 5}, "widths row entry"),
    ],
)
def test_improved_net_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        improved.improved_net(**kwargs)


def test_models_take_raw_pixels():
    model = improved.improved_net(num_modules=1)
    scaled = model.get_layer("rescale")
    assert scaled.scale == pytest.approx(1 / 255)


@pytest.mark.parametrize("builder", [note.writeup_net, lambda: improved.improved_net(num_modules=2)])
def test_saved_model_reloads_in_safe_mode_and_predicts_identically(builder, tmp_path):
    model = builder()
    x = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
