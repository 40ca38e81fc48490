"""Batch norm statistics recomputed for a finished run's weights."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import keras
import numpy as np
import pytest

from googlenet import recipes, reestimation, runs


def _bn_model():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(3, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x)))


def test_statistics_become_the_plain_average_of_the_batches():
    model = _bn_model()
    bn = reestimation.batch_norm_layers(model)[0]
    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    weights = [w.copy() for w in model.get_weights()]
    assert reestimation.reestimate_batch_norm(model, images, batch_size=16) == 1
    conv = keras.Model(model.input, model.layers[1].output)
    outputs = keras.ops.convert_to_numpy(conv(images[..., None].astype("float32")))
    batches = [outputs[0:16], outputs[16:32]]  # whole batches only: the last 8 images are left out
    mean = np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0)
    variance = np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0)
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), mean, atol=1e-4)
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_variance), variance, rtol=1e-4)
    assert bn.momentum == 0.9  # restored
    changed = [i for i, (a, b) in enumerate(zip(weights, model.get_weights(), strict=True)) if not np.array_equal(a, b)]
    assert len(changed) == 2  # the moving mean and variance, nothing trainable


def test_a_model_without_batch_norm_or_with_too_few_images_is_refused():
    inputs = keras.Input((28, 28, 1))
    plain = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="no batch normalisation"):
        reestimation.reestimate_batch_norm(plain, np.zeros((8, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="fewer than one batch"):
        reestimation.reestimate_batch_norm(_bn_model(), np.zeros((8, 28, 28), np.uint8), batch_size=16)


def test_a_run_is_re_estimated_without_touching_its_saved_model(tiny, tmp_path):
    small = recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
    recipe = replace(recipes.IMPROVED, epochs=1, batch_size=8, model_args=small, validation_per_class=1)
    runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    saved = (tmp_path / "run" / "model.keras").read_bytes()
    summary = reestimation.score_run(tmp_path / "run", tiny, log=lambda m: None)
    assert (tmp_path / "run" / "model.keras").read_bytes() == saved
    assert summary["images"] == 30 and summary["batch_size"] == 8 and summary["layers"] > 0
    assert summary["test_accuracy"]["saved"] == runs.load_run(tmp_path / "run").metadata["test_accuracy"]
    read, predicted = reestimation.load_reestimated(tmp_path / "run")
    assert float(np.mean(predicted == tiny.y_test)) == read["test_accuracy"]["reestimated"]
    with pytest.raises(FileExistsError, match="--overwrite"):
        reestimation.score_run(tmp_path / "run", tiny, log=lambda m: None)


def test_the_command_line_refuses_a_folder_without_a_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "googlenet", "reestimate", "--run", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "holds no finished run" in done.stderr
