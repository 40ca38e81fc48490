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
    """Plot ``train_<m>`` against ``test_<m>`` (or Keras's ``<m>``/``val_<m>``) per epoch.

    Args:
        history: per-epoch values keyed ``train_<m>``/``test_<m>`` or Keras's ``<m>``/``val_<m>``.
        metrics: which metrics to plot, one panel each.
        title: the figure's title.
    """
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


_BRANCH_COLOURS = {"1x1": "#cfe3f7", "3x3": "#d5efd0", "5x5": "#fbe0c3", "pool": "#e6dcf3"}


def _describe(layer, row) -> str:
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        title = f"{kh}x{kw} conv, {layer.filters}"
        if layer.strides != (1, 1):
            title += f", /{layer.strides[0]}"
    elif isinstance(layer, keras.layers.MaxPooling2D):
        title = f"{layer.pool_size[0]}x{layer.pool_size[1]} max pool"
    else:
        title = type(layer).__name__
    shape = "x".join(map(str, row.output_shape))
    return f"{title}\n{shape}"


def draw_inception_module(model, module: str, title: str | None = None) -> plt.Figure:
    """Draw one inception module of a built model: its branches, widths, shapes and costs.

    Each box is a layer (kernel, filters, output shape); under each branch is its total of
    multiply-adds and parameters as counted by :mod:`googlenet.cost`. Batch-norm and ReLU
    layers are folded into the convolution they follow.

    Args:
        model: a built functional model holding the module.
        module: the module's name (its concatenation layer's name).
        title: the heading (default: the module's name).
    """
    from .blocks import BRANCHES, branch_of
    from .cost import format_count, layer_costs

    rows = layer_costs(model)
    branches: dict[str, list] = {b: [] for b in BRANCHES}
    totals = {b: [0, 0] for b in BRANCHES}
    for row in rows:
        branch = branch_of(row.name, module)
        if branch is None:
            continue
        totals[branch][0] += row.params
        totals[branch][1] += row.macs
        layer = model.get_layer(row.name)
        if row.kind in ("Conv2D", "MaxPooling2D"):
            branches[branch].append(_describe(layer, row))
    present = [b for b in BRANCHES if branches[b]]
    if not present:
        raise ValueError(f"model {model.name!r} has no layers of a module named {module!r}")
    concat = model.get_layer(module)
    in_desc = "x".join(str(int(d)) for d in model.get_layer(f"{module}_pool").input.shape[1:])
    out_desc = "x".join(str(int(d)) for d in concat.output.shape[1:])

    depth = max(len(branches[b]) for b in present)
    width = len(present)
    fig, ax = plt.subplots(figsize=(1.85 * width + 0.4, 0.95 * depth + 2.6))
    ax.set_xlim(0, width)
    ax.set_ylim(-1.9, depth + 1.4)
    ax.axis("off")
    box = {"boxstyle": "round,pad=0.35", "edgecolor": "#333333", "linewidth": 0.8}

    def node(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=10, bbox={**box, "facecolor": colour})

    node(width / 2, -0.55, f"input\n{in_desc}", "#eeeeee")
    node(width / 2, depth + 0.95, f"concatenate\n{out_desc}", "#eeeeee")
    for i, b in enumerate(present):
        x = i + 0.5
        layers_here = branches[b]
        ys = [0.55 + j * (depth / max(len(layers_here), 1)) for j in range(len(layers_here))]
        ax.annotate("", xy=(x, ys[0] - 0.35), xytext=(width / 2, -0.2), arrowprops={"arrowstyle": "->", "lw": 0.7})
        for j, (y, text) in enumerate(zip(ys, layers_here, strict=True)):
            node(x, y, text, _BRANCH_COLOURS[b])
            if j:
                ax.annotate(
                    "",
                    xy=(x, y - 0.3),
                    xytext=(x, ys[j - 1] + 0.3),
                    arrowprops={"arrowstyle": "->", "lw": 0.7},
                )
        ax.annotate(
            "",
            xy=(width / 2, depth + 0.6),
            xytext=(x, ys[-1] + 0.35),
            arrowprops={"arrowstyle": "->", "lw": 0.7},
        )
        params, macs = totals[b]
        ax.text(
            x,
            -1.45,
            f"{b} branch\n{format_count(macs)} MACs\n{format_count(params)} params",
            ha="center",
            va="center",
            fontsize=9.5,
            color="#222222",
        )
    total_p = sum(p for p, _ in totals.values())
    total_m = sum(m for _, m in totals.values())
    heading = title or module
    ax.set_title(f"{heading}\n{format_count(total_m)} multiply-adds, {format_count(total_p)} parameters", fontsize=11)
    fig.tight_layout()
    return fig


def image_grid(
    images,
    titles=None,
    ncols: int = 8,
    size: float = 1.2,
    title: str | None = None,
    *,
    labels=None,
    class_names=None,
) -> plt.Figure:
    """Small greyscale images in a grid, each with an optional caption.

    Args:
        images: uint8 images (N, H, W) or (N, H, W, 1), pixels 0-255.
        titles: one caption per image (or ``None``); exclusive with ``labels``.
        ncols: images per row.
        size: inches per image.
        title: the figure's title.
        labels: each image's class index: captions its own class from ``class_names``, so a
            caption can never name another image's class.
        class_names: the names ``labels`` index into.
    """
    import numpy as np

    images = np.asarray(images)
    if labels is not None:
        if titles is not None or class_names is None:
            raise ValueError("give labels together with class_names, and not with titles")
        labels = np.asarray(labels)
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        titles = [class_names[int(label)] for label in labels]
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i].squeeze(), cmap="gray_r", vmin=0, vmax=255)
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix_figure(counts, class_names, title: str | None = None) -> plt.Figure:
    """A confusion matrix with counts written in every cell.

    Args:
        counts: the confusion matrix (rows: true classes).
        class_names: the classes' names, in index order.
        title: the figure's title.
    """
    import numpy as np

    counts = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.imshow(np.log1p(counts), cmap="Blues")
    ax.grid(False)
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class")
    threshold = np.log1p(counts).max() / 2
    for i in ticks:
        for j in ticks:
            colour = "white" if np.log1p(counts[i, j]) > threshold else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7, color=colour)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
