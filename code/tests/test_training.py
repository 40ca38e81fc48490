from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def _tiny_trainer() -> training.Trainer:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    return training.Trainer(model, 1e-3)


def test_score_counts_every_image_and_refuses_a_step_that_counted_none(tiny):
    trainer = _tiny_trainer()
    dataset = training.evaluation_dataset(tiny.x_test, tiny.y_test, batch_size=8)  # 20 images: 8 + 8 + 4
    loss, accuracy = trainer.score(dataset)
    predicted = np.argmax(trainer.model.predict(tiny.x_test[..., None].astype("float32"), verbose=0), axis=1)
    assert accuracy == pytest.approx(float(np.mean(predicted == tiny.y_test)))
    assert int(trainer.test_accuracy.count.numpy()) == 20 and loss > 0
    weights = [v.numpy().copy() for v in trainer.model.variables]
    trainer.score(dataset)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(weights, trainer.model.variables, strict=True))
    assert int(trainer.optimizer.iterations.numpy()) == 0  # scoring trains nothing
    trainer.test_step = lambda images, labels: None  # a step that scores nothing, as an edited source once made it
    with pytest.raises(RuntimeError, match="counted 0 of the 20 images"):
        trainer.score(dataset)


_EDITED_DURING_A_RUN = """
import pathlib, sys
sys.path.insert(0, sys.argv[1])
import keras, numpy as np
from googlenet import training
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
trainer = training.Trainer(model, 1e-3)
rng = np.random.default_rng(0)
images, labels = rng.integers(0, 256, (32, 28, 28), dtype=np.uint8), np.arange(32) % 10
for x, y in training.train_dataset(images, labels, 16, seed=0, epoch=1, augment=False):
    trainer.train_step(x, y)
source = pathlib.Path(training.__file__)  # edited while the run goes on, before test_step is first traced
source.write_text("# edited\\n" * 7 + source.read_text())
before = [v.numpy().copy() for v in model.variables]
steps = int(trainer.optimizer.iterations.numpy())
loss, accuracy = trainer.score(training.evaluation_dataset(images, labels))
unchanged = all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.variables))
unchanged = unchanged and int(trainer.optimizer.iterations.numpy()) == steps
predicted = np.argmax(model.predict(images[..., None].astype("float32"), verbose=0), axis=1)
print(int(trainer.test_accuracy.count.numpy()), accuracy == float(np.mean(predicted == labels)), unchanged)
"""


def test_scores_stay_right_when_the_source_is_edited_during_a_run(tmp_path):
    """AutoGraph read test_step's source from the edited file and traced train_step's body instead.

    The full_res run of 2026-12-01 scored nothing and, worse, trained on the validation and test
    images after every epoch; scoring must count every image and change no weight.
    """
    shutil.copytree(Path(training.__file__).parent, tmp_path / "googlenet")
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _EDITED_DURING_A_RUN, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["32", "True", "True"]
