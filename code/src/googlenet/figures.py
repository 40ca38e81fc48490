"""Matplotlib figures for the chapters, readable in the site's light and dark themes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt

BOOK_STYLE: dict[str, object] = {
    # An opaque white background keeps figures legible when the site is in dark mode.
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
}


def use_book_style() -> None:
    """Apply the book's plotting defaults to every later figure."""
    mpl.rcParams.update(BOOK_STYLE)


def training_curves(
    history: Mapping[str, Sequence[float]],
    metrics: Sequence[str] = ("accuracy", "loss"),
    title: str | None = None,
) -> plt.Figure:
    """Plot ``train_<m>`` against ``test_<m>`` (or Keras's ``<m>``/``val_<m>``) per epoch."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for prefix, label in (("train_", "train"), ("", "train"), ("test_", "test"), ("val_", "test")):
            key = f"{prefix}{metric}"
            if key in history:
                values = list(history[key])
                ax.plot(range(1, len(values) + 1), values, label=label, marker="." if len(values) < 40 else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
