"""Which images a run trains and validates on: all training images, a held-out validation part, a subset.

The test set is never part of a split: it is scored once per shipped model, for the number a
chapter reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import FashionMNIST, stratified_subset, validation_split
from .recipes import Recipe

SUBSET_SEED = 0
"""Seed of the stratified draw when a recipe trains on ``train_per_class`` images per class."""


@dataclass(frozen=True)
class Split:
    """The images a run trains on and, if its recipe asks, the ones it validates on (raw uint8)."""

    x_train: np.ndarray
    y_train: np.ndarray
    validation_indices: np.ndarray | None  # positions in the full training set
    x_val: np.ndarray | None
    y_val: np.ndarray | None


def training_split(recipe: Recipe, data: FashionMNIST) -> Split:
    """The images a recipe trains (and validates) on.

    The validation images (if the recipe holds them out) are drawn from the full training set
    first; a ``train_per_class`` subset is then drawn from the rest.

    Args:
        recipe: the run's recipe (its ``validation_per_class`` and ``train_per_class`` decide).
        data: the full data set.
    """
    train_idx, val_idx = np.arange(len(data.y_train)), None
    if recipe.validation_per_class is not None:
        train_idx, val_idx = validation_split(data.y_train, recipe.validation_per_class)
    if recipe.train_per_class is not None:
        train_idx = train_idx[stratified_subset(data.y_train[train_idx], recipe.train_per_class, seed=SUBSET_SEED)]
    x_val, y_val = (data.x_train[val_idx], data.y_train[val_idx]) if val_idx is not None else (None, None)
    return Split(data.x_train[train_idx], data.y_train[train_idx], val_idx, x_val, y_val)
