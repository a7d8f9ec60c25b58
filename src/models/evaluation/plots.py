"""Evaluation figures: ROC, precision-recall, reliability, gain, CLV deciles, importance and
segment profiles.

Each function builds a new ``matplotlib.figure.Figure`` through the object API (no pyplot,
so no GUI backend is needed or switched, and no figure piles up in pyplot's registry) and
returns it: nothing is saved, shown or closed here. Save it with ``fig.savefig(path)`` or
``mlflow.log_figure(fig, name)``. In every mapping of scorers the first entry is the model
and takes the first colour; baselines follow in order.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpy.typing import ArrayLike

from custlens.errors import CustlensError
from custlens.models.evaluation import metrics

FIGSIZE = (6.0, 4.5)
DPI = 110
PALETTE = mpl.colormaps["tab10"].colors
_REFERENCE = {"color": "0.55", "linestyle": "--", "linewidth": 1.0}


def _figure(height: float = FIGSIZE[1]) -> Figure:
    return Figure(figsize=(FIGSIZE[0], height), dpi=DPI, layout="tight")


def _axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    fig = _figure()
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig, ax


def _scorers(scores: Mapping[str, ArrayLike]) -> list[tuple[int, str, ArrayLike]]:
    if not scores:
        raise CustlensError("give at least one scorer to plot")
    return [(i, name, s) for i, (name, s) in enumerate(scores.items())]


def _colour(i: int) -> tuple[float, float, float]:
    return PALETTE[i % len(PALETTE)]


def _unit_square(ax: Axes, percent: bool = False) -> None:
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    if percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def roc_figure(y: ArrayLike, scores: Mapping[str, ArrayLike]) -> Figure:
    """ROC curves of a model and its baselines on the same rows, AUC in the legend."""
    fig, ax = _axes("ROC curve", "False positive rate", "True positive rate")
    for i, name, s in _scorers(scores):
        fpr, tpr = metrics.roc_curve(y, s)
        ax.plot(fpr, tpr, color=_colour(i), label=f"{name} (AUC {metrics.roc_auc(y, s):.3f})")
    ax.plot([0, 1], [0, 1], **_REFERENCE, label="chance (AUC 0.500)")
    _unit_square(ax)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def pr_figure(y: ArrayLike, scores: Mapping[str, ArrayLike]) -> Figure:
    """Precision-recall curves, average precision in the legend, prevalence as the chance line."""
    fig, ax = _axes("Precision-recall curve", "Recall", "Precision")
    for i, name, s in _scorers(scores):
        recall, precision = metrics.precision_recall_curve(y, s)
        label = f"{name} (AP {metrics.pr_auc(y, s):.3f})"
        ax.plot(recall, precision, drawstyle="steps-pre", color=_colour(i), label=label)
    prevalence = float(np.mean(np.asarray(y, dtype=float)))  # validated by the curves above
    ax.axhline(prevalence, **_REFERENCE, label=f"chance (AP {prevalence:.3f})")
    _unit_square(ax)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def reliability_figure(
    y: ArrayLike, probabilities: Mapping[str, ArrayLike], bins: int = 10
) -> Figure:
    """Reliability diagram over equal-count bins, with the diagonal, a histogram strip of
    the predicted probabilities below, and the ECE in the legend."""
    tables = {name: metrics.reliability_table(y, p, bins) for name, p in probabilities.items()}
    return reliability_table_figure(
        tables, {n: np.asarray(p, float) for n, p in probabilities.items()}
    )


def reliability_table_figure(
    tables: Mapping[str, pd.DataFrame], probabilities: Mapping[str, np.ndarray] | None = None
) -> Figure:
    """Reliability diagram from reliability tables (`custlens.models.evaluation.metrics`); the
    strip of predicted probabilities shows the bin sizes when the probabilities themselves are
    not given."""
    fig = _figure()
    grid = fig.add_gridspec(2, 1, height_ratios=(3, 1))
    ax = fig.add_subplot(grid[0])
    strip = fig.add_subplot(grid[1], sharex=ax)
    ax.plot([0, 1], [0, 1], **_REFERENCE, label="perfectly calibrated")
    bins = 0
    for i, name, table in _scorers(tables):
        ece = metrics.ece_of_table(table)
        ax.plot(
            table["mean_predicted"],
            table["observed_rate"],
            marker="o",
            markersize=4,
            color=_colour(i),
            label=f"{name} (ECE {ece:.3f})",
        )
        bins = max(bins, len(table))
        if probabilities and name in probabilities:
            values = probabilities[name]
            strip.hist(values, bins=np.linspace(0, 1, 21), histtype="step", color=_colour(i))
        else:
            strip.plot(table["mean_predicted"], table["n"], marker="|", color=_colour(i))
    ax.set(title=f"Reliability ({bins} equal-count bins)", ylabel="Observed rate")
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    ax.tick_params(labelbottom=False)
    ax.legend(loc="upper left", fontsize=8)
    strip.set(xlabel="Predicted probability", ylabel="Rows")
    return fig


def gain_figure(y: ArrayLike, scores: Mapping[str, ArrayLike]) -> Figure:
    """Cumulative gain: share of positives captured against share of customers targeted."""
    fig, ax = _axes(
        "Cumulative gain", "Share of customers targeted", "Share of positives captured"
    )
    for i, name, s in _scorers(scores):
        targeted, captured = metrics.gain_curve(y, s)
        top = metrics.top_decile_capture(y, s)
        ax.plot(targeted, captured, color=_colour(i), label=f"{name} (top 10%: {top:.0%})")
    ax.plot([0, 1], [0, 1], **_REFERENCE, label="chance")
    _unit_square(ax, percent=True)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def decile_figure(y: ArrayLike, values: Mapping[str, ArrayLike]) -> Figure:
    """CLV by predicted decile: bars of mean actual value, lines of mean predicted value,
    grouped side by side per scorer (each scorer ranks the customers into its own deciles)."""
    return decile_table_figure({name: metrics.decile_table(y, v) for name, v in values.items()})


def decile_table_figure(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """The decile chart from decile tables (`custlens.models.evaluation.metrics.decile_table`)."""
    fig, ax = _axes(
        "Lifetime value by predicted decile",
        "Predicted decile (1 = highest predicted value)",
        "Mean value per customer",
    )
    scorers = _scorers(tables)
    width = 0.8 / len(scorers)
    for i, name, table in scorers:
        x = table["decile"].to_numpy() + (i - (len(scorers) - 1) / 2) * width
        colour = _colour(i)
        ax.bar(x, table["mean_actual"], width, color=colour, alpha=0.45, label=f"{name}: actual")
        ax.plot(
            x,
            table["mean_predicted"],
            color=colour,
            marker="o",
            markersize=4,
            markerfacecolor="white",
            label=f"{name}: predicted",
        )
    ax.set_xticks(table["decile"])
    ax.legend(loc="upper right", fontsize=8)
    return fig


def importance_figure(
    importance: pd.Series, labels: Mapping[str, str] | None = None, top: int = 20
) -> Figure:
    """Horizontal bars of the ``top`` features by absolute importance, largest at the top,
    named with the plain-language ``labels`` where given."""
    if not isinstance(importance, pd.Series) or importance.empty:
        raise CustlensError("importance must be a non-empty pandas Series")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise CustlensError(f"top must be a positive integer, got {top!r}")
    values = importance.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        raise CustlensError("importance has missing or infinite values")
    # largest |importance| first, then reversed so it is drawn at the top
    keep = np.argsort(-np.abs(values), kind="stable")[:top][::-1]
    names = [(labels or {}).get(str(key), str(key)) for key in importance.index[keep]]
    fig = _figure(max(FIGSIZE[1], 0.25 * keep.size + 1.0))
    ax = fig.add_subplot()
    positions = np.arange(keep.size)
    ax.barh(positions, values[keep], color=_colour(0))
    ax.set_yticks(positions, names, fontsize=8)
    ax.set(
        title=f"Top {keep.size} features",
        xlabel=str(importance.name or "Importance"),
        ylabel="Feature",
    )
    return fig


def _standardise(values: np.ndarray) -> np.ndarray:
    mean = np.nanmean(values, axis=0)
    std = np.nanstd(values, axis=0)
    safe = np.where(std > 0, std, 1.0)  # a constant column stays neutral (z = 0)
    return (values - mean) / safe


def _annotation(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def segment_profile_figure(profile: pd.DataFrame) -> Figure:
    """Heat map of segment profiles: colour = value standardised within each column,
    text = the raw value. ``profile`` has one row per segment (index = segment name)."""
    if not isinstance(profile, pd.DataFrame) or profile.empty:
        raise CustlensError("profile must be a non-empty DataFrame")
    text = [c for c in profile.columns if not pd.api.types.is_numeric_dtype(profile[c])]
    if text:
        raise CustlensError(f"profile columns must be numeric; not numeric: {text}")
    raw = profile.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(all="ignore"):  # an all-missing column just stays blank
        z = _standardise(raw)
    limit = max(1.0, float(np.nanmax(np.abs(z)))) if np.isfinite(z).any() else 1.0
    fig, ax = _axes("Segment profiles", "Profile measure", "Segment")
    image = ax.imshow(
        np.ma.masked_invalid(z), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto"
    )
    for (row, col), value in np.ndenumerate(raw):
        dark = np.isfinite(z[row, col]) and abs(z[row, col]) > 0.6 * limit
        colour = "white" if dark else "black"
        ax.text(col, row, _annotation(value), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(
        np.arange(raw.shape[1]), [str(c) for c in profile.columns], rotation=30, ha="right"
    )
    ax.set_yticks(np.arange(raw.shape[0]), [str(i) for i in profile.index])
    fig.colorbar(image, ax=ax, label="Standardised within column (z)")
    return fig


BACKTEST_PANELS = (
    ("churn", "roc_auc", "Churn ROC-AUC"),
    ("churn", "ece", "Churn calibration error"),
    ("churn", "top_decile_lift", "Churn top-decile lift"),
    ("clv", "gini", "Value: normalized Gini"),
    ("clv", "top_decile_capture", "Value: top-decile capture"),
    ("clv", "spearman", "Value: Spearman"),
)


def backtest_figure(values: pd.DataFrame) -> Figure:
    """The headline metrics by test cutoff, custlens against every baseline (the stacked
    leaderboards of a multi-cutoff backtest: task, scorer, cutoff and one column per metric)."""
    fig = Figure(figsize=(12.0, 7.0), dpi=DPI, layout="tight")
    axes = fig.subplots(2, 3)
    for ax, (task, metric, title) in zip(axes.ravel(), BACKTEST_PANELS, strict=True):
        rows = values.loc[values["task"] == task].dropna(subset=[metric])
        ax.set(title=title, xlabel="test cutoff")
        for i, (scorer, part) in enumerate(rows.groupby("scorer", sort=False)):
            ours = scorer == "custlens"
            ax.plot(
                pd.to_datetime(part["cutoff"]), part[metric], marker="o", color=_colour(i),
                linewidth=2.2 if ours else 1.0, alpha=1.0 if ours else 0.7, label=scorer,
            )  # fmt: skip
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        if len(rows):
            ax.legend(fontsize=7)
    return fig
