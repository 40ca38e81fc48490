"""The papers' training tricks: label smoothing's loss, the weight average's rule, test-time augmentation."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from googlenet import averaging, evaluate, recipes, run_folder
from googlenet.training import Trainer


def toy_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def test_label_smoothing_loss_matches_inception_v3s_formula():
    """q'(k) = (1 - eps) delta_ky + eps / K, and the loss is -sum_k q'(k) log p(k)."""
    eps, classes = 0.1, 10
    logits = np.linspace(-2.0, 3.0, classes, dtype="float32")[None]
    label = 4
    trainer = Trainer(toy_model(), 1e-3, label_smoothing=eps)
    one_hot = keras.utils.to_categorical([label], classes).astype("float32")
    smoothed = (1 - eps) * one_hot + eps / classes
    log_p = logits - np.log(np.exp(logits).sum())
    expected = -(smoothed * log_p).sum()
    assert float(trainer.training_loss(one_hot, logits)) == pytest.approx(expected, rel=1e-6)
    # held-out images are scored with the plain cross-entropy
    assert float(trainer.loss_object(one_hot, logits)) == pytest.approx(-log_p[0, label], rel=1e-6)


def test_label_smoothing_needs_one_hot_labels_and_a_fraction():
    with pytest.raises(ValueError, match="one-hot"):
        Trainer(toy_model(), 1e-3, sparse_labels=True, label_smoothing=0.1)
    with pytest.raises(ValueError, match="label_smoothing"):
        Trainer(toy_model(), 1e-3, label_smoothing=1.5)


def test_the_weight_average_follows_its_update_rule():
    model = toy_model()
    average = averaging.WeightAverage(model, decay=0.9)
    expected = [w.numpy().copy() for w in model.trainable_variables]
    rng = np.random.default_rng(0)
    for _ in range(3):
        for w in model.trainable_variables:
            w.assign(w.numpy() + rng.normal(size=w.shape).astype("float32"))
        average.update()
        expected = [0.9 * a + 0.1 * w.numpy() for a, w in zip(expected, model.trainable_variables, strict=True)]
    for got, want in zip(average.averages, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)


def test_swapping_the_average_in_is_undone_afterwards():
    model = toy_model()
    average = averaging.WeightAverage(model, decay=0.5)
    for w in model.trainable_variables:
        w.assign(w.numpy() + 1.0)
    average.update()  # averages = old + 0.5
    raw = [w.numpy().copy() for w in model.trainable_variables]
    with average.swapped_in():
        inside = [w.numpy().copy() for w in model.trainable_variables]
    for w, r, i, a in zip(model.trainable_variables, raw, inside, average.averages, strict=True):
        np.testing.assert_array_equal(w.numpy(), r)
        np.testing.assert_array_equal(i, a.numpy())
        np.testing.assert_allclose(r - i, 0.5, atol=1e-6)


def test_the_trainer_updates_the_average_every_step_and_scores_with_it():
    model = toy_model()
    trainer = Trainer(model, 1e-2, ema_decay=0.5)
    images = tf.constant(np.random.default_rng(1).integers(0, 255, (8, 28, 28, 1)).astype("float32"))
    labels = tf.constant(keras.utils.to_categorical(np.arange(8) % 10, 10).astype("float32"))
    before = [w.numpy().copy() for w in model.trainable_variables]
    trainer.train_step(images, labels)
    for a, b, w in zip(trainer.average.averages, before, model.trainable_variables, strict=True):
        np.testing.assert_allclose(a.numpy(), 0.5 * b + 0.5 * w.numpy(), rtol=1e-5, atol=1e-6)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    averaged, raw = trainer.score(dataset), trainer.score(dataset, averaged=False)
    with trainer.average.swapped_in():
        by_hand = keras.losses.CategoricalCrossentropy(from_logits=True)(labels, model(images))
    assert averaged[0] == pytest.approx(float(by_hand), rel=1e-5) and averaged != raw


def test_a_decay_must_be_a_fraction_below_one():
    with pytest.raises(ValueError, match="decay"):
        averaging.WeightAverage(toy_model(), decay=1.0)
    with pytest.raises(ValueError, match="ema_decay"):
        dataclasses.replace(recipes.IMPROVED, ema_decay=-0.1)


def test_new_settings_are_recorded_only_when_set_and_checked_on_resume():
    plain = recipes.IMPROVED.record()
    assert "label_smoothing" not in plain and "ema_decay" not in plain
    smoothed = dataclasses.replace(recipes.IMPROVED, label_smoothing=0.1, ema_decay=0.999)
    assert smoothed.record()["label_smoothing"] == 0.1 and smoothed.record()["ema_decay"] == 0.999
    assert run_folder._mismatches(plain, recipes.IMPROVED) == []
    found = run_folder._mismatches(plain, smoothed)
    assert any(f.startswith("label_smoothing") for f in found) and any(f.startswith("ema_decay") for f in found)


def test_shifted_images_move_and_fill_with_background():
    image = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    np.testing.assert_array_equal(evaluate.shifted(image, 1, 0)[0], [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(evaluate.shifted(image, 0, -1)[0], [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    np.testing.assert_array_equal(evaluate.shifted(image, 0, 0), image)
    with pytest.raises(ValueError, match="out of view"):
        evaluate.shifted(image, 3, 0)


def test_tta_returns_the_mean_of_the_views_probabilities():
    model = toy_model()
    images = np.random.default_rng(2).integers(0, 255, (5, 28, 28)).astype(np.uint8)
    shifts = ((0, 0), (1, 0))

    def probabilities(view):
        return keras.ops.convert_to_numpy(keras.ops.softmax(model(view[..., None].astype("float32")), axis=-1))

    views = [images, evaluate.shifted(images, 1, 0)]
    views += [v[:, :, ::-1] for v in views]
    expected = np.mean([probabilities(v) for v in views], axis=0)
    got = evaluate.tta_probabilities(model, images, shifts=shifts, flip=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    one_view = evaluate.tta_probabilities(model, images, shifts=((0, 0),), flip=False)
    np.testing.assert_allclose(one_view, probabilities(images), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        evaluate.tta_probabilities(model, images, shifts=())
