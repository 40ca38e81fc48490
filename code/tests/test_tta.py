"""Test-time augmentation of finished runs: view sets, the choice on validation, the shipped files."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from googlenet import evaluate, recipes, runs, tta


def _probabilities(n=6, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random((len(tta.ALL_VIEWS), n, classes))
    return p / p.sum(axis=2, keepdims=True)


def test_view_sets_have_one_two_five_and_ten_views():
    sizes = {name: len(tta._views(*spec)) for name, spec in tta.VIEW_SETS.items()}
    assert sizes == {"single": 1, "flip": 2, "shifts": 5, "shifts+flip": 10}
    assert len(tta.ALL_VIEWS) == 10 and tta.ALL_VIEWS[0] == (0, 0, False)


def test_single_is_the_plain_prediction_and_all_ten_are_their_mean():
    p = _probabilities()
    assert np.array_equal(tta.combine(p, "single"), p[0].argmax(axis=1))
    assert np.array_equal(tta.combine(p, "shifts+flip"), p.mean(axis=0).argmax(axis=1))
    flipped = tta.ALL_VIEWS.index((0, 0, True))
    assert np.array_equal(tta.combine(p, "flip"), (p[0] + p[flipped]).argmax(axis=1))


def test_a_view_set_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="unknown view set 'crops'.*single, flip, shifts, shifts\\+flip"):
        tta.combine(_probabilities(), "crops")
    with pytest.raises(ValueError, match="expected 10 views"):
        tta.combine(_probabilities()[:5], "single")


def test_the_choice_takes_the_best_validation_accuracy_and_fewer_views_on_a_tie():
    assert tta.choose_view_set({"single": 0.90, "flip": 0.91, "shifts": 0.92, "shifts+flip": 0.915}) == "shifts"
    assert tta.choose_view_set({"single": 0.92, "flip": 0.92, "shifts+flip": 0.92}) == "single"
    with pytest.raises(ValueError, match="among"):
        tta.choose_view_set({"crops": 0.99})


def test_views_are_the_shifted_and_mirrored_images(tiny):
    class Echo:  # a "model" whose logits are the image's first row: shows which view it was given
        def predict(self, x, batch_size, verbose):
            return x[:, 0, :10, 0]

    p = tta.view_probabilities(Echo(), tiny.x_test[:3])
    for k, (rows, cols, mirrored) in enumerate(tta.ALL_VIEWS):
        view = evaluate.shifted(tiny.x_test[:3], rows, cols)
        view = view[:, :, ::-1] if mirrored else view
        expected = np.exp(view[:, 0, :10].astype("float64"))
        assert np.allclose(p[k], expected / expected.sum(axis=1, keepdims=True), atol=1e-6)


def test_a_run_is_scored_and_its_files_read_back(tiny, tmp_path):
    small = recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
    recipe = replace(recipes.IMPROVED, epochs=1, batch_size=16, model_args=small, validation_per_class=1)
    runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    summary = tta.score_run(tmp_path / "run", tiny, log=lambda m: None)
    meta = runs.load_run(tmp_path / "run").metadata
    assert summary["test_accuracy"]["single"] == meta["test_accuracy"]
    assert summary["chosen_on_validation"] in tta.VIEW_SETS and set(summary["views"]) == set(tta.VIEW_SETS)
    read, predictions = tta.load_tta(tmp_path / "run")
    assert read == json.loads(json.dumps(summary))
    for name, predicted in predictions.items():
        assert predicted.dtype == np.uint8 and len(predicted) == len(tiny.y_test)
        assert float(np.mean(predicted == tiny.y_test)) == summary["test_accuracy"][name]
    before = (tmp_path / "run" / tta.TTA_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        tta.score_run(tmp_path / "run", tiny, log=lambda m: None)
    assert (tmp_path / "run" / tta.TTA_FILE).read_bytes() == before


def test_a_run_without_validation_images_is_refused(tiny, tmp_path):
    small = recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
    recipe = replace(recipes.IMPROVED, epochs=1, batch_size=16, model_args=small)
    runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    with pytest.raises(ValueError, match="--validation"):
        tta.score_run(tmp_path / "run", tiny, log=lambda m: None)
    assert not (tmp_path / "run" / tta.TTA_FILE).exists()


def test_the_command_line_refuses_a_folder_without_a_run_before_loading_anything(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "googlenet", "tta", "--run", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "holds no finished run" in done.stderr


def test_missing_tta_files_name_the_command(tmp_path, tiny):
    small = recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
    recipe = replace(recipes.IMPROVED, epochs=1, batch_size=16, model_args=small, validation_per_class=1)
    runs.train_run(recipe, tmp_path / "run", tiny, progress=False, log=lambda m: None)
    with pytest.raises(FileNotFoundError, match="python -m googlenet tta --run"):
        tta.load_tta(tmp_path / "run")
