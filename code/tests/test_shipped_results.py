"""Every shipped run: its saved model loads, scores and counts what its metadata says, and predicts what it ships.

Uses the real Fashion-MNIST test set (installed by Debian's dataset-fashion-mnist package). The
chapters re-score the runs they discuss too; this test covers every folder under results/.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from googlenet import (
    ablation,
    cost,
    data,
    evaluate,
    followups,
    paths,
    predictions,
    reestimation,
    run_folder,
    runs,
    tta,
)
from googlenet.models.note import counting_twin

SHIPPED = sorted(p.name for p in paths.results_dir().iterdir() if (p / "model.keras").exists())


@pytest.fixture(scope="module")
def fashion_mnist():
    return data.load_fashion_mnist()


def test_every_study_run_is_shipped():
    assert {a.run for a in ablation.ABLATIONS} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_metadata_accuracy_is_what_the_saved_model_scores(name, fashion_mnist):
    run = runs.load_run(name)
    model = run.load_model()
    predicted = evaluate.predict_classes(model, fashion_mnist.x_test)
    assert float(np.mean(predicted == fashion_mnist.y_test)) == run.metadata["test_accuracy"]
    shipped = predictions.load_predictions(name)  # what the chapters' paired tests read
    assert np.array_equal(shipped["test"], predicted)
    if (run.folder / run_folder.VALIDATION_INDICES).exists():
        indices = json.loads((run.folder / run_folder.VALIDATION_INDICES).read_text())
        assert np.array_equal(shipped["validation"], evaluate.predict_classes(model, fashion_mnist.x_train[indices]))
    else:
        assert set(shipped) == {"test"}
    assert cost.total_params(model) == run.metadata["params"]
    assert cost.total_macs(counting_twin(model)) == run.metadata["multiply_adds"]
    assert len(run.history) == run.metadata["epochs"]
    if "inference_precision" not in run.metadata:  # else the history scored the training precision
        assert np.isclose(run.history[-1]["test_accuracy"], run.metadata["test_accuracy"], atol=1e-6)
    else:  # trained in bfloat16, shipped in float32: the saved model computes in float32
        assert run.metadata["inference_precision"] == "float32" and model.output.dtype == "float32"
        assert all(layer.dtype_policy.name == "float32" for layer in model.layers)


def test_the_study_budget_is_what_the_rule_picks_from_the_shipped_budget_runs():
    accuracy = {r.epochs: runs.load_run(r.run).metadata["validation"]["accuracy"] for r in ablation.BUDGET_RUNS}
    assert ablation.choose_budget(accuracy) == ablation.STUDY_EPOCHS


def test_every_validation_run_holds_out_the_same_images():
    study = [*ablation.BUDGET_RUNS, *ablation.VALIDATION_STUDY, *followups.FOLLOWUP_RUNS]
    assert {a.run for a in study} <= set(SHIPPED)
    hashes = {runs.load_run(a.run).metadata["validation"]["indices_sha256"] for a in study}
    assert len(hashes) == 1
    for a in study:  # the registry remakes each run: the resume check finds no setting changed
        # (builder arguments added since a run was made count with their defaults, as on resume)
        recorded = runs.load_run(a.run).metadata["run_config"]
        assert run_folder._mismatches(recorded, a.recipe()) == [], a.run
        assert recorded["config"] == a.config and recorded["epochs"] == a.epochs and recorded["seed"] == a.seed


TTA_SHIPPED = sorted(name for name in SHIPPED if (paths.results_dir() / name / tta.TTA_FILE).exists())


def test_some_runs_ship_test_time_augmentation():
    assert {"improved_val_15ep", "improved_val_15ep_seed1", "improved_val_15ep_seed2"} <= set(TTA_SHIPPED)


@pytest.mark.parametrize("name", TTA_SHIPPED)
def test_shipped_tta_predictions_are_what_the_saved_model_predicts(name, fashion_mnist):
    summary, predicted = tta.load_tta(name)
    run = runs.load_run(name)
    assert summary["run"] == name and summary["test_accuracy"]["single"] == run.metadata["test_accuracy"]
    for view_set, classes in predicted.items():
        assert float(np.mean(classes == fashion_mnist.y_test)) == summary["test_accuracy"][view_set]
    assert summary["chosen_on_validation"] == tta.choose_view_set(summary["validation_accuracy"])
    # Re-predicted on the first 500 test images (all ten views), the classes match the shipped ones
    probabilities = tta.view_probabilities(run.load_model(), fashion_mnist.x_test[:500])
    for view_set, classes in predicted.items():
        assert np.array_equal(tta.combine(probabilities, view_set), classes[:500]), view_set


REESTIMATED = sorted(n for n in SHIPPED if (paths.results_dir() / n / reestimation.SUMMARY_FILE).exists())


def test_shipped_reestimations_are_consistent_with_their_runs(fashion_mnist):
    assert {"ema_val_15ep", "improved_val_15ep"} <= set(REESTIMATED)
    for name in REESTIMATED:
        summary, predicted = reestimation.load_reestimated(name)
        assert summary["run"] == name
        assert summary["test_accuracy"]["saved"] == runs.load_run(name).metadata["test_accuracy"]
        assert float(np.mean(predicted == fashion_mnist.y_test)) == summary["test_accuracy"]["reestimated"]


def test_a_shipped_reestimation_is_what_recomputing_gives(fashion_mnist, tmp_path):
    """Recomputed here from the saved model (about 40 s): the statistics are sums over 55,000
    images in the CPU's order, so a handful of near-tied test images may change class."""
    name = "improved_val_15ep"
    summary, predicted = reestimation.load_reestimated(name)
    model = runs.load_run(name).load_model()
    val = set(json.loads((paths.results_dir() / name / run_folder.VALIDATION_INDICES).read_text()))
    train = np.array([i for i in range(len(fashion_mnist.y_train)) if i not in val])
    reestimation.reestimate_batch_norm(model, fashion_mnist.x_train[train], batch_size=summary["batch_size"])
    again = evaluate.predict_classes(model, fashion_mnist.x_test)
    assert np.mean(again != predicted) <= 0.001  # at most 10 of the 10,000 test images


