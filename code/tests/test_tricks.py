"""The training tricks: label smoothing, the weight average, test-time augmentation, random erasing, warm-up."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from googlenet import averaging, evaluate, recipes, run_folder, training
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


def _erased(images: np.ndarray, seed=(3, 4), **options) -> np.ndarray:
    return training.random_erasing(images, seed=seed, **options).numpy()


def test_random_erasing_sets_one_rectangle_of_noise_within_the_papers_bounds():
    images = np.full((400, 28, 28, 1), 300.0, dtype="float32")  # above every noise value
    erased = _erased(images, probability=1.0)
    changed = erased[..., 0] != 300.0
    counts = changed.sum(axis=(1, 2))
    assert (erased[changed] >= 0).all() and (erased[changed] < 255).all()
    area = 28 * 28
    for mask, count in zip(changed, counts, strict=True):
        if count == 0:  # no attempt fitted (rare at these bounds)
            continue
        rows, cols = np.nonzero(mask)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert height * width == count  # one solid rectangle
        assert height < 28 and width < 28
        # its area and aspect, after rounding each side to pixels, stay near the drawn bounds
        assert 0.02 * area / 2 <= count <= 0.4 * area * 1.2
        assert 0.3 / 2 <= height / width <= 2 / 0.3
    assert (counts > 0).mean() > 0.9
    assert erased.shape == images.shape and erased.dtype == images.dtype


def test_random_erasing_chooses_images_with_its_probability_and_repeats_with_its_seed():
    images = np.full((2000, 28, 28, 1), 300.0, dtype="float32")
    share = (_erased(images, probability=0.5)[..., 0] != 300.0).any(axis=(1, 2)).mean()
    assert 0.45 < share < 0.55
    np.testing.assert_array_equal(_erased(images[:50], probability=0.5), _erased(images[:50], probability=0.5))
    assert not np.array_equal(_erased(images[:50], probability=0.5), _erased(images[:50], (5, 6), probability=0.5))
    np.testing.assert_array_equal(_erased(images[:50], probability=0.0), images[:50])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"probability": 1.5}, "probability"),
        ({"probability": 0.5, "area": (0.5, 0.2)}, "area"),
        ({"probability": 0.5, "min_aspect": 0}, "min_aspect"),
        ({"probability": 0.5, "attempts": 0}, "attempts"),
        ({"probability": 0.5, "images": np.zeros((2, 28, 28, 1), "uint8")}, "float batch"),
        ({"probability": 0.5, "images": np.zeros((2, 28, 28), "float32")}, "float batch"),
    ],
)
def test_random_erasing_refuses_bad_settings(options, message):
    images = options.pop("images", np.zeros((2, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match=message):
        _erased(images, **options)


def test_the_training_pipeline_erases_only_when_asked_and_the_same_way_every_time():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 256)

    def first_batch(erasing):
        batches = training.train_dataset(images, labels, 128, 0, 1, True, erasing=erasing)
        return next(iter(batches))[0].numpy()

    plain, erased, again = first_batch(0.0), first_batch(0.5), first_batch(0.5)
    np.testing.assert_array_equal(erased, again)
    differs = (plain != erased).any(axis=(1, 2, 3))
    assert 0.3 < differs.mean() < 0.7  # about half the images, each otherwise the same
    np.testing.assert_array_equal(plain[~differs], erased[~differs])


def test_warm_up_rises_linearly_from_zero_then_decays_to_zero_at_the_last_step():
    recipe = dataclasses.replace(recipes.IMPROVED, warmup_epochs=2, epochs=10)
    schedule = training.learning_rate_for(recipe, steps_per_epoch=10)
    peak = recipe.learning_rate
    assert float(schedule(0)) == 0.0
    assert float(schedule(10)) == pytest.approx(peak / 2)
    assert float(schedule(20)) == pytest.approx(peak)
    # the cosine over the 80 steps that remain: half-way, half the peak; at the end, zero
    assert float(schedule(60)) == pytest.approx(peak / 2, rel=1e-5)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"warmup_epochs": 15}, "warmup_epochs"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"warmup_epochs": 1, "schedule": "constant"}, "cosine"),
        ({"erasing": 1.0}, "erasing"),
        ({"erasing": True}, "erasing"),
    ],
)
def test_bad_warm_up_or_erasing_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(recipes.IMPROVED, **change)


def test_the_records_recipes_change_one_thing_each():
    plain = recipes.IMPROVED.record()
    for name, key, value in (("erasing", "erasing", 0.5), ("warmup", "warmup_epochs", 1)):
        record = recipes.get(name).record()
        assert record.pop(key) == value and record.pop("config") == name
        assert record == {k: v for k, v in plain.items() if k != "config"}  # nothing else changes
        assert run_folder._mismatches(plain, recipes.get(name))  # a resume would refuse the other recipe
    wide = recipes.get("mid_wide").record()
    assert wide["model_args"] == plain["model_args"] | {"width": recipes.MID_WIDTH}
    assert keras.Model.count_params(recipes.MID_WIDE.build()) <= 300_000
