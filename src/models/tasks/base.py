"""What every supervised task provides, and the two kinds: probabilities and values.

A task owns its label column, its estimator and default settings, the metrics it is judged by
(one list, headline first: the leaderboard, the backtest, tuning and the monitor all read it),
its baselines, the output columns it adds to the scored table, the reasons it gives, and its
words and figures in the report. Training, evaluation, scoring, the report and tuning iterate
over the registry (`custlens.models.tasks`) and ask the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.features.spec import FeatureSpec
from custlens.models.estimators.gbm import Matrix
from custlens.models.estimators.training import (
    CalibratedClassifier,
    ModelSettings,
    ValueRegressor,
)
from custlens.models.evaluation import baselines, metrics, plots
from custlens.models.evaluation.metrics import Metric
from custlens.models.evaluation.uncertainty import estimate
from custlens.models.levels import Constants, Levels, shifted


@dataclass(frozen=True)
class Scored:
    """One scorer's scores on evaluation rows, and whether they are probabilities (then the
    calibration metrics judge them too; ranking-only scores are judged on ranking alone);
    `extra`: what a metric judges instead of `values`, by the metric's name (the points of a
    timing curve)."""

    values: np.ndarray
    probability: bool
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def of(self, metric: Metric) -> np.ndarray:
        """The scores `metric` judges."""
        return self.extra.get(metric.name, self.values)


@dataclass
class Context:
    """What a task's scoring sees besides its model and rows: the scoring day's levels
    (`custlens.models.levels`; None: the models' own), the columns the tasks before it in the
    registry produced for the same rows, and whether its reasons are wanted (the SHAP pass)."""

    levels: Levels | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    reasons: bool = False


@dataclass(frozen=True)
class Output:
    """What a task adds to one block of scored rows: its columns, the SHAP contributions its
    reasons are worded from (None when the task gives no reasons), and what a metric judges
    instead of the score column, by the metric's name (`Scored.extra`)."""

    columns: dict[str, np.ndarray]
    contributions: pd.DataFrame | None = None
    judged: dict[str, np.ndarray] = field(default_factory=dict)


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
    probabilistic: ClassVar[bool] = False  # whether its score is a probability
    needs: ClassVar[tuple[str, ...]] = ()  # the tasks whose scores it reads
    explained: ClassVar[bool] = True  # one LightGBM score SHAP explains (the report, explain)
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
        windows: FeatureSpec,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> Any:
        """The unfitted estimator (`fit(frame, task.target(frame))`) of the prediction windows
        (`windows.horizon_days`, `repurchase_days`, `curve_days`), reading only `features`."""
        raise NotImplementedError

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The label of each row, as the estimator takes it."""
        raise NotImplementedError

    def outcome_of(self, frame: pd.DataFrame) -> np.ndarray:
        """The outcome of each row, as the metrics judge it (evaluation and the monitor)."""
        return self.target(frame)

    def output_columns(self, model: Any = None) -> tuple[str, ...]:
        """The columns it adds to the scored table with this fitted model."""
        return self.columns

    @property
    def watched(self) -> tuple[str, ...]:
        """The scored table's columns whose distribution the monitor watches for drift."""
        return (self.score_column,)

    def predict(self, model: Any, rows: pd.DataFrame) -> np.ndarray:
        """The fitted model's own score of each row (no levels), for tuning and the metrics."""
        return self.score(model, rows, None, None, Context()).columns[self.score_column]

    # --- judging ------------------------------------------------------------------------
    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        """The classic alternatives scored on the test rows (fitted on `train` where needed)."""
        return {}

    def judged(self, output: Output) -> Scored:
        """What the metrics judge of the task's output on evaluation rows (`output.columns`:
        every task's columns, as the scored table has them)."""
        return Scored(output.columns[self.score_column], self.probabilistic, dict(output.judged))

    def judge(self, y: np.ndarray, score: Scored) -> dict[str, float]:
        """Every metric of the task that applies to the scores (NaN where undefined)."""
        out = {}
        for m in self.metrics:
            if m.probability and not score.probability:
                continue
            if m.interval and m.name not in score.extra:
                continue  # a scorer without an interval
            try:
                out[m.name] = m(y, score.of(m))
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
        """The backtest's figure of each monitored metric with its 95% bootstrap interval (an
        interval's coverage aside: its promise is its nominal level): the band the monitor
        holds the model to (task, metric, value, lower, upper)."""
        out = []
        for m in self.monitored:
            if m.interval:
                continue
            e = estimate(m, y, scores["custlens"].of(m), seed=seed)
            out.append({"task": self.name, "metric": m.name, "value": e.value,
                        "lower": e.lower, "upper": e.upper})  # fmt: skip
        return out

    def report_figures(self, summary: dict) -> list[tuple[str, Figure, str]]:
        """(key, figure, caption) of the report's quality section, from `summary`."""
        return []

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        """The quality of the model against its baselines, in plain words (the report)."""
        return []

    def window_days(self, horizon_days: int, repurchase_days: int) -> int:
        """Days after as_of until the task's outcome is known."""
        return repurchase_days if self.window == "repurchase" else horizon_days

    def monitor_baseline(self, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
        """The baseline a scored entry is judged next to, from the features it was scored on
        (BG/NBD, refitted on the history up to that as_of): kept in the ledger."""
        raise NotImplementedError

    def monitored_scores(self, rows: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
        """What each monitored metric judges, from a ledger entry's rows (default: the score
        column for every metric); a metric left out is not judged on the entry."""
        return {m.name: rows[self.score_column].to_numpy(float) for m in self.monitored}

    # --- scoring ------------------------------------------------------------------------
    def output_settings(
        self, model: Any, today: pd.DataFrame, scoring: Any, constants: Constants
    ) -> dict[str, Any]:
        """What scoring needs besides the model (cut points), fixed at training time from the
        last day's feature rows, the scoring settings and the training windows' constants."""
        return {}

    def score(
        self,
        model: Any,
        features: pd.DataFrame,
        matrix: Matrix,
        settings: dict[str, Any] | None,
        context: Context,
    ) -> Output:
        """The task's columns for a block of feature rows: all of them with its output
        `settings` (scoring), only the judged ones without (evaluation)."""
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
        windows: FeatureSpec,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> CalibratedClassifier:
        return CalibratedClassifier(
            windows.horizon_days,
            settings or self.defaults(),
            None if features is None else tuple(features),
        )

    probabilistic = True

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.label].astype(int).to_numpy()

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
        """Each customer's chance of an order by the end of the task's window, from the
        task's own probability (and back: the map is its own inverse)."""
        return probability

    def probability(
        self, model: CalibratedClassifier, features: pd.DataFrame, matrix: Matrix, context: Context
    ) -> tuple[np.ndarray, pd.DataFrame | None]:
        """The probability at the day's level, and with reasons wanted its SHAP
        contributions (of the model's raw score), in one pass over the trees."""
        if context.reasons:
            p, contributions = model.explain(features, matrix)
        else:
            p, contributions = model.positive_probability(features, matrix), None
        if context.levels is not None:
            shift = context.levels.shift(self.name)
            p = self.order_chance(shifted(self.order_chance(p), shift))
        return p, contributions


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
        metrics.INTERVAL_COVERAGE,
        metrics.MAE,
        metrics.DECILE_MAPE,
    )
    unit = "log of value"

    @property
    def report_metrics(self) -> tuple[Metric, ...]:
        return (metrics.GINI, metrics.TOP_DECILE_CAPTURE, metrics.SPEARMAN)

    def estimator(
        self,
        windows: FeatureSpec,
        settings: ModelSettings | None = None,
        features: Sequence[str] | None = None,
        intervals: bool = True,
    ) -> ValueRegressor:
        return ValueRegressor(
            windows.horizon_days,
            settings or self.defaults(),
            intervals,
            None if features is None else tuple(features),
        )

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.label].to_numpy(float)

    def monitored_scores(self, rows: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
        out = super().monitored_scores(rows, horizon_days)
        out[metrics.INTERVAL_COVERAGE.name] = rows[["clv_low", "clv_high"]].to_numpy(float)
        return out

    def value(
        self, model: ValueRegressor, features: pd.DataFrame, matrix: Matrix, context: Context
    ) -> tuple[np.ndarray, pd.DataFrame | None]:
        """The expected value at the day's level, and with reasons wanted the SHAP
        contributions of its LightGBM part, in one pass over the trees."""
        if context.reasons:
            v, contributions = model.explain(features, matrix)
        else:
            v, contributions = model.predict(features, matrix), None
        factor = context.levels.value_factor if context.levels is not None else 1.0
        return v * factor, contributions

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
