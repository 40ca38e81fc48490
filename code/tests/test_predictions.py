"""Shipped predicted classes: written for finished runs, refused when they would not match."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from googlenet import evaluate, predictions, recipes, run_folder, runs

SMALL = replace(
    recipes.IMPROVED, epochs=1, batch_size=16, model_args=recipes.IMPROVED.model_args | {"num_modules": 2, "width": 0.5}
)


def _quiet(_message: str) -> None:
    pass


def test_a_run_with_validation_ships_both_sets_and_they_read_back(tiny, tmp_path):
    runs.train_run(replace(SMALL, validation_per_class=1), tmp_path / "run", tiny, progress=False, log=_quiet)
    saved = predictions.score_run(tmp_path / "run", tiny, log=_quiet)
    model = runs.load_run(tmp_path / "run").load_model()
    indices = json.loads((tmp_path / "run" / run_folder.VALIDATION_INDICES).read_text())
    assert np.array_equal(saved["test"], evaluate.predict_classes(model, tiny.x_test))
    assert np.array_equal(saved["validation"], evaluate.predict_classes(model, tiny.x_train[indices]))
    read = predictions.load_predictions(tmp_path / "run")
    assert set(read) == {"test", "validation"} and all(np.array_equal(read[k], saved[k]) for k in saved)
    assert read["test"].dtype == np.uint8
    before = (tmp_path / "run" / predictions.PREDICTIONS_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        predictions.score_run(tmp_path / "run", tiny, log=_quiet)
    assert (tmp_path / "run" / predictions.PREDICTIONS_FILE).read_bytes() == before
    assert [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".predictions")] == []


def test_a_run_without_validation_ships_the_test_set_only(tiny, tmp_path):
    runs.train_run(SMALL, tmp_path / "run", tiny, progress=False, log=_quiet)
    assert set(predictions.score_run(tmp_path / "run", tiny, log=_quiet)) == {"test"}


def test_a_model_that_does_not_score_its_metadata_is_refused(tiny, tmp_path):
    runs.train_run(SMALL, tmp_path / "run", tiny, progress=False, log=_quiet)
    meta_file = tmp_path / "run" / "metadata.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps(meta | {"test_accuracy": meta["test_accuracy"] + 0.05}))
    with pytest.raises(ValueError, match="predictions are saved only for a model that scores what it says"):
        predictions.score_run(tmp_path / "run", tiny, log=_quiet)
    assert not (tmp_path / "run" / predictions.PREDICTIONS_FILE).exists()
    with pytest.raises(FileNotFoundError, match="python -m googlenet predict --run"):
        predictions.load_predictions(tmp_path / "run")


def test_the_command_line_refuses_a_folder_without_a_run_before_loading_anything(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "googlenet", "predict", "--run", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "holds no finished run" in done.stderr
