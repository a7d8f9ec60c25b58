"""Timing: the chance of a customer's next order by each day of a grid (7, 14, 30, 60, 90,
180), one non-decreasing curve per customer, and the day by which it reaches one half.

The curve passes through the repurchase probability (its repurchase day) and one minus the
churn probability (its horizon day), so that the three never contradict each other: where the
repurchase model says more than the churn model allows, the repurchase probability is lowered
to it. Its other days come from classifiers of the same recipe, one per day the history
supports, fitted on the rows whose outcome was observed that far, at the day's level (the
anchors' log-odds shift, linear in log t between them), then made non-decreasing by
pool-adjacent-violators within each stretch between anchors and clipped to them.
`next_order_date` is as_of plus the first day the curve reaches one half (linear in log t
between grid days, a constant hazard before the first), rounded up; empty when it does not by
the grid's last day. Judged with censoring: an order counts only within the horizon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custlens.features.spec import FeatureSpec
from custlens.models.estimators.gbm import Matrix
from custlens.models.estimators.training import CalibratedClassifier, ModelSettings
from custlens.models.levels import shifted
from custlens.models.tasks.base import Context, Output, Scored, Task
from custlens.models.tasks.timing_metrics import (
    CONCORDANCE,
    MEDIAN_ERROR,
    PRECISION,
    RECALL,
    gap_metric,
)

MIN_CUTOFFS = 4  # training cutoffs that must observe a day for it to join the curve
GAP_DAYS = (7, 14, 30, 60, 90)  # the days whose level is judged (within the horizon)


class OrderCurve(BaseEstimator):
    """One classifier per curve day other than the repurchase and horizon days (the churn and
    repurchase models give those): the chance of an order within t days. `fit(X, y)`: X a
    training frame with `observed_days` (days of history after each cutoff), y the days to
    the next order (NaN: none within the observed window)."""

    def __init__(
        self,
        windows: FeatureSpec | None = None,
        settings: ModelSettings | None = None,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.windows = windows
        self.settings = settings
        self.features = features

    def fit(self, X: pd.DataFrame, y: Any) -> OrderCurve:  # noqa: N803
        """Fit a classifier for each day the frame observes at enough cutoffs."""
        windows = self.windows or FeatureSpec()
        days = np.asarray(y, float)
        anchors = {windows.repurchase_days, windows.horizon_days}
        self.models_ = {}
        for t in windows.curve_days:
            if t in anchors:
                continue
            rows = (X["observed_days"] >= t).to_numpy()
            if X.loc[rows, "as_of"].nunique() < MIN_CUTOFFS:
                continue  # the history does not support this day
            label = (np.nan_to_num(days[rows], nan=np.inf) <= t).astype(int)
            model = CalibratedClassifier(t, self.settings, self.features)
            self.models_[t] = model.fit(X.loc[rows], label)
        self.days_ = sorted(set(self.models_) | anchors)
        self.anchors_ = (windows.repurchase_days, windows.horizon_days)
        return self

    def points(self, X: pd.DataFrame, matrix: Matrix = None) -> dict[int, np.ndarray]:  # noqa: N803
        """Each extra day's chance of an order within it, the classifiers' own."""
        check_is_fitted(self)
        return {t: m.positive_probability(X, matrix) for t, m in self.models_.items()}

    def boosters(self) -> list[Any]:
        """The LightGBM models inside."""
        check_is_fitted(self)
        return [b for m in self.models_.values() for b in m.boosters()]


def pool_adjacent(curve: np.ndarray) -> np.ndarray:
    """The least-squares non-decreasing fit of each row (max-min formula: exact for a short
    grid, vectorised over the rows)."""
    n, k = curve.shape
    sums = np.concatenate([np.zeros((n, 1)), np.cumsum(curve, axis=1)], axis=1)
    out = np.empty_like(curve)
    for m in range(k):
        best = np.full(n, -np.inf)
        for i in range(m + 1):
            means = [(sums[:, j + 1] - sums[:, i]) / (j + 1 - i) for j in range(m, k)]
            best = np.maximum(best, np.min(means, axis=0))
        out[:, m] = best
    return out


def coherent_curve(
    days: Sequence[int], points: dict[int, np.ndarray], anchors: dict[int, np.ndarray]
) -> np.ndarray:
    """The curve (rows x days) through the anchors, its other points made non-decreasing
    within each stretch between anchors and clipped into it."""
    days = list(days)
    n = len(next(iter(anchors.values())))
    curve = np.column_stack([anchors[t] if t in anchors else points[t] for t in days])
    edges = [-1, *[days.index(a) for a in sorted(anchors)], len(days)]
    lows = [np.zeros(n), *[anchors[a] for a in sorted(anchors)]]
    highs = [*[anchors[a] for a in sorted(anchors)], np.ones(n)]
    for m in range(len(edges) - 1):
        cols = list(range(edges[m] + 1, edges[m + 1]))
        if cols:
            stretch = pool_adjacent(curve[:, cols]) if len(cols) > 1 else curve[:, cols]
            curve[:, cols] = np.clip(stretch, lows[m][:, None], highs[m][:, None])
    return curve


def half_day(days: Sequence[int], curve: np.ndarray) -> np.ndarray:
    """The day each curve reaches one half: linear in log t between grid days, a constant
    hazard before the first; NaN when it does not by the last."""
    t = np.asarray(days, float)
    reached = curve >= 0.5
    k = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    out = np.full(len(curve), np.nan)
    first = k == 0
    f1 = np.clip(curve[first, 0], 1e-9, 1 - 1e-9)
    out[first] = t[0] * np.log(0.5) / np.log(1 - f1)
    later = k > 0
    rows = np.flatnonzero(later)
    f0, f1 = curve[rows, k[later] - 1], curve[rows, k[later]]
    share = (0.5 - f0) / np.maximum(f1 - f0, 1e-12)
    logs = np.log(t)
    out[later] = np.exp(logs[k[later] - 1] + share * (logs[k[later]] - logs[k[later] - 1]))
    return out


def restricted_mean(days: Sequence[int], curve: np.ndarray, horizon: int) -> np.ndarray:
    """The expected days without an order within the horizon (the area under 1 - F, F linear
    between grid days): the curve's ranking of how soon each customer orders."""
    t = np.array([0.0, *[d for d in days if d <= horizon]])
    f = np.column_stack([np.zeros(len(curve)), curve[:, : len(t) - 1]])
    return ((1 - f[:, 1:] + 1 - f[:, :-1]) / 2 * np.diff(t)).sum(axis=1)


