"""Fit the task models on a training frame, and judge them out of time against the baselines.

Everything iterates over the task registry (`custlens.models.tasks`): each task fits its
estimator, scores its test rows and its baselines, and names the metrics it is judged by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.estimators.training import ModelSettings, out_of_time, plan_folds
from custlens.models.tasks import TASKS, Scored

Models = dict[str, Any]  # task name -> fitted estimator, in the registry's order


def fit_models(
    frame: pd.DataFrame,
    horizon_days: int,
    settings: dict[str, ModelSettings],
    tasks: Sequence[str],
    *,
    features: Sequence[str] | None = None,
    intervals: bool = True,
) -> Models:
    """Each requested task's estimator fitted on the frame (out of time where it chooses
    anything, see custlens.models.estimators.training), reading only `features`; the value
    interval models only with `intervals`."""
    models: Models = {}
    for name, task in TASKS.items():
        if name in tasks:
            estimator = task.estimator(horizon_days, settings[name], features, intervals)
            models[name] = estimator.fit(frame, task.target(frame))
    return models


@dataclass
class Evaluation:
    """Metrics of the models and the baselines on the same test rows, plus their scores."""

    cutoff: pd.Timestamp
    rows: int
    leaderboard: pd.DataFrame
    scores: dict[str, dict[str, Scored]] = field(default_factory=dict)
    outcomes: dict[str, np.ndarray] = field(default_factory=dict)
    design: str = ""  # how the trained models' out-of-sample choices were made (plan_folds)


def evaluate(
    models: Models, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
) -> Evaluation:
    """Every trained model and its task's baselines on the test rows."""
    rows, scores, outcomes = [], {}, {}
    for name, model in models.items():
        task = TASKS[name]
        y = task.target(test)
        scored = {
            "custlens": task.scored(model, test),
            **task.baselines(train, test, horizon_days),
        }
        rows += [{"task": name, "scorer": n, **task.judge(y, s)} for n, s in scored.items()]
        scores[name], outcomes[name] = scored, y
    cutoff = pd.Timestamp(test["as_of"].iloc[0])
    return Evaluation(cutoff, len(test), pd.DataFrame(rows), scores, outcomes)


def backtest(
    frame: pd.DataFrame,
    horizon_days: int,
    settings: dict[str, ModelSettings],
    tasks: Sequence[str],
    cutoff: pd.Timestamp | None = None,
    *,
    features: Sequence[str] | None = None,
) -> Evaluation:
    """Train on what was known at `cutoff` (default: the latest), test on its rows, strictly
    out of time."""
    test_cutoff = frame["as_of"].max() if cutoff is None else pd.Timestamp(cutoff)
    known, at = out_of_time(frame["as_of"], test_cutoff, horizon_days)
    if not known.any() or not at.any():
        raise CustlensError(
            f"no out-of-time test at {test_cutoff.date()}: it needs rows at that cutoff and "
            f"earlier cutoffs whose {horizon_days}-day labels end by it"
        )
    train, test = frame.loc[known], frame.loc[at]
    # The backtest judges expected values, not intervals: their models are left out.
    models = fit_models(train, horizon_days, settings, tasks, features=features, intervals=False)
    evaluation = evaluate(models, train, test, horizon_days)
    evaluation.design = plan_folds(train, horizon_days).design
    return evaluation


@dataclass
class BacktestSummary:
    """What a report needs of a backtest, as aggregates only (no customer rows): the
    leaderboard and, per task, its own tables (`Task.summary`: reliability, deciles)."""

    cutoff: pd.Timestamp
    rows: int
    horizon_days: int
    leaderboard: pd.DataFrame
    design: str = ""
    tasks: dict[str, dict] = field(default_factory=dict)
    promised: list[dict] = field(default_factory=list)  # task, metric, value, lower, upper


def summarise(evaluation: Evaluation, horizon_days: int, seed: int = 0) -> BacktestSummary:
    """The aggregates of an evaluation that may travel with the model, and its promise: the
    monitored metrics with their bootstrap intervals."""
    board = evaluation.leaderboard.copy()
    tables, promised = {}, []
    for name, scores in evaluation.scores.items():
        y = evaluation.outcomes[name]
        tables[name] = TASKS[name].summary(y, scores, board)
        promised += TASKS[name].promised(y, scores, seed)
    return BacktestSummary(
        evaluation.cutoff, evaluation.rows, horizon_days, board, evaluation.design, tables,
        promised,
    )  # fmt: skip
