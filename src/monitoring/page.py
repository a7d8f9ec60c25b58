"""The monitoring page: one self-contained HTML file (images embedded, nothing fetched) a
stakeholder can read: the verdict and its reasons, realised against promised over time, the
calibration of past scores, predicted against realised totals, drift, segment migration."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.models.evaluation import plots
from custlens.models.tasks import TASKS
from custlens.monitoring.migration import latest_per_day
from custlens.monitoring.monitor import MonitorResult, headline_rows

TEMPLATES = Path(__file__).resolve().parent / "templates"
DRIFT_BARS = 20


def _figure(width: float = 7.0, height: float = 4.0) -> Figure:
    return Figure(figsize=(width, height), dpi=plots.DPI, layout="constrained")


def realised_figure(result: MonitorResult) -> Figure | None:
    """Each task's headline metric on every judged entry, with its interval, the BG/NBD
    baseline and the band the model promised."""
    rows = headline_rows(result)
    if rows.empty:
        return None
    tasks = list(dict.fromkeys(rows["task"]))
    fig = _figure(7.0, 2.4 * len(tasks) + 0.6)
    for i, task in enumerate(tasks):
        ax = fig.add_subplot(len(tasks), 1, i + 1)
        part = rows.loc[rows["task"] == task].sort_values("as_of")
        x = pd.to_datetime(part["as_of"])
        ax.vlines(x, part["promised_lower"], part["promised_upper"], color="0.8", linewidth=9,
                  label="promised (backtest, 95%)")  # fmt: skip
        ax.errorbar(x, part["value"], yerr=[part["value"] - part["lower"],
                    part["upper"] - part["value"]], fmt="o", color=plots.PALETTE[0],
                    capsize=3, label="realised (95%)")  # fmt: skip
        ax.plot(x, part["baseline"], "s", mfc="none", color=plots.PALETTE[1], label="BG/NBD")
        ax.set_ylabel(f"{task}: {TASKS[task].headline.label}", fontsize=8)
        ax.set_xticks(x, part["as_of"], rotation=30, ha="right")
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7, loc="best")
    fig.suptitle(
        "Did the scores come true? Realised against promised, by scoring date", fontsize=10
    )
    return fig


def calibration_figure(result: MonitorResult) -> Figure | None:
    """Observed rates against predicted probabilities on the newest judged entry of each
    probability task."""
    tables = result.judged.reliability
    if not tables:
        return None
    fig = _figure(7.0, 3.2)
    for i, (task, parts) in enumerate(tables.items()):
        ax = fig.add_subplot(1, len(tables), i + 1)
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
        for j, name in enumerate(("custlens", "BG/NBD")):
            t = parts[name]
            ax.plot(t["mean_predicted"], t["observed_rate"], "o-", markersize=3,
                    color=plots.PALETTE[j], label=name)  # fmt: skip
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted", ylabel="observed")
        ax.set_title(f"{task}, scores of {parts['as_of']}", fontsize=9)
        ax.legend(fontsize=7)
    return fig


def totals_figure(result: MonitorResult) -> Figure | None:
    """Predicted against realised value totals, entry by entry."""
    totals = pd.DataFrame(result.judged.totals)
    if totals.empty:
        return None
    fig = _figure(7.0, 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(totals))
    for k, (column, label) in enumerate(
        (("predicted", "custlens"), ("realised", "realised"), ("baseline", "BG/NBD x Gamma-Gamma"))
    ):
        ax.bar(x + (k - 1) * 0.27, totals[column], 0.27, label=label, color=plots.PALETTE[k])
    ax.set_xticks(x, totals["as_of"], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("value over the horizon")
    ax.set_title("Predicted and realised totals of the scored customers", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def drift_figure(result: MonitorResult) -> Figure | None:
    """The most drifted columns of the newest entry, against their thresholds."""
    table = result.drift.head(DRIFT_BARS)
    if table.empty:
        return None
    fig = _figure(7.0, 0.28 * len(table) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(table))[::-1]
    colours = table["status"].map({"ok": plots.PALETTE[2], "watch": "#e6a100", "act": "#d62728"})
    ax.barh(y, table["psi"], color=colours)
    ax.plot(table["watch"], y, "|", color="0.3", markersize=9, label="watch threshold")
    ax.plot(table["act"], y, "|", color="#d62728", markersize=9, label="act threshold")
    ax.set_yticks(y, table["column"], fontsize=7)
    ax.set_xlabel("PSI against the model's reference")
    ax.set_title(f"Drift on {result.drift['as_of'].iloc[0]}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def migration_figure(result: MonitorResult) -> Figure | None:
    """Customers moving between segments from the last but one entry to the last."""
    moves = result.migration
    if moves.empty:
        return None
    last = moves.loc[moves["to_as_of"] == moves["to_as_of"].max()]
    grid = last.pivot_table(
        index="from_segment", columns="to_segment", values="customers", aggfunc="sum", fill_value=0
    )
    fig = _figure(7.0, 0.35 * len(grid) + 2.2)
    ax = fig.add_subplot()
    image = ax.imshow(grid.to_numpy(float), cmap="Blues", aspect="auto")
    for (r, c), v in np.ndenumerate(grid.to_numpy()):
        ax.text(c, r, f"{int(v):,}", ha="center", va="center", fontsize=7)
    ax.set_xticks(np.arange(grid.shape[1]), grid.columns, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(np.arange(grid.shape[0]), grid.index, fontsize=7)
    ax.set(xlabel=f"segment on {last['to_as_of'].iloc[0]}",
           ylabel=f"segment on {last['from_as_of'].iloc[0]}")  # fmt: skip
    fig.colorbar(image, ax=ax, label="customers")
    return fig


def _png(fig: Figure) -> str:
    from custlens.reporting.report import png

    return base64.b64encode(png(fig)).decode("ascii")


def render(result: MonitorResult, title: str) -> str:
    """The monitoring page as one HTML document."""
    figures = {
        "realised": (realised_figure(result), "Each point is the scores of one date, judged once "
                     "their horizon closed; the grey bar is what the model's backtest promised."),
        "totals": (totals_figure(result), "A forecast a business plans with must add up: bars "
                   "of equal height mean the predicted total matched what came."),
        "calibration": (calibration_figure(result), "When the scores said 30%, about 30% should "
                        "have done it: points on the diagonal mean trustworthy probabilities."),
        "drift": (drift_figure(result), "How far each column of the newest scores moved from "
                  "the model's training data (PSI), against its thresholds."),
        "migration": (migration_figure(result), "How customers moved between segments from one "
                      "scoring date to the next."),
    }  # fmt: skip
    images = [{"key": k, "data": _png(f), "caption": c} for k, (f, c) in figures.items() if f]
    overall = result.metrics.loc[result.metrics["segment"] == ""]
    shown = overall[["as_of", "model_version", "task", "metric", "value", "lower", "upper",
                     "baseline", "promised", "status"]].round(4)  # fmt: skip
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    entries = [
        {"as_of": e.as_of, "model": e.model_version, "rows": f"{e.rows:,}",
         "backfilled": "yes" if e.backfilled else "", "trained_through": e.trained_through}
        for e in latest_per_day(result.entries)
    ]  # fmt: skip
    return env.get_template("monitor.html").render(
        title=title,
        as_of=str(result.as_of.date()),
        verdict=result.verdict,
        reasons=result.reasons,
        images=images,
        entries=entries,
        metrics=shown,
        open=result.open.round(4),
        summary=result.drift_summary,
    )
