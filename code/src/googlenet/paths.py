"""Where the book's shipped results live, found the same way by notebooks, tests and commands.

Kept free of TensorFlow and Keras so that light tools (the benchmark's parent process) can use it.
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS_ENV = "GOOGLENET_RESULTS"


def results_dir() -> Path:
    """The book's ``results/`` folder: ``$GOOGLENET_RESULTS``, else the repository's own.

    Notebooks, tests and the benchmark all find shipped runs here, whatever the current folder.
    """
    explicit = os.environ.get(RESULTS_ENV)
    folder = Path(explicit) if explicit else Path(__file__).resolve().parents[3] / "results"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the book's results folder {folder} does not exist: run from a clone of the book's repository, "
            f"or set {RESULTS_ENV} to a folder holding the shipped runs"
        )
    return folder


def require_results() -> Path:
    """:func:`results_dir` for a chapter: without it, the notebook stops with the message alone
    (a ``SystemExit``, which Jupyter shows without a traceback)."""
    try:
        return results_dir()
    except FileNotFoundError as error:
        raise SystemExit(f"This chapter reads the book's shipped training runs: {error}") from None


def benchmarks_dir() -> Path:
    """Where committed benchmark results live: ``results/benchmarks`` of the book."""
    return results_dir() / "benchmarks"
