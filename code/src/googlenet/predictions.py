"""Each shipped run's predicted class for every test image, and every validation image it held out.

The chapters' paired tests need every model's prediction for every image. Predicting them again
in a notebook costs minutes (chapter 9 compares two dozen models, one of them seven times the
others' arithmetic), so :func:`score_run` (``python -m googlenet predict --run FOLDER``) saves
them once in the run folder, ``predictions.npz``, after checking that they give the metadata's
test accuracy exactly. The unit tests check, for every shipped run, that its saved model still
predicts exactly these classes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .data import FashionMNIST
from .evaluate import predict_classes
from .run_folder import VALIDATION_INDICES
from .runs import load_run

SUMMARY_FILE = PREDICTIONS_FILE = "predictions.npz"


def predict(folder: str | os.PathLike, data: FashionMNIST) -> dict[str, np.ndarray]:
    """A finished run's saved model's classes: ``"test"`` and, for a run with validation, ``"validation"``.

    Args:
        folder: the run folder, or a shipped run's name (a folder under ``results/``).
        data: the full Fashion-MNIST data set.

    Raises ``ValueError`` if the test classes do not give the metadata's test accuracy.
    """
    run = load_run(folder)
    model = run.load_model()
    classes = {"test": run.checked_test_classes(model, data)}
    if (run.folder / VALIDATION_INDICES).exists():
        indices = np.asarray(json.loads((run.folder / VALIDATION_INDICES).read_text()))
        classes["validation"] = predict_classes(model, data.x_train[indices]).astype(np.uint8)
    return classes


def score_run(
    folder: str | os.PathLike, data: FashionMNIST, overwrite: bool = False, log: Callable[[str], None] = print
) -> dict[str, np.ndarray]:
    """Predict a finished run's test (and validation) images and save them as ``predictions.npz``.

    Args:
        folder: the run folder.
        data: the full Fashion-MNIST data set.
        overwrite: replace an existing file (else an error names ``--overwrite``).
        log: where the progress line goes.
    """
    out = load_run(folder).folder
    if (out / PREDICTIONS_FILE).exists() and not overwrite:
        raise FileExistsError(f"{out / PREDICTIONS_FILE} exists: add --overwrite to predict the run again")
    classes = predict(out, data)
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".predictions.", suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, **classes)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out / PREDICTIONS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log(f"{out.name}: {', '.join(f'{len(v):,} {k}' for k, v in classes.items())} predictions saved")
    return classes


def load_predictions(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """A run's shipped classes (see :func:`predict`).

    Args:
        folder: the run folder, or a shipped run's name.
    """
    out = load_run(folder).folder
    if not (out / PREDICTIONS_FILE).exists():
        raise FileNotFoundError(
            f"{out / PREDICTIONS_FILE} is missing: make it with `python -m googlenet predict --run {out}`"
        )
    with np.load(out / PREDICTIONS_FILE) as saved:
        return {name: saved[name] for name in saved.files}
