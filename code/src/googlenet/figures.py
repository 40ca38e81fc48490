"""Matplotlib figures for the chapters, readable in the site's light and dark themes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd

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


MARKDOWN_MAX_COLUMNS = 12
"""Widest table (index included) typeset as a table in the PDF; wider ones stay pandas' text,
which wraps its columns into blocks that fit the page."""


def numbered_only(frame: pd.DataFrame) -> bool:
    """Whether ``frame``'s index is pandas' default 0, 1, 2... (nothing a reader needs to see).

    Args:
        frame: the table.
    """
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def html_table(frame: pd.DataFrame) -> str:
    """pandas' HTML table, without the index when it only numbers the rows.

    Args:
        frame: the table.
    """
    with pd.option_context("display.max_colwidth", None):  # a cell's text is never cut short
        if numbered_only(frame):
            return frame.to_html(index=False, border=1, max_rows=60)  # class "dataframe", as pandas
        return frame._repr_html_()


def markdown_table(frame: pd.DataFrame) -> str:
    """A pandas DataFrame as a Markdown table (what the PDF edition typesets as a real table).

    Every column is formatted by pandas itself, as its text and HTML displays format it (common
    decimals per column, ``NaN``, strings as given), so the PDF shows the numbers the site shows.

    Args:
        frame: the table; its index becomes the first column (a multi-level index's levels
            joined by " / ").
    """

    if frame.shape[1] + 1 > MARKDOWN_MAX_COLUMNS:  # IPython then skips this format for the table
        raise NotImplementedError(f"{frame.shape[1] + 1} columns: too wide for a page, shown as text")

    def cells(series: pd.Series) -> list[str]:
        with pd.option_context("display.max_colwidth", None):  # never cut a cell's text short
            text = series.to_string(index=False, header=False).splitlines() if len(series) else []
        return [cell.strip().replace("|", "\\|") for cell in text]

    index_name = " / ".join(str(n) for n in frame.index.names if n is not None)
    labels = [" / ".join(map(str, key)) if isinstance(key, tuple) else str(key) for key in frame.index]
    columns = [cells(pd.Series(labels, dtype=object))] + [cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    header = [index_name] + [str(c).replace("|", "\\|") for c in frame.columns]
    if numbered_only(frame):  # rows only numbered: no index column
        columns, header = columns[1:], header[1:]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows += ["| " + " | ".join(column[r] for column in columns) + " |" for r in range(len(frame))]
    return "\n".join(rows)


def use_book_style() -> None:
    """Apply the book's plotting defaults to every later figure, and its table display.

    In a notebook, every DataFrame is also shown as Markdown: the site keeps pandas' HTML table,
    and the PDF edition, which cannot use HTML, typesets the Markdown as a table that wraps to the
    page instead of pandas' fixed-width text. A table whose rows are only numbered 0, 1, 2...
    is shown without that column, in both.
    """
    mpl.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/markdown"].for_type(pd.DataFrame, markdown_table)
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, html_table)


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
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.5 * len(metrics), 3.0), squeeze=False)
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


def image_grid(
    images,
    titles=None,
    ncols: int = 8,
    size: float = 1.2,
    title: str | None = None,
    *,
    labels=None,
    class_names=None,
    caption_pt: float = 9.0,
    caption_rows: int | None = None,
) -> plt.Figure:
    """Small greyscale images in a grid, each with an optional caption.

    Keep ``size * ncols`` within :data:`googlenet.figure_checks.PAGE_WIDTH_IN` (7 inches) so
    that the site shows the captions at their size.

    Args:
        images: uint8 images (N, H, W) or (N, H, W, 1), pixels 0-255.
        titles: one caption per image (or ``None``); exclusive with ``labels``.
        ncols: images per row.
        size: inches per image.
        title: the figure's title.
        labels: each image's class index: captions its own class from ``class_names``, so a
            caption can never name another image's class.
        class_names: the names ``labels`` index into.
        caption_pt: the captions' font size in points.
        caption_rows: caption only the first this-many rows (for grids whose columns share a
            caption); ``None``: every image.
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
            if titles is not None and (caption_rows is None or i < caption_rows * ncols):
                ax.set_title(titles[i], fontsize=caption_pt)
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
    fig, ax = plt.subplots(figsize=(6.8, 6.0))
    image = ax.imshow(np.log1p(counts), cmap="Blues")
    ax.grid(False)
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(ticks, class_names, fontsize=9)
    ax.set(xlabel="predicted class", ylabel="true class")
    for i in ticks:
        for j in ticks:  # white text only on a dark cell: its shade's luminance below one half
            red, green, blue, _ = image.cmap(image.norm(np.log1p(counts[i, j])))
            colour = "white" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.5 else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=9, color=colour)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
