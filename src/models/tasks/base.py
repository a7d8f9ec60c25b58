"""What every supervised task provides, and the two kinds: probabilities and values.

A task owns its label column, its estimator and default settings, the metrics it is judged by
(one list, headline first: the leaderboard, the backtest, tuning and the monitor all read it),
its baselines, the output columns it adds to the scored table, the reasons it gives, and its
words and figures in the report. Training, evaluation, scoring, the report and tuning iterate
over the registry (`custlens.models.tasks`) and ask the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.models.estimators.gbm import Matrix
from custlens.models.estimators.training import (
    CalibratedClassifier,
    ModelSettings,
    ValueRegressor,
)
from custlens.models.evaluation import baselines, metrics, plots
from custlens.models.evaluation.metrics import Metric
from custlens.models.evaluation.uncertainty import estimate


@dataclass(frozen=True)
class Scored:
    """One scorer's scores on evaluation rows, and whether they are probabilities (then the
    calibration metrics judge them too; ranking-only scores are judged on ranking alone)."""

    values: np.ndarray
    probability: bool


@dataclass(frozen=True)
class Output:
    """What a task adds to one block of scored rows: its columns, and the SHAP contributions
    its reasons are worded from (None when the task gives no reasons)."""

    columns: dict[str, np.ndarray]
    contributions: pd.DataFrame | None = None


class Task:
    """One supervised model of the scorer. Subclasses set the class attributes and the hooks."""

    name: ClassVar[str]
    label: ClassVar[str]  # the training frame's column it predicts (custlens.features.labels)
    metrics: ClassVar[tuple[Metric, ...]]  # headline first
    monitored: ClassVar[tuple[Metric, ...]]  # judged on every scored entry once it matures
    columns: ClassVar[tuple[str, ...]]  # what it adds to the scored table, in order
    reasons: ClassVar[str | None] = None  # the scored table's column of its reasons
    score_column: ClassVar[str]  # the scored table's column the metrics judge
    window: ClassVar[str] = "horizon"  # the outcome window: "horizon" or "repurchase" days
    outcome: ClassVar[str]  # what it predicts, in plain words
    unit: ClassVar[str]  # the unit of its raw scores (SHAP values)

    @property
    def report_metrics(self) -> tuple[Metric, ...]:
        """The few metrics the stakeholder report's leaderboard shows."""
        return self.metrics[:1]

    @property
    def headline(self) -> Metric:
        """The metric the leaderboard, the champion rule and tuning maximise."""
        return self.metrics[0]

    def metric(self, name: str) -> Metric:
        """One of this task's metrics by name."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise CustlensError(f"task {self.name} has no metric {name!r}")

    # --- training ---------------------------------------------------------------------
    def defaults(self) -> ModelSettings:
        """The task's default model settings."""
        return ModelSettings()

    def estimator(
        self,
        horizon_days: int,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> Any:
        """The unfitted estimator (`fit(frame, task.target(frame))`), reading only `features`."""
        raise NotImplementedError

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The label of each row, as the estimator and the metrics take it."""
        raise NotImplementedError

    def predict(self, model: Any, rows: pd.DataFrame) -> np.ndarray:
        """The fitted model's score of each row (probability or value) for the metrics."""
        raise NotImplementedError

    # --- judging ------------------------------------------------------------------------
    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        """The classic alternatives scored on the test rows (fitted on `train` where needed)."""
        return {}

    def scored(self, model: Any, rows: pd.DataFrame) -> Scored:
        """The model's own scores on evaluation rows."""
        raise NotImplementedError

    def judge(self, y: np.ndarray, score: Scored) -> dict[str, float]:
        """Every metric of the task that applies to the scores (NaN where undefined)."""
        out = {}
        for m in self.metrics:
            if m.probability and not score.probability:
                continue
            try:
                out[m.name] = m(y, score.values)
            except CustlensError:  # undefined on these rows (one class, no value)
                out[m.name] = float("nan")
        return out

    def figures(self, y: np.ndarray, scores: dict[str, Scored]) -> dict[str, Figure]:
        """The evaluation plots logged with a training run, by file stem."""
        return {}

    def summary(self, y: np.ndarray, scores: dict[str, Scored], board: pd.DataFrame) -> dict:
        """Aggregates of the test (no customer rows) that travel with the model for reports."""
        return {}

    def promised(self, y: np.ndarray, scores: dict[str, Scored], seed: int) -> list[dict]:
        """The backtest's figures with their intervals: the band the monitor holds the model
        to (task, metric, value, lower, upper)."""
        return []

    def report_figures(self, summary: dict) -> list[tuple[str, Figure, str]]:
        """(key, figure, caption) of the report's quality section, from `summary`."""
        return []

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        """The quality of the model against its baselines, in plain words (the report)."""
        return []

    def window_days(self, horizon_days: int, repurchase_days: int) -> int:
        """Days after as_of until the task's outcome is known."""
        return repurchase_days if self.window == "repurchase" else horizon_days

    def monitor_baseline(self, features: pd.DataFrame) -> np.ndarray:
        """The baseline a scored entry is judged next to, from the features it was scored on
        (BG/NBD, refitted on the history up to that as_of): kept in the ledger."""
        raise NotImplementedError

    def monitored_scores(self, rows: pd.DataFrame) -> dict[str, np.ndarray]:
        """What each monitored metric judges, from a ledger entry's rows (default: the score
        column for every metric)."""
        return {m.name: rows[self.score_column].to_numpy(float) for m in self.monitored}

    # --- scoring ------------------------------------------------------------------------
    def output_settings(self, model: Any, today: pd.DataFrame, scoring: Any) -> dict[str, Any]:
        """What scoring needs besides the model (cut points), fixed at training time from the
        last day's feature rows and the scoring settings."""
        return {}

    def score(
        self, model: Any, features: pd.DataFrame, matrix: Matrix, settings: dict[str, Any]
    ) -> Output:
        """The task's output columns for a block of feature rows."""
        raise NotImplementedError


def best(board: pd.DataFrame, task: str, metric: Metric) -> tuple[str, float]:
    """The best baseline on `metric` in a leaderboard, and its value."""
    rows = board.loc[(board["task"] == task) & (board["scorer"] != "custlens"), ["scorer"]]
    values = board.loc[rows.index, metric.name].dropna() if metric.name in board else None
    if values is None or values.empty:
        return "", float("nan")
    index = values.idxmin() if metric.lower_is_better else values.idxmax()
    return str(board.loc[index, "scorer"]), float(values[index])


class ProbabilityTask(Task):
    """A yes/no outcome predicted as a calibrated probability."""

    # (the monitored list first: below, `metrics` names the class attribute)
    monitored = (metrics.ROC_AUC, metrics.ECE, metrics.BRIER, metrics.TOP_DECILE_LIFT)
    metrics = (
        metrics.ROC_AUC,
        metrics.PR_AUC,
        metrics.ECE,
        metrics.BRIER,
        metrics.LOG_LOSS,
        metrics.TOP_DECILE_LIFT,
    )
    unit = "log-odds"

    @property
    def report_metrics(self) -> tuple[Metric, ...]:
        return (metrics.ROC_AUC, metrics.ECE, metrics.TOP_DECILE_LIFT)

    def estimator(
        self,
        horizon_days: int,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> CalibratedClassifier:
        return CalibratedClassifier(
            horizon_days,
            settings or self.defaults(),
            None if features is None else tuple(features),
        )

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.label].astype(int).to_numpy()

    def predict(self, model: CalibratedClassifier, rows: pd.DataFrame) -> np.ndarray:
        return model.positive_probability(rows)

    def scored(self, model: CalibratedClassifier, rows: pd.DataFrame) -> Scored:
        return Scored(self.predict(model, rows), True)

    def figures(self, y: np.ndarray, scores: dict[str, Scored]) -> dict[str, Figure]:
        values = {n: s.values for n, s in scores.items()}
        probabilities = {n: s.values for n, s in scores.items() if s.probability}
        return {
            f"{self.name}_roc": plots.roc_figure(y, values),
            f"{self.name}_pr": plots.pr_figure(y, values),
            f"{self.name}_gain": plots.gain_figure(y, values),
            f"{self.name}_calibration": plots.reliability_figure(y, probabilities),
        }

    def summary(self, y: np.ndarray, scores: dict[str, Scored], board: pd.DataFrame) -> dict:
        return {"reliability": metrics.reliability_table(y, scores["custlens"].values)}

    def promised(self, y: np.ndarray, scores: dict[str, Scored], seed: int) -> list[dict]:
        """The backtest's figure of each monitored metric, with its bootstrap interval."""
        return _promised(self, y, scores["custlens"].values, seed)

    def report_figures(self, summary: dict) -> list[tuple[str, Figure, str]]:
        if summary.get("reliability") is None:
            return []
        figure = plots.reliability_table_figure({"custlens": summary["reliability"]})
        figure.axes[0].set_title(f"Calibration of the {self.outcome}")
        return [
            (
                f"{self.name}_calibration",
                figure,
                f"Calibration of the {self.outcome}: when the model says 30%, about 30% of "
                "those customers should do it; points on the diagonal mean trustworthy "
                "probabilities.",
            )
        ]

    def order_chance(self, probability: np.ndarray) -> np.ndarray:
        """Each customer's chance of an order by the end of the task's window."""
        return probability

    def probability_columns(
        self, model: CalibratedClassifier, features: pd.DataFrame, matrix: Matrix
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """The probability and its SHAP contributions, in one pass over the trees."""
        return model.explain(features, matrix)


class ValueTask(Task):
    """An amount over the horizon predicted as an expected value."""

    monitored = (
        metrics.GINI,
        metrics.TOP_DECILE_CAPTURE,
        metrics.SPEARMAN,
        metrics.VALUE_BIAS,
        metrics.INTERVAL_COVERAGE,
    )
    metrics = (
        metrics.GINI,
        metrics.TOP_DECILE_CAPTURE,
        metrics.SPEARMAN,
        metrics.VALUE_BIAS,
        metrics.MAE,
        metrics.DECILE_MAPE,
    )
    unit = "log of value"

    @property
    def report_metrics(self) -> tuple[Metric, ...]:
        return (metrics.GINI, metrics.TOP_DECILE_CAPTURE, metrics.SPEARMAN)

    def estimator(
        self,
        horizon_days: int,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> ValueRegressor:
        return ValueRegressor(
            horizon_days,
            settings or self.defaults(),
            intervals,
            None if features is None else tuple(features),
        )

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.label].to_numpy(float)

    def monitored_scores(self, rows: pd.DataFrame) -> dict[str, np.ndarray]:
        out = super().monitored_scores(rows)
        out[metrics.INTERVAL_COVERAGE.name] = rows[["clv_low", "clv_high"]].to_numpy(float)
        return out

    def predict(self, model: Any, rows: pd.DataFrame) -> np.ndarray:
        return model.predict(rows)

    def scored(self, model: Any, rows: pd.DataFrame) -> Scored:
        return Scored(self.predict(model, rows), False)

    def figures(self, y: np.ndarray, scores: dict[str, Scored]) -> dict[str, Figure]:
        return {
            f"{self.name}_deciles": plots.decile_figure(
                y, {n: s.values for n, s in scores.items()}
            )
        }

    def summary(self, y: np.ndarray, scores: dict[str, Scored], board: pd.DataFrame) -> dict:
        if y.sum() <= 0:
            return {}
        out = {"deciles": {"custlens": metrics.decile_table(y, scores["custlens"].values)}}
        name, _ = best(board, self.name, self.headline)
        if name:
            out["deciles"][name] = metrics.decile_table(y, scores[name].values)
        return out

    def promised(self, y: np.ndarray, scores: dict[str, Scored], seed: int) -> list[dict]:
        return _promised(self, y, scores["custlens"].values, seed)

    def report_figures(self, summary: dict) -> list[tuple[str, Figure, str]]:
        if not summary.get("deciles"):
            return []
        tables = {baselines.title(n): t for n, t in summary["deciles"].items()}
        return [
            (
                f"{self.name}_deciles",
                plots.decile_table_figure(tables),
                f"Customers ranked into ten groups by {self.outcome}: bars show what each group "
                "actually spent next, dots what was predicted.",
            )
        ]


def _promised(task: Task, y: np.ndarray, score: np.ndarray, seed: int) -> list[dict]:
    """Each monitored metric that needs no interval, on the backtest's rows, with its 95%
    bootstrap interval: what the model promises."""
    out = []
    for m in task.monitored:
        if m.interval:
            continue
        e = estimate(m, y, score, seed=seed)
        out.append({"task": task.name, "metric": m.name, "value": e.value,
                    "lower": e.lower, "upper": e.upper})  # fmt: skip
    return out