def level_shifts(days: Sequence[int], anchors: dict[int, float]) -> dict[int, float]:
    """Each day's log-odds shift from the anchors' (linear in log t between them, the nearest
    anchor's outside them)."""
    known = sorted(anchors)
    logs = np.log(known)
    return {t: float(np.interp(np.log(t), logs, [anchors[a] for a in known])) for t in days}


class Timing(Task):
    name = "timing"
    label = "next_order_days"
    columns = ("next_order_date", "days_between_orders")
    score_column = "next_order_date"
    outcome = "days to the next order"
    needs = ("churn", "repurchase")
    explained = False  # a curve of several models through the churn and repurchase scores
    unit = "log-odds"
    # The headline first: how well the curve orders who buys first.
    monitored = (CONCORDANCE, PRECISION, RECALL, MEDIAN_ERROR, *(gap_metric(t) for t in GAP_DAYS))
    metrics = monitored

    def defaults(self) -> ModelSettings:
        # Fewer rounds than churn's: the points only shape the curve between its anchors, and
        # four models of 150 rounds cost a fifth of the scoring time (docs/results.md).
        return ModelSettings(n_estimators=60)

    def estimator(
        self,
        windows: FeatureSpec,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> OrderCurve:
        chosen = None if features is None else tuple(features)
        return OrderCurve(windows, settings or self.defaults(), chosen)

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.label].to_numpy(float)

    def outcome_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Days to the next order within the horizon; inf for no order within it."""
        days = frame[self.label].to_numpy(float)
        return np.where(frame["churned"].astype(bool).to_numpy(), np.inf, days)

    def output_columns(self, model: OrderCurve | None = None) -> tuple[str, ...]:
        days = model.days_ if model is not None else FeatureSpec().curve_days
        return (*self.columns, *(chance_column(t) for t in days))

    @property
    def watched(self) -> tuple[str, ...]:
        # None of its own: the curve passes through the churn and repurchase probabilities,
        # which are watched, and its short days move with the day's seasonal level, which a
        # fixed threshold would call drift (a stationary log raised it 2 months in 12).
        return ()

    def score(
        self,
        model: OrderCurve,
        features: pd.DataFrame,
        matrix: Matrix,
        settings: dict | None,
        context: Context,
    ) -> Output:
        short, horizon = model.anchors_
        later = 1 - context.columns["churn_probability"]
        sooner = np.minimum(context.columns["repurchase_probability"], later)
        points = model.points(features, matrix)
        if context.levels is not None:
            shifts = level_shifts(model.days_, {
                short: context.levels.shift("repurchase"),
                horizon: context.levels.shift("churn"),
            })  # fmt: skip
            points = {t: shifted(p, shifts[t]) for t, p in points.items()}
        curve = coherent_curve(model.days_, points, {short: sooner, horizon: later})
        due = np.ceil(half_day(model.days_, curve))  # whole days, as the date is
        columns = {chance_column(t): curve[:, k] for k, t in enumerate(model.days_)}
        columns["repurchase_probability"] = sooner  # never above the chance by the horizon
        judged = {
            "predicted_days": np.where(due <= horizon, due, np.inf),
            CONCORDANCE.name: restricted_mean(model.days_, curve, horizon),
        }
        for t in GAP_DAYS:  # the outcome is known up to the horizon
            if t <= horizon and t in model.days_:
                judged[gap_metric(t).name] = columns[chance_column(t)]
        if settings is not None:
            days_of = pd.to_datetime(features["as_of"], cache=False)  # no per-row cache check
            as_of = days_of.to_numpy().astype("datetime64[ns]")
            dated = np.isfinite(due)
            date = np.full(len(due), np.datetime64("NaT"), dtype="datetime64[ns]")
            date[dated] = as_of[dated] + due[dated].astype("timedelta64[D]")
            columns["next_order_date"] = date
            columns["days_between_orders"] = features["gap_median"].to_numpy(float)
        return Output(columns, judged=judged)

    def judged(self, output: Output) -> Scored:
        extra = dict(output.judged)
        days = extra.pop("predicted_days")
        for t in GAP_DAYS:  # a day the curve lacks, or beyond the horizon: not judged
            extra.setdefault(gap_metric(t).name, np.full(len(days), np.nan))
        return Scored(days, False, extra)

    def monitored_scores(self, rows: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
        """From a ledger entry: the days to the scored date where it falls within the
        horizon (exactly where the chance by the horizon reaches one half), the curve's
        expected days without an order within the horizon, and the chance by each day."""
        days = (pd.to_datetime(rows["next_order_date"]) - pd.to_datetime(rows["as_of"])).dt.days
        days = days.to_numpy(float)
        within = (rows["churn_probability"].to_numpy(float) <= 0.5) & np.isfinite(days)
        dated = np.where(within, days, np.inf)
        out = {m.name: dated for m in (PRECISION, RECALL, MEDIAN_ERROR)}
        curve = {t: c for t, c in curve_columns(rows.columns).items() if t <= horizon_days}
        if horizon_days in curve:
            points = rows[[curve[t] for t in sorted(curve)]].to_numpy(float)
            out[CONCORDANCE.name] = restricted_mean(sorted(curve), points, horizon_days)
        for t in GAP_DAYS:  # judged up to the horizon, where the outcome is known
            if chance_column(t) in rows and t <= horizon_days:
                out[gap_metric(t).name] = rows[chance_column(t)].to_numpy(float)
        return out

    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        due, usual = usual_gap(test, horizon_days)
        extra = {gap_metric(t).name: np.full(len(due), np.nan) for t in GAP_DAYS}  # no chances
        return {"usual_gap": Scored(usual, False, {CONCORDANCE.name: due, **extra})}

    def monitor_baseline(self, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
        """ "Last purchase + usual gap": the day it dates within the horizon, else inf."""
        return usual_gap(features, horizon_days)[1]


def usual_gap(features: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """ "Last purchase + usual gap": the days until the next order is due (at least 1; inf
    without a usual gap), and the same where it falls within the horizon for a customer not
    more than twice overdue (else inf: not dated)."""
    gap = features["gap_median"].to_numpy(float)
    recency = features["recency_days"].to_numpy(float)
    due = np.where(np.isnan(gap), np.inf, np.maximum(gap - recency, 1.0))
    dated = (recency <= 2 * gap) & (due <= horizon_days)
    return due, np.where(dated, due, np.inf)


def chance_column(days: int) -> str:
    """The scored table's column of the chance of an order within `days`."""
    return f"order_chance_{days}d"


def curve_columns(columns: Sequence[str]) -> dict[int, str]:
    """The timing curve's columns among `columns`, by their day."""
    found = (re.fullmatch(r"order_chance_(\d+)d", c) for c in columns)
    return {int(m.group(1)): m.group(0) for m in found if m}


__all__ = ["OrderCurve", "Timing", "chance_column", "coherent_curve", "curve_columns", "half_day"]
