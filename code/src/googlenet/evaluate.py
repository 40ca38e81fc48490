"""Evaluating trained classifiers: predictions, accuracy, confusion matrices, training curves."""

from __future__ import annotations

import keras
import numpy as np

from .data import NUM_CLASSES
from .models.heads import main_output

NOTE_EPOCHS = 100
"""Epochs the study note trains its build for."""

NOTE_TEST_ACCURACY = 0.9124
"""Test accuracy the study note reports for its build after NOTE_EPOCHS epochs (91.24%)."""


def predict_classes(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Predicted class of every raw uint8 image (N, 28, 28); the models normalise inside.

    Args:
        model: a classifier returning logits (or a dict of heads with ``"main"``).
        images: raw uint8 images (N, 28, 28).
        batch_size: images per forward pass.
    """
    logits = model.predict(images[..., None].astype("float32"), batch_size=batch_size, verbose=0)
    return np.asarray(main_output(logits)).argmax(axis=1)


TTA_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))
"""The views :func:`tta_probabilities` averages by default: the image and its 1-pixel shifts
(rows, columns), each also flipped left-right: ten views, the GoogLeNet paper's multi-crop
evaluation scaled to 28x28 images."""


def shifted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Images moved by ``rows`` down and ``cols`` right, the uncovered border filled with 0 (background).

    Args:
        images: images (N, H, W), any dtype.
        rows, cols: the shift in pixels; negative moves up or left.
    """
    images = np.asarray(images)
    height, width = images.shape[1:3]
    if abs(rows) >= height or abs(cols) >= width:
        raise ValueError(f"a shift of ({rows}, {cols}) pixels moves a {height}x{width} image out of view")
    out = np.zeros_like(images)
    src_r, dst_r = slice(max(0, -rows), height - max(0, rows)), slice(max(0, rows), height - max(0, -rows))
    src_c, dst_c = slice(max(0, -cols), width - max(0, cols)), slice(max(0, cols), width - max(0, -cols))
    out[:, dst_r, dst_c] = images[:, src_r, src_c]
    return out


def tta_probabilities(
    model: keras.Model,
    images: np.ndarray,
    shifts: tuple[tuple[int, int], ...] = TTA_SHIFTS,
    flip: bool = True,
    batch_size: int = 500,
) -> np.ndarray:
    """Test-time augmentation: the mean of the softmax probabilities over several views of each image.

    Args:
        model: a classifier returning logits (or a dict of heads with ``"main"``).
        images: raw uint8 images (N, 28, 28).
        shifts: the (rows, columns) shifts to view each image at; ``(0, 0)`` is the image itself.
        flip: view every shift left-right flipped as well.
        batch_size: images per forward pass.
    """
    if not shifts:
        raise ValueError("shifts is empty: give at least (0, 0), the image itself")
    views = [shifted(images, r, c) for r, c in shifts]
    if flip:
        views += [view[:, :, ::-1] for view in views]
    total = 0.0
    for view in views:
        logits = main_output(model.predict(view[..., None].astype("float32"), batch_size=batch_size, verbose=0))
        total = total + keras.ops.convert_to_numpy(keras.ops.softmax(np.asarray(logits), axis=-1))
    return total / len(views)


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy (a fraction) of ``model`` on raw uint8 images: the one way the book scores a model.

    Args:
        model: a classifier returning logits.
        images: raw uint8 images (N, 28, 28).
        labels: their true classes (N,).
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return float(np.mean(predict_classes(model, images) == np.asarray(labels)))


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts[i, j] = images of true class i predicted as class j.

    Args:
        true: true class of every image.
        predicted: predicted class of every image.
        num_classes: classes (rows and columns).
    """
    true, predicted = np.asarray(true, dtype=int), np.asarray(predicted, dtype=int)
    if true.shape != predicted.shape:
        raise ValueError(f"true has shape {true.shape} but predicted has shape {predicted.shape}")
    if true.size and (min(true.min(), predicted.min()) < 0 or max(true.max(), predicted.max()) >= num_classes):
        raise ValueError(f"class indices must lie in 0..{num_classes - 1}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def per_class_accuracy(counts: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix.

    Args:
        counts: a confusion matrix (rows: true classes).
    """
    return np.diag(counts) / counts.sum(axis=1)


def first_epoch_reaching(history: list[dict], accuracy: float) -> dict | None:
    """The first history row whose test accuracy reaches ``accuracy`` (a fraction), or None.

    Used to ask how long a run took to pass a reference point, such as the study note's 91.24%.

    Args:
        history: a run's per-epoch rows.
        accuracy: the test accuracy to reach, a fraction.
    """
    if not 0.0 < accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in (0, 1], got {accuracy}; write 91.24% as 0.9124")
    return next((row for row in history if row["test_accuracy"] >= accuracy), None)


def recent_slope(history: list[dict], window: int = 5) -> float:
    """Least-squares slope of test accuracy over the last ``window`` epochs, per epoch.

    A fit over several epochs instead of the last difference, because at a constant learning rate
    one epoch's test accuracy can jump by about a point (the write-up run, chapter 7).

    Args:
        history: a run's per-epoch rows.
        window: how many of the last epochs to fit (at least 2).
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 epochs to fit a slope, got {window}")
    if len(history) < window:
        raise ValueError(f"history has {len(history)} epochs, fewer than the window of {window}; pass a smaller window")
    rows = history[-window:]
    epochs = np.array([row["epoch"] for row in rows], dtype=float)
    accuracies = np.array([row["test_accuracy"] for row in rows], dtype=float)
    return float(np.polyfit(epochs, accuracies, 1)[0])


def _last(history: list[dict], window: int) -> np.ndarray:
    if window < 1:
        raise ValueError(f"window must be at least 1 epoch, got {window}")
    if len(history) < window:
        raise ValueError(f"history has {len(history)} epochs, fewer than the window of {window}; pass a smaller window")
    return np.array([row["test_accuracy"] for row in history[-window:]], dtype=float)


def recent_mean(history: list[dict], window: int = 10) -> float:
    """Mean test accuracy (a fraction) of the last ``window`` epochs: a less noisy summary than the last one.

    Args:
        history: a run's per-epoch rows (``test_accuracy`` a fraction).
        window: how many of the last epochs to average.
    """
    return float(_last(history, window).mean())


def mean_epoch_change(history: list[dict], window: int = 10) -> float:
    """Mean absolute change of test accuracy from one epoch to the next, over the last ``window`` epochs.

    How much a single epoch's score moves by chance at a constant learning rate (chapter 7).

    Args:
        history: a run's per-epoch rows.
        window: how many of the last epochs to look at (at least 2).
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 epochs to measure a change, got {window}")
    return float(np.mean(np.abs(np.diff(_last(history, window)))))
