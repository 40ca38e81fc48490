from __future__ import annotations

import keras
import numpy as np
import pytest

from googlenet import models, runtime, train


def test_weighted_loss_is_the_papers_rule():
    assert float(train.weighted_loss({"main": 1.2, "aux1": 1.8, "aux2": 1.6})) == pytest.approx(2.22)
    assert float(train.weighted_loss({"main": 0.7})) == pytest.approx(0.7)


def test_multi_output_step_reduces_loss_on_a_tiny_batch():
    runtime.set_seed(0)
    model = models.googlenet(input_shape=(65, 65, 1), num_classes=3, batch_norm=True)
    step = train.make_multi_output_step(model, keras.optimizers.Adam(1e-3))
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(6, 65, 65, 1)).astype("float32")
    labels = np.array([0, 1, 2, 0, 1, 2], dtype="int32")
    history = train.run_steps(step, images, labels, steps=12, batch_size=6)
    assert set(history) == {"main", "aux1", "aux2", "total"}
    assert len(history["total"]) == 12
    np.testing.assert_allclose(
        history["total"], np.add(history["main"], 0.3 * np.add(history["aux1"], history["aux2"])), rtol=1e-5
    )
    assert history["total"][-1] < history["total"][0]


def test_run_steps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        train.run_steps(lambda x, y: {}, np.zeros((2, 1)), np.zeros(2), steps=0, batch_size=1)
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        train.run_steps(lambda x, y: {}, np.zeros((2, 1)), np.zeros(3), steps=1, batch_size=1)


def test_set_seed_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        runtime.set_seed(-1)
