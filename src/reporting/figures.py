"""SHAP figures with plain-language labels, drawn by shap's own plots (bar, beeswarm, scatter,
waterfall), and the one view shap has no plot for: what drives each segment.

Each function returns a new Figure, already released from pyplot's registry (shap draws through
pyplot), so nothing piles up; it saves, shows or logs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.models.evaluation import plots
from custlens.reporting.shap_views import Explained, top_columns

_WIDTH = 7.0
TOP = 12  # features shown in the global views


@contextmanager
def _drawn(height: float) -> Iterator[Figure]:
    """A fresh pyplot figure made current for shap to draw on, released from pyplot after."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(_WIDTH, height), dpi=plots.DPI)
    try:
        yield figure
    finally:
        plt.close(figure)


def _shap_figure(height: float, draw: Callable[[Any], None], title: str, xlabel: str) -> Figure:
    with _drawn(height) as figure:
        draw(figure.add_subplot())
        ax = figure.axes[0]
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        figure.set_size_inches(_WIDTH, height)
        figure.tight_layout()
    return figure


def importance_bar(explained: Explained, top: int = TOP) -> Figure:
    """Mean absolute SHAP value of the `top` features (shap.plots.bar)."""
    import shap

    return _shap_figure(
        0.38 * top + 1.4,
        lambda ax: shap.plots.bar(explained.view(), max_display=top, ax=ax, show=False),
        f"What moves the {explained.outcome} most",
        f"Mean |effect| on the {explained.outcome} ({explained.unit})",
    )


def beeswarm(explained: Explained, top: int = TOP) -> Figure:
    """Each customer a dot per feature: position = effect, colour = the feature's value
    (shap.plots.beeswarm)."""
    import shap

    return _shap_figure(
        0.42 * top + 1.6,
        lambda ax: shap.plots.beeswarm(
            explained.view(), max_display=top, ax=ax, show=False, plot_size=None
        ),
        f"How each feature moves the {explained.outcome}",
        f"Effect on the {explained.outcome} ({explained.unit}); right = higher",
    )


def dependence(explained: Explained, column: str) -> Figure:
    """A feature's value against its effect (shap.plots.scatter)."""
    import shap

    if column not in explained.columns:
        raise CustlensError(f"{column!r} is not a feature of the {explained.task} model")
    label = explained.label(column)
    figure = _shap_figure(
        3.6,
        lambda ax: shap.plots.scatter(
            explained.view([column])[:, 0], ax=ax, show=False, ylabel=f"Effect ({explained.unit})"
        ),
        f"{label}: its effect on the {explained.outcome}",
        label,
    )
    return figure


def waterfall(explained: Explained, position: int, top: int = 10) -> Figure:
    """One customer (by position among the explained rows): from the average prediction,
    each feature's push up or down (shap.plots.waterfall)."""
    import shap

    if not 0 <= position < len(explained.index):
        raise CustlensError("that customer is not among the explained rows")
    row = explained.view(list(explained.columns), position)
    with _drawn(0.42 * top + 1.8) as figure:
        shap.plots.waterfall(row, max_display=top, show=False)
        figure.axes[0].set_title(
            f"{explained.outcome.capitalize()} of one customer ({explained.unit}): from the "
            "average customer, each feature's push",
            fontsize=10,
        )
        figure.set_size_inches(_WIDTH + 1.5, 0.42 * top + 1.8)
        figure.tight_layout()
    return figure


def segment_drivers(table: pd.DataFrame, outcome: str) -> Figure:
    """Heat map of mean absolute SHAP per segment (rows) and feature (columns); shap has no
    plot of explanations grouped this way."""
    if table.empty:
        raise CustlensError("no segment to show")
    values = table.to_numpy(float)
    fig = Figure(figsize=(_WIDTH, 0.45 * len(table) + 2.6), dpi=plots.DPI, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Reds", aspect="auto", vmin=0)
    for (r, c), v in np.ndenumerate(values):
        dark = v > 0.6 * np.nanmax(values)
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7,
                color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(
        np.arange(values.shape[1]), list(table.columns), rotation=35, ha="right", fontsize=8
    )
    ax.set_yticks(np.arange(values.shape[0]), [str(i) for i in table.index], fontsize=8)
    ax.set_title(f"What drives the {outcome} in each segment", fontsize=10)
    fig.colorbar(image, ax=ax, label="Mean |effect|")
    return fig


def top_dependence(explained: Explained, k: int = 3) -> list[str]:
    """The columns whose dependence plots the report shows: the top ones, no attributes."""
    return [c for c in top_columns(explained, 20) if not c.startswith("attr_")][:k]
