"""Test accuracies others report on Fashion-MNIST, each with where it was reported.

The benchmark table in the data set's README (zalandoresearch/fashion-mnist) lists results as
their submitters sent them; its authors write "Note that we haven't yet tested these results".
Chapters 8 and 10 show them beside the book's own runs, marked as submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

README_TABLE = "submitted to the Fashion-MNIST README, not tested by its authors"
ERASING_ISSUE = (
    "a user's runs of the random-erasing authors' script, mean error over runs "
    "(github.com/zhunzhong07/Random-Erasing, issue 10)"
)
ERASING_SCRIPT_EPOCHS = 300
"""Epochs that script (``fashionmnist.py``) trains by default: SGD from 0.1, divided by 10 at 150 and 225."""
ERASING_SCRIPT_KEEPS_BEST_EPOCH = True
"""That script prints the best test accuracy over its epochs (``best_acc = max(test_acc, best_acc)``)."""


@dataclass(frozen=True)
class Reported:
    """One published accuracy.

    Attributes:
        model: the name the source gives it.
        accuracy: test accuracy, a fraction.
        source: who reported it, and how far it was checked.
    """

    model: str
    accuracy: float
    source: str


REPORTED: tuple[Reported, ...] = (
    Reported("Best scikit-learn baseline (SVC)", 0.897, "Xiao et al. 2017"),
    Reported("GoogleNet with cross-entropy loss", 0.937, README_TABLE),
    Reported("VGG16", 0.935, README_TABLE),
    Reported("ResNet18", 0.949, README_TABLE),
    Reported("WRN-40-4", 0.967, README_TABLE),
    Reported("ResNet-20", 0.9518, ERASING_ISSUE),  # 4.82% +- 0.04% error
    Reported("ResNet-20 + random erasing", 0.9555, ERASING_ISSUE),  # 4.45% +- 0.04% error
    Reported("Human performance", 0.835, "Fashion-MNIST README"),
)


def reported(model: str) -> Reported:
    """The entry of :data:`REPORTED` for ``model``; an unknown name is an error listing the known ones.

    Args:
        model: the entry's name, as the source gives it.
    """
    for entry in REPORTED:
        if entry.model == model:
            return entry
    raise ValueError(f"no reported result for {model!r}: choose one of {', '.join(e.model for e in REPORTED)}")
