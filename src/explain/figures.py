"""SHAP figures with plain-language feature labels: importance bars, beeswarm, dependence,
a single customer's waterfall, and what drives each segment.

Object-API matplotlib like `custlens.models.evaluation.plots`: each function returns a new
Figure and saves, shows or logs nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.explain.shap_views import Explanation, importance, top_columns
from custlens.models.evaluation import plots

_WIDTH = 7.0
_NEUTRAL = "0.45"
_UP, _DOWN = "#d62728", "#1f77b4"  # raises / lowers the prediction


def _figure(height: float) -> Figure:
    return Figure(figsize=(_WIDTH, height), dpi=plots.DPI, layout="constrained")


def importance_bar(explanation: Explanation, top: int = 12) -> Figure:
    """Mean absolute SHAP value of the `top` features."""
    fig = plots.importance_figure(importance(explanation), explanation.labels, top)
    fig.axes[0].set(
        title=f"What moves the {explanation.outcome} most",
        ylabel="",
        xlabel=fig.axes[0].get_xlabel(),
    )
    return fig


def _percentile(column: pd.Series) -> np.ndarray:
    """Feature values as their rank in [0, 1] for colouring; text and missing values are nan."""
    if pd.api.types.is_bool_dtype(column):
        column = column.astype("float64")
    if not pd.api.types.is_numeric_dtype(column):
        return np.full(len(column), np.nan)
    return column.astype("float64").rank(pct=True).to_numpy()


def beeswarm(explanation: Explanation, top: int = 12, seed: int = 0) -> Figure:
    """Each customer a dot per feature: position = effect, colour = the feature's value."""
    columns = top_columns(explanation, top)[::-1]  # drawn bottom-up, largest on top
    fig = _figure(0.42 * len(columns) + 1.6)
    ax = fig.add_subplot()
    rng = np.random.default_rng(seed)
    image = None
    for i, column in enumerate(columns):
        effects = explanation.values[column].to_numpy(float)
        shade = _percentile(explanation.data[column])
        jitter = rng.uniform(-0.3, 0.3, size=effects.size)
        known = np.isfinite(shade)
        ax.scatter(effects[~known], i + jitter[~known], s=6, color=_NEUTRAL, linewidths=0)
        image = ax.scatter(
            effects[known], i + jitter[known], s=6, c=shade[known], cmap="coolwarm",
            vmin=0, vmax=1, linewidths=0,
        )  # fmt: skip
    ax.axvline(0, color=_NEUTRAL, linewidth=0.8)
    ax.set_yticks(np.arange(len(columns)), [explanation.label(c) for c in columns], fontsize=8)
    ax.set_title(f"How each feature moves the {explanation.outcome}", fontsize=10)
    ax.set_xlabel(f"Effect on {explanation.outcome} ({explanation.unit}); right = higher")
    if image is not None:
        bar = fig.colorbar(image, ax=ax, ticks=[0, 1], aspect=30)
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("Feature value (grey: text or missing)")
    return fig


def dependence(explanation: Explanation, column: str) -> Figure:
    """A feature's value against its effect; text features as one box per value."""
    if column not in explanation.values:
        raise CustlensError(f"{column!r} is not a feature of the {explanation.task} model")
    fig = _figure(3.6)
    ax = fig.add_subplot()
    x, effects = explanation.data[column], explanation.values[column]
    label = explanation.label(column)
    if pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
        values = x.astype("float64")
        ax.scatter(values, effects, s=8, alpha=0.6, color=plots.PALETTE[0])
        if values.max() > 20 * max(values.median(), 1e-9):
            ax.set_xscale("symlog")  # money and counts are heavily skewed
    else:
        groups = effects.groupby(x.astype("string").fillna("missing"))
        names = list(groups.size().sort_values(ascending=False).index[:12])
        ax.boxplot([groups.get_group(n).to_numpy() for n in names], showfliers=False)
        ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=30, ha="right", fontsize=8)
    ax.axhline(0, color=_NEUTRAL, linewidth=0.8)
    ax.set_title(f"{label}: its effect on the {explanation.outcome}", fontsize=10)
    ax.set(xlabel=label, ylabel=f"Effect ({explanation.unit})")
    return fig


def _to_outcome(explanation: Explanation, raw: float) -> str:
    if explanation.unit == "log-odds":
        return f"{1 / (1 + np.exp(-raw)):.0%}"
    return f"{np.exp(raw):,.0f}"


def waterfall(explanation: Explanation, row: object, top: int = 10) -> Figure:
    """One customer: from the average prediction, each feature's push up or down."""
    if row not in explanation.values.index:
        raise CustlensError("that customer is not among the explained rows")
    effects = explanation.values.loc[row]
    order = list(effects.abs().sort_values(ascending=False, kind="stable").index)
    shown, rest = order[:top], order[top:]
    steps = [
        (f"{explanation.label(c)} = {_value_text(explanation.data.loc[row, c])}", effects[c])
        for c in shown
    ]
    if rest:
        steps.append((f"{len(rest)} other features", float(effects[rest].sum())))
    fig = _figure(0.4 * len(steps) + 1.8)
    ax = fig.add_subplot()
    start = explanation.base
    for i, (_, effect) in enumerate(reversed(steps)):
        # cumulative position: base plus every effect listed above this one
        before = start + sum(e for _, e in steps[: len(steps) - 1 - i])
        ax.barh(i, effect, left=before, color=_UP if effect > 0 else _DOWN, height=0.6)
        ax.text(
            before + effect, i, f" {effect:+.2f} ", va="center", fontsize=7,
            ha="left" if effect > 0 else "right",
        )  # fmt: skip
    end = start + float(effects.sum())
    ax.set_yticks(np.arange(len(steps)), [name for name, _ in reversed(steps)], fontsize=8)
    ax.axvline(start, color=_NEUTRAL, linestyle="--", linewidth=0.8)
    ax.axvline(end, color="black", linewidth=0.8)
    ax.set_title(
        f"{explanation.outcome.capitalize()}: {_to_outcome(explanation, start)} for the average "
        f"customer (dashed),\n{_to_outcome(explanation, end)} for this one (solid)",
        fontsize=10,
    )
    ax.set_xlabel(f"{explanation.unit.capitalize()}; red raises the prediction, blue lowers it")
    ax.margins(x=0.12)
    return fig


def _value_text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "unknown"
    if isinstance(value, float | np.floating):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def segment_drivers(table: pd.DataFrame, outcome: str) -> Figure:
    """Heat map of mean absolute SHAP per segment (rows) and feature (columns)."""
    if table.empty:
        raise CustlensError("no segment to show")
    values = table.to_numpy(float)
    fig = _figure(0.45 * len(table) + 2.6)
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