PROBED = [name for name in SHIPPED if (paths.results_dir() / name / run_folder.GRADIENTS).exists()]


@pytest.mark.parametrize("name", PROBED)
def test_the_last_gradient_probe_is_what_the_saved_model_gives(name, fashion_mnist):
    """The shipped model (the net that is kept, heads dropped) measures the log's last main-loss norms.

    To within 1%: the probe sums gradients over its images in the order the CPU's threads take
    them, and re-measured on a loaded machine a stem norm of a net trained without batch
    normalisation moved by 0.14% (``no_heads_val_5ep_seed1``, conv2). The chapter quotes these
    norms' ratios to two or three digits.
    """
    from dataclasses import replace

    from googlenet import gradients, recipes, splits

    run = runs.load_run(name)
    config = run.metadata["run_config"]
    recipe = replace(
        recipes.get(config["config"]),
        epochs=config["epochs"],
        seed=config["seed"],
        validation_per_class=config["validation_per_class"],
        train_per_class=config["train_per_class"],
    )
    assert recipe.record() == config  # the recipe is still the one that made the run
    split = splits.training_split(recipe, fashion_mnist)
    images, labels = split.x_train[: recipe.gradient_probe], split.y_train[: recipe.gradient_probe]
    logged = run.gradient_norms()[-1]["main"]
    measured = gradients.stage_gradient_norms(run.load_model(), images, labels)
    assert set(measured) == set(gradients.GOOGLENET_STAGES) <= set(logged)
    for stage, norm in measured.items():
        assert norm == pytest.approx(logged[stage], rel=1e-2), stage
