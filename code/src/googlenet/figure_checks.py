"""What can be checked of a figure's legibility before a reader sees it.

Three rules the book's figures follow, each checked on the drawn figure (the checks draw it):

* every piece of text is at least :data:`MIN_FONT_PT` points as the site shows it: a figure
  wider than :data:`PAGE_WIDTH_IN` is shrunk to that width, and its text with it;
* no legend inside an axes covers a plotted point of that axes;
* within one axes, no two labelled series share colour, line style and marker, so that they
  can be told apart in print and by readers who do not see colour.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D

MIN_FONT_PT = 8.0
"""Smallest text size, in points, as a reader sees it on the site."""

PAGE_WIDTH_IN = 7.0
"""Widest a figure is shown, in inches of the figure: the site's content column is 672 CSS pixels
(7 inches at 96 pixels per inch) at a 1,280-pixel window (measured in Chromium on the built site),
and narrower windows shrink it further."""


def _draw(fig: plt.Figure) -> None:
    """Draw ``fig``, giving it a raster canvas first if it has none (a figure already closed)."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()


def display_scale(fig: plt.Figure, page_width_in: float = PAGE_WIDTH_IN) -> float:
    """How much the site shrinks ``fig``: 1 for figures at most ``page_width_in`` wide, else the ratio.

    Args:
        fig: the figure.
        page_width_in: the widest figure shown at full size, in inches.
    """
    return min(1.0, page_width_in / float(fig.get_figwidth()))


def small_text(fig: plt.Figure, min_pt: float = MIN_FONT_PT) -> list[str]:
    """Every visible, non-empty text of ``fig`` smaller than ``min_pt`` points as shown, described.

    The size shown is the font size times :func:`display_scale`.

    Args:
        fig: the figure; it is drawn first, which creates its tick labels.
        min_pt: the smallest size allowed.
    """
    _draw(fig)
    scale = display_scale(fig)
    found = []
    for text in fig.findobj(lambda artist: hasattr(artist, "get_fontsize") and hasattr(artist, "get_text")):
        shown = text.get_fontsize() * scale
        if text.get_visible() and text.get_text().strip() and shown < min_pt:
            note = f" ({text.get_fontsize():.1f} pt in a {fig.get_figwidth():g}-inch figure)" if scale < 1 else ""
            found.append(f"text {text.get_text()[:40]!r} is shown at {shown:.1f} pt{note} (minimum {min_pt:g})")
    return found


def _data_points(ax: plt.Axes) -> np.ndarray:
    """Every plotted point of ``ax`` in display coordinates, each artist through its own transform."""
    points = []
    for line in ax.get_lines():  # axhline and axvline mix data and axes coordinates: their transform knows
        if line.get_visible() and len(line.get_xydata()):
            points.append(line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float)))
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        offsets = np.asarray(collection.get_offsets(), dtype=float)
        if len(offsets) and np.any(offsets):  # scatter: one point per offset
            points.append(collection.get_offset_transform().transform(offsets))
        else:  # fill_between, vlines: the vertices of their paths (no offsets set)
            transform = collection.get_transform()
            points += [transform.transform(path.vertices) for path in collection.get_paths() if len(path.vertices)]
    if not points:
        return np.empty((0, 2))
    display = np.concatenate(points)
    return display[np.isfinite(display).all(axis=1)]


def legend_overlaps(fig: plt.Figure) -> list[str]:
    """Axes whose legend covers one of their own plotted points (figure legends are not checked).

    Args:
        fig: the figure; it is drawn first so that the legends have their final places.
    """
    _draw(fig)
    renderer = fig.canvas.get_renderer()
    found = []
    for index, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        points = _data_points(ax)
        inside = (
            (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1) & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
        )
        if inside.any():
            title = ax.get_title() or f"axes {index}"
            found.append(f"{title}: the legend covers {int(inside.sum())} plotted point(s)")
    return found


def indistinct_series(fig: plt.Figure) -> list[str]:
    """Pairs of labelled lines in one axes with the same colour, line style and marker.

    Args:
        fig: the figure.
    """
    found = []
    for index, ax in enumerate(fig.axes):
        seen: dict[tuple, str] = {}
        for line in ax.get_lines():
            label = line.get_label()
            if label.startswith("_") or not isinstance(line, Line2D):
                continue
            key = (
                tuple(np.round(plt.matplotlib.colors.to_rgba(line.get_color()), 3)),
                line.get_linestyle(),
                line.get_marker(),
            )
            if key in seen:
                found.append(f"{ax.get_title() or f'axes {index}'}: {seen[key]!r} and {label!r} look the same")
            seen.setdefault(key, label)
    return found


def figure_problems(fig: plt.Figure, min_pt: float = MIN_FONT_PT) -> list[str]:
    """Everything :func:`small_text`, :func:`legend_overlaps` and :func:`indistinct_series` find.

    Args:
        fig: the figure to check.
        min_pt: the smallest text size allowed, in points.
    """
    return small_text(fig, min_pt) + legend_overlaps(fig) + indistinct_series(fig)


def check_figure(fig: plt.Figure, min_pt: float = MIN_FONT_PT) -> plt.Figure:
    """``fig`` unchanged if it passes :func:`figure_problems`; otherwise an error listing them.

    Args:
        fig: the figure to check.
        min_pt: the smallest text size allowed, in points.
    """
    problems = figure_problems(fig, min_pt)
    if problems:
        raise ValueError("figure is hard to read: " + "; ".join(problems))
    return fig
