"""Test-time augmentation of a finished run: each image classified by the mean of several views.

GoogLeNet's paper scored 144 crops of every test image, averaging their softmax probabilities
(section 7); one model's top-5 error fell from 10.07% with one crop to 7.89% with 144 (Table 3).
Fashion-MNIST's 28x28 images have no crops to take, so the views here are the image and its
1-pixel shifts, each also mirrored left-right (:data:`googlenet.evaluate.TTA_SHIFTS`), combined
into four view sets (:data:`VIEW_SETS`).

Ten forward passes over 15,000 images take up to several minutes on two cores (``tta.json`` records each run's
time), too long for a chapter.
:func:`score_run` (``python -m googlenet tta --run FOLDER``) does it once per run and ships the
result in the run folder: ``tta.json`` (accuracy of every view set on the run's validation and
test images, which set the validation images choose) and ``tta_predictions.npz`` (every view
set's predicted class for each test image, the material of a paired test).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np

from .data import FashionMNIST
from .evaluate import TTA_SHIFTS, shifted
from .models.heads import main_output
from .provenance import git_commit, library_versions, machine_description, write_json_atomic
from .runs import load_run, validation_run

SUMMARY_FILE = TTA_FILE = "tta.json"
PREDICTIONS_FILE = "tta_predictions.npz"

VIEW_SETS: dict[str, tuple[tuple[tuple[int, int], ...], bool]] = {
    "single": (((0, 0),), False),
    "flip": (((0, 0),), True),
    "shifts": (TTA_SHIFTS, False),
    "shifts+flip": (TTA_SHIFTS, True),
}
"""Each view set's (row, column) shifts and whether every shifted view is also mirrored:
1, 2, 5 and 10 views. ``single`` is the plain prediction."""


def _views(shifts: tuple[tuple[int, int], ...], flip: bool) -> list[tuple[int, int, bool]]:
    return [(r, c, False) for r, c in shifts] + ([(r, c, True) for r, c in shifts] if flip else [])


ALL_VIEWS: tuple[tuple[int, int, bool], ...] = tuple(_views(TTA_SHIFTS, True))
"""Every view any set uses, (rows, columns, mirrored): each is computed once."""


def view_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The softmax probabilities of every view in :data:`ALL_VIEWS`: shape (views, N, classes).

    Args:
        model: a classifier returning logits (or a dict of heads with ``"main"``).
        images: raw uint8 images (N, 28, 28).
        batch_size: images per forward pass.
    """
    out = []
    for rows, cols, mirrored in ALL_VIEWS:
        view = shifted(images, rows, cols)
        view = view[:, :, ::-1] if mirrored else view
        logits = main_output(model.predict(view[..., None].astype("float32"), batch_size=batch_size, verbose=0))
        out.append(keras.ops.convert_to_numpy(keras.ops.softmax(np.asarray(logits), axis=-1)))
    return np.stack(out)


def combine(probabilities: np.ndarray, view_set: str) -> np.ndarray:
    """The class each image gets from the mean probability over one view set's views.

    Args:
        probabilities: :func:`view_probabilities`'s output.
        view_set: a key of :data:`VIEW_SETS`.
    """
    if view_set not in VIEW_SETS:
        raise ValueError(f"unknown view set {view_set!r}: choose one of {', '.join(VIEW_SETS)}")
    if probabilities.shape[0] != len(ALL_VIEWS):
        raise ValueError(f"expected {len(ALL_VIEWS)} views' probabilities, got {probabilities.shape[0]}")
    chosen = [ALL_VIEWS.index(view) for view in _views(*VIEW_SETS[view_set])]
    return probabilities[chosen].mean(axis=0).argmax(axis=1)


def choose_view_set(validation_accuracy: dict[str, float]) -> str:
    """The view set with the highest validation accuracy; a tie goes to the one with fewer views.

    Args:
        validation_accuracy: accuracy (a fraction) per view set.
    """
    unknown = set(validation_accuracy) - set(VIEW_SETS)
    if unknown or not validation_accuracy:
        raise ValueError(f"give validation accuracies of view sets among {list(VIEW_SETS)}, got {unknown or 'none'}")
    order = list(VIEW_SETS)
    return max(validation_accuracy, key=lambda name: (validation_accuracy[name], -order.index(name)))


def score_run(folder: str | Path, data: FashionMNIST, *, overwrite: bool = False, log=print) -> dict:
    """Score a finished run's model under every view set; write ``tta.json`` and the predictions.

    Args:
        folder: the run folder (it must hold a finished run made with ``--validation``).
        data: the full Fashion-MNIST data set.
        overwrite: replace existing TTA files (else an error says they exist).
        log: where progress lines go.
    """
    run, indices = validation_run(folder, (TTA_FILE, PREDICTIONS_FILE), overwrite)
    out = run.folder
    model = run.load_model()
    run.checked_test_classes(model, data)  # the model is the one its metadata describes
    started = time.perf_counter()
    log(f"{out.name}: {len(ALL_VIEWS)} views of {len(indices):,} validation images")
    val_probabilities = view_probabilities(model, data.x_train[indices])
    log(f"{out.name}: {len(ALL_VIEWS)} views of {len(data.y_test):,} test images")
    test_probabilities = view_probabilities(model, data.x_test)
    seconds = time.perf_counter() - started
    y_val = data.y_train[indices]
    predictions = {name: combine(test_probabilities, name).astype(np.uint8) for name in VIEW_SETS}
    validation = {name: float(np.mean(combine(val_probabilities, name) == y_val)) for name in VIEW_SETS}
    test = {name: float(np.mean(predictions[name] == data.y_test)) for name in VIEW_SETS}
    chosen = choose_view_set(validation)
    summary = {
        "run": out.name,
        "views": {name: len(_views(*spec)) for name, spec in VIEW_SETS.items()},
        "validation_accuracy": validation,
        "test_accuracy": test,
        "chosen_on_validation": chosen,
        "seconds": round(seconds, 1),
        "git_commit": git_commit(),
        "machine": machine_description(),
        "versions": library_versions(),
    }
    np.savez_compressed(out / PREDICTIONS_FILE, **predictions)
    write_json_atomic(out / TTA_FILE, summary)
    log(f"{out.name}: test {test['single']:.4f} single view, {test[chosen]:.4f} with {chosen!r} ({seconds:.0f} s)")
    return summary


def load_tta(folder: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """A run's shipped TTA summary and its test predictions per view set.

    Args:
        folder: the run folder, or a shipped run's name (a folder under ``results/``).
    """
    out = load_run(folder).folder
    if not (out / TTA_FILE).exists():
        raise FileNotFoundError(f"{out / TTA_FILE} is missing: make it with `python -m googlenet tta --run {out}`")
    summary = json.loads((out / TTA_FILE).read_text())
    with np.load(out / PREDICTIONS_FILE) as saved:
        predictions = {name: saved[name] for name in VIEW_SETS}
    return summary, predictions
