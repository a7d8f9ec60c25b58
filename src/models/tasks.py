"""The supervised tasks: one registry of what each predicts, how it is trained and judged, and
what it is called."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from custlens.errors import CustlensError
from custlens.models.estimators.training import (
    CalibratedClassifier,
    ModelSettings,
    ValueRegressor,
    value_settings,
)
from custlens.models.evaluation import metrics

Metric = Callable[[np.ndarray, np.ndarray], float]
Estimator = CalibratedClassifier | ValueRegressor


@dataclass(frozen=True)
class Task:
    """One supervised model: its label column, its estimator and defaults, the metrics it is
    judged by (`headline` first: the leaderboard's and the tuning study's), and its words."""

    name: str
    label: str  # the training frame's column it predicts
    kind: str  # classification | regression
    defaults: Callable[[], ModelSettings]
    metrics: dict[str, Metric]
    headline: str
    outcome: str  # what it predicts, in plain words
    unit: str  # the unit of its raw scores (SHAP values)

    def estimator(
        self, horizon_days: int, settings: ModelSettings | None = None, intervals: bool = True
    ) -> Estimator:
        """The unfitted estimator of this task (`fit(frame, frame[label])`), with this task's
        default settings unless given."""
        settings = settings or self.defaults()
        if self.kind == "classification":
            return CalibratedClassifier(horizon_days, settings)
        return ValueRegressor(horizon_days, settings, intervals)


_CLASSIFIER_METRICS: dict[str, Metric] = {"roc_auc": metrics.roc_auc, "pr_auc": metrics.pr_auc}

TASKS: dict[str, Task] = {
    "churn": Task(
        "churn",
        "churned",
        "classification",
        ModelSettings,
        {
            **_CLASSIFIER_METRICS,
            "ece": metrics.expected_calibration_error,
            "brier": metrics.brier,
            "top_decile_lift": metrics.top_decile_lift,
        },
        "roc_auc",
        "churn risk",
        "log-odds",
    ),
    "repurchase": Task(
        "repurchase",
        "repurchased",
        "classification",
        ModelSettings,
        _CLASSIFIER_METRICS,
        "roc_auc",
        "chance of a repeat order",
        "log-odds",
    ),
    "clv": Task(
        "clv",
        "future_value",
        "regression",
        value_settings,
        {
            "gini": metrics.normalized_gini,
            "top_decile_capture": metrics.top_decile_capture,
            "spearman": metrics.spearman,
            "decile_mape": metrics.decile_mape,
        },
        "gini",
        "predicted value",
        "log of value",
    ),
}
SUPERVISED = tuple(TASKS)


def task(name: str) -> Task:
    """The registered task called `name`, or one error naming the known ones."""
    if name not in TASKS:
        raise CustlensError(f"task must be one of {', '.join(TASKS)}, not {name!r}")
    return TASKS[name]


def default_settings() -> dict[str, ModelSettings]:
    """Every supervised task's default settings."""
    return {name: t.defaults() for name, t in TASKS.items()}
