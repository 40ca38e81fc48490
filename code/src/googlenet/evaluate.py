"""Evaluating trained classifiers: predictions, confusion matrices, per-class accuracy."""

from __future__ import annotations

import keras
import numpy as np


def predict_classes(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Predicted class of every raw uint8 image (N, 28, 28); the models normalise inside."""
    logits = model.predict(images[..., None].astype("float32"), batch_size=batch_size, verbose=0)
    if isinstance(logits, dict):
        logits = logits["main"]
    return np.asarray(logits).argmax(axis=1)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts[i, j] = images of true class i predicted as class j."""
    true, predicted = np.asarray(true, dtype=int), np.asarray(predicted, dtype=int)
    if true.shape != predicted.shape:
        raise ValueError(f"true has shape {true.shape} but predicted has shape {predicted.shape}")
    if true.size and (min(true.min(), predicted.min()) < 0 or max(true.max(), predicted.max()) >= num_classes):
        raise ValueError(f"class indices must lie in 0..{num_classes - 1}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def per_class_accuracy(counts: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix."""
    return np.diag(counts) / counts.sum(axis=1)
