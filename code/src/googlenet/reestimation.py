"""Batch normalisation's statistics recomputed for a finished run's final weights.

A network trained with batch normalisation keeps a moving average of each layer's batch mean
and variance, gathered while the weights changed. For the weights' moving average
(:mod:`googlenet.averaging`) those statistics belong to other weights: the raw ones the
optimiser stepped through. :func:`reestimate_batch_norm` replaces them by the plain average,
over the training images, of every batch's statistics computed with the final weights,
changing nothing else.

:func:`score_run` (``python -m googlenet reestimate --run FOLDER``) does it for a run's saved
model, scores validation and test images, and ships ``bn_reestimated.json`` (the accuracies
with the saved and the recomputed statistics) and ``bn_reestimated_predictions.npz`` (the test
predictions) in the run folder, without touching the saved model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np

from .data import FashionMNIST
from .evaluate import predict_classes
from .provenance import git_commit, library_versions, machine_description, write_json_atomic
from .runs import load_run, validation_run

SUMMARY_FILE = "bn_reestimated.json"
PREDICTIONS_FILE = "bn_reestimated_predictions.npz"


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """Every batch normalisation layer of ``model``, nested ones included.

    Args:
        model: a Keras model.
    """
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def reestimate_batch_norm(model: keras.Model, images: np.ndarray, batch_size: int = 128) -> int:
    """Overwrite every batch norm layer's moving statistics with their average over ``images``.

    Batch k (1, 2, ...) is run in training mode with each layer's momentum set to (k - 1) / k,
    so that after the last batch the moving mean and variance are the plain average of the
    batches' statistics; the momenta are restored afterwards. Weights are not changed (no
    gradient step is taken); dropout, active in training mode, sits after the last batch norm
    in the book's builds and does not reach the statistics.

    Args:
        model: the model whose statistics are recomputed, in place.
        images: raw uint8 images (N, 28, 28), unaugmented.
        batch_size: images per batch (the training batch size gives the statistics training saw).

    Returns the number of layers updated.
    """
    layers = batch_norm_layers(model)
    if not layers:
        raise ValueError(f"model {model.name!r} has no batch normalisation layers to re-estimate")
    if len(images) < batch_size:
        raise ValueError(f"{len(images)} images are fewer than one batch of {batch_size}")
    saved = [layer.momentum for layer in layers]
    x = np.asarray(images)[..., None].astype("float32")
    try:
        for k, start in enumerate(range(0, len(x) - batch_size + 1, batch_size), start=1):  # whole batches
            for layer in layers:
                layer.momentum = (k - 1) / k
            model(x[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum
    return len(layers)


def score_run(folder: str | Path, data: FashionMNIST, *, overwrite: bool = False, log=print) -> dict:
    """Re-estimate a finished run's batch norm statistics, score it, and ship the results.

    The statistics are averaged over the run's own training images (all 60,000 but its
    validation images), unaugmented, at its batch size; the saved model is left as it is.

    Args:
        folder: the run folder (a finished run made with ``--validation``).
        data: the full Fashion-MNIST data set.
        overwrite: replace existing result files (else an error says they exist).
        log: where progress lines go.
    """
    run, val_idx = validation_run(folder, (SUMMARY_FILE, PREDICTIONS_FILE), overwrite)
    out = run.folder
    train_idx = np.setdiff1d(np.arange(len(data.y_train)), val_idx)
    model = run.load_model()
    run.checked_test_classes(model, data)  # the model is the one its metadata describes
    before_val = float(np.mean(predict_classes(model, data.x_train[val_idx]) == data.y_train[val_idx]))
    started = time.perf_counter()
    batch_size = run.metadata["batch_size"]
    log(f"{out.name}: batch norm statistics over {len(train_idx):,} training images, batches of {batch_size}")
    layers = reestimate_batch_norm(model, data.x_train[train_idx], batch_size=batch_size)
    seconds = time.perf_counter() - started
    after_test = predict_classes(model, data.x_test).astype(np.uint8)
    after_val = float(np.mean(predict_classes(model, data.x_train[val_idx]) == data.y_train[val_idx]))
    summary = {
        "run": out.name,
        "layers": layers,
        "images": int(len(train_idx)),
        "batch_size": batch_size,
        "validation_accuracy": {"saved": before_val, "reestimated": after_val},
        "test_accuracy": {
            "saved": run.metadata["test_accuracy"],
            "reestimated": float(np.mean(after_test == data.y_test)),
        },
        "seconds": round(seconds, 1),
        "git_commit": git_commit(),
        "machine": machine_description(),
        "versions": library_versions(),
    }
    np.savez_compressed(out / PREDICTIONS_FILE, reestimated=after_test)
    write_json_atomic(out / SUMMARY_FILE, summary)
    log(f"{out.name}: validation {before_val:.4f} -> {after_val:.4f} with re-estimated statistics ({seconds:.0f} s)")
    return summary


def load_reestimated(folder: str | Path) -> tuple[dict, np.ndarray]:
    """A run's shipped re-estimation summary and its test predictions.

    Args:
        folder: the run folder, or a shipped run's name (a folder under ``results/``).
    """
    out = load_run(folder).folder
    if not (out / SUMMARY_FILE).exists():
        raise FileNotFoundError(
            f"{out / SUMMARY_FILE} is missing: make it with `python -m googlenet reestimate --run {out}`"
        )
    with np.load(out / PREDICTIONS_FILE) as saved:
        predictions = saved["reestimated"]
    return json.loads((out / SUMMARY_FILE).read_text()), predictions
