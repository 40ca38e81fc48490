"""The shipped runs that chapter 9 reads from metadata without re-scoring: checked here instead.

Uses the real Fashion-MNIST test set (installed by Debian's dataset-fashion-mnist package).
"""

from __future__ import annotations

import numpy as np
import pytest

from googlenet import ablation, cost, data, evaluate, runs

NOT_SCORED_IN_CHAPTER_9 = [a for a in ablation.ABLATIONS if a not in ablation.SCORED_IN_CHAPTER]


@pytest.fixture(scope="module")
def fashion_mnist():
    return data.load_fashion_mnist()


@pytest.mark.parametrize("run", NOT_SCORED_IN_CHAPTER_9, ids=lambda a: a.run)
def test_metadata_accuracy_is_what_the_saved_model_scores(run, fashion_mnist):
    metadata = ablation.load_study_run(run)
    model = runs.load_run(run.run).load_model()
    assert evaluate.accuracy(model, fashion_mnist.x_test, fashion_mnist.y_test) == metadata["test_accuracy"]
    assert cost.total_params(model) == metadata["params"]
    assert cost.total_macs(model) == metadata["multiply_adds"]
    assert len(metadata["history"]) == ablation.EPOCHS
    assert np.isclose(metadata["history"][-1]["test_accuracy"], metadata["test_accuracy"], atol=1e-6)
