from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import recipes, runtime, training
from googlenet.models import heads, improved, paper


def test_augmentation_keeps_shapes_labels_and_range(tiny):
    ds = training.train_dataset(tiny.x_train, tiny.y_train, 8, seed=0, epoch=1, augment=True)
    plain = training.train_dataset(tiny.x_train, tiny.y_train, 8, seed=0, epoch=1, augment=False)
    for (xa, ya), (xp, yp) in zip(ds, plain, strict=True):
        assert xa.shape == xp.shape and xa.shape[1:] == (28, 28, 1)
        np.testing.assert_array_equal(ya, yp)
        assert float(np.min(xa)) >= 0 and float(np.max(xa)) <= 255

    def epoch(seed, number):
        return [x.numpy() for x, _ in training.train_dataset(tiny.x_train, tiny.y_train, 8, seed, number, True)]

    first, again, other = epoch(0, 1), epoch(0, 1), epoch(0, 2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))  # a function of (seed, epoch)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_augmenter_options():
    assert [type(layer).__name__ for layer in training.make_augmenter(0).layers] == ["RandomTranslation", "RandomFlip"]
    assert [type(layer).__name__ for layer in training.make_augmenter(0, flip=False).layers] == ["RandomTranslation"]
    assert training.make_augmenter(0, shift_pixels=3).layers[0].height_factor == 3 / 28


def test_train_step_reduces_loss(tiny):
    keras.utils.set_random_seed(0)
    trainer = training.Trainer(improved.improved_net(num_modules=2, width=0.5), 1e-2)
    x = tiny.x_train[:16, ..., None].astype("float32")
    y = keras.utils.to_categorical(tiny.y_train[:16], 10)
    losses = []
    for _ in range(8):
        trainer.reset()
        trainer.train_step(x, y)
        losses.append(float(trainer.train_loss.result()))
    assert losses[-1] < losses[0]


def test_weighted_loss_is_the_papers_rule():
    assert float(heads.weighted_loss({"main": 1.2, "aux1": 1.8, "aux2": 1.6})) == pytest.approx(2.22)
    assert float(heads.weighted_loss({"main": 0.7})) == pytest.approx(0.7)


def test_one_loop_trains_several_heads_and_reports_each_loss():
    runtime.set_seed(0)
    model = paper.googlenet(input_shape=(65, 65, 1), num_classes=3, batch_norm=True)
    trainer = training.Trainer(model, 1e-3, sparse_labels=True)  # a tf.function method holds its object weakly
    step = trainer.train_step
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(6, 65, 65, 1)).astype("float32")
    labels = np.array([0, 1, 2, 0, 1, 2], dtype="int32")
    history = training.run_steps(step, images, labels, steps=12, batch_size=6)
    assert set(history) == {"main", "aux1", "aux2", "total"}
    assert len(history["total"]) == 12
    np.testing.assert_allclose(
        history["total"], np.add(history["main"], 0.3 * np.add(history["aux1"], history["aux2"])), rtol=1e-5
    )
    assert history["total"][-1] < history["total"][0]


def test_main_output_rule():
    assert heads.main_output({"main": 1, "aux1": 2}) == 1
    assert heads.main_output(3) == 3
    assert heads.as_heads(3) == {"main": 3}


def test_reseed_generators_makes_dropout_repeatable():
    model = improved.improved_net(num_modules=6, aux_heads=True)
    assert training.reseed_generators(model, 7) == 3  # two auxiliary heads' dropouts and the main one
    x = np.full((2, 28, 28, 1), 100, "float32")
    training.reseed_generators(model, 7)
    first = model(x, training=True)["main"]
    training.reseed_generators(model, 7)
    np.testing.assert_array_equal(first, model(x, training=True)["main"])


def test_cosine_schedule_spans_the_run():
    schedule = training.learning_rate_for(recipes.IMPROVED, steps_per_epoch=10)
    assert float(schedule(0)) == pytest.approx(recipes.IMPROVED.learning_rate)
    assert float(schedule(10 * recipes.IMPROVED.epochs)) == pytest.approx(0.0)
    assert training.learning_rate_for(recipes.WRITEUP, 10) == recipes.WRITEUP.learning_rate


def test_run_steps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        training.run_steps(lambda x, y: {}, np.zeros((2, 1)), np.zeros(2), steps=0, batch_size=1)
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        training.run_steps(lambda x, y: {}, np.zeros((2, 1)), np.zeros(3), steps=1, batch_size=1)


def test_set_seed_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        runtime.set_seed(-1)
    with pytest.raises(ValueError, match="seed"):
        runtime.set_seed(2**32)


def test_reseeding_refuses_random_states_it_cannot_reach():
    @keras.saving.register_keras_serializable(package="googlenet_tests")
    class Hidden(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = keras.layers.Dropout(0.5)

        def call(self, x, training=False):
            return self.inner(x, training=training)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, Hidden()(inputs))
    with pytest.raises(RuntimeError, match="holds 1 random states but only 0 could be reseeded"):
        training.reseed_generators(model, 1)
