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

from custlens import plan
from custlens.errors import CustlensError
from custlens.features.spec import FeatureSpec
from custlens.models.estimators.training import ModelSettings, out_of_time, plan_folds
from custlens.models.evaluation import baselines
from custlens.models.evaluation.metrics import Metric
from custlens.models.levels import Constants, Levels, sample_of
from custlens.models.rules import ScoringSettings
from custlens.models.tasks import TASKS, Scored
from custlens.models.tasks.base import Context, Output
from custlens.models.tasks.run import levels_for, score_tasks

Models = dict[str, Any]  # task name -> fitted estimator, in the registry's order


def fit_models(
    frame: pd.DataFrame,
    windows: FeatureSpec,
    settings: dict[str, ModelSettings],
    tasks: Sequence[str],
    *,
    features: Sequence[str] | None = None,
    intervals: bool = True,
) -> Models:
    """Each requested task's estimator fitted on the frame (out of time where it chooses
    anything, see custlens.models.estimators.training) for the prediction `windows`, reading
    only `features`; the value interval's spread only with `intervals`."""
    models: Models = {}
    for name, task in TASKS.items():
        if name in tasks:
            estimator = task.estimator(windows, settings[name], features, intervals)
            models[name] = estimator.fit(frame, task.target(frame))
    return models


@dataclass
class Evaluation:
    """Metrics of the models and the baselines on the same test rows, plus their scores, and
    the levels the models' scores were set to on the test day."""

    cutoff: pd.Timestamp
    rows: int
    leaderboard: pd.DataFrame
    scores: dict[str, dict[str, Scored]] = field(default_factory=dict)
    outcomes: dict[str, np.ndarray] = field(default_factory=dict)
    design: str = ""  # how the trained models' out-of-sample choices were made (plan_folds)
    levels: Levels | None = None


def evaluate(
    models: Models,
    train: pd.DataFrame,
    test: pd.DataFrame,
    windows: FeatureSpec,
    daily: pd.Series | None = None,
    scoring: ScoringSettings | None = None,
) -> Evaluation:
    """Every trained model, at the test day's levels (from the test rows' buyers and the
    daily orders up to that day; the value per order from the training rows), and its task's
    baselines, on the test rows."""
    day = pd.Timestamp(test["as_of"].iloc[0])
    constants, scoring = Constants.of(train), scoring or ScoringSettings()
    levels = None
    if scoring.levels:  # else the models' own, as the scorer then scores
        levels = levels_for(models, day, sample_of(test), daily, constants, windows)
    outputs = {
        name: TASKS[name].output_settings(model, test, scoring, constants)
        for name, model in models.items()
    }
    context = Context(levels)
    results = score_tasks(models, test, None, outputs, context)
    rows, scores, outcomes = [], {}, {}
    for name in models:
        task = TASKS[name]
        y = task.outcome_of(test)
        scored = {
            "custlens": task.judged(Output(context.columns, judged=results[name].judged)),
            **task.baselines(train, test, windows.horizon_days),
        }
        rows += [{"task": name, "scorer": n, **task.judge(y, s)} for n, s in scored.items()]
        scores[name], outcomes[name] = scored, y
    if {"churn", "clv"} <= set(models):
        lost = plan.lost_value(test["churned"], baselines.past_spend(test, windows.horizon_days))
        columns = context.columns
        rankings = plan.targeting_scores(
            columns["churn_probability"], columns["clv"], columns["value_at_risk"]
        )
        scores[PLAN] = {("custlens" if n == "plan" else n): Scored(s, False)
                        for n, s in rankings.items()}  # fmt: skip
        outcomes[PLAN] = lost
        rows += [{"task": PLAN, "scorer": n, **_judged(plan.CAPTURES, lost, s.values)}
                 for n, s in scores[PLAN].items()]  # fmt: skip
    return Evaluation(day, len(test), pd.DataFrame(rows), scores, outcomes, levels=levels)


PLAN = "plan"  # the retention plan's targeting, judged beside the tasks (custlens.plan)


def judged_metrics(name: str) -> tuple[Metric, ...]:
    """The metrics of a task of the registry, or of the plan's targeting."""
    return plan.CAPTURES if name == PLAN else TASKS[name].metrics


def _judged(judged: tuple[Metric, ...], y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    out = {}
    for m in judged:
        try:
            out[m.name] = m(y, score)
        except CustlensError:
            out[m.name] = float("nan")
    return out


def backtest(
    frame: pd.DataFrame,
    windows: FeatureSpec,
    settings: dict[str, ModelSettings],
    tasks: Sequence[str],
    cutoff: pd.Timestamp | None = None,
    *,
    features: Sequence[str] | None = None,
    daily: pd.Series | None = None,
    scoring: ScoringSettings | None = None,
) -> Evaluation:
    """Train on what was known at `cutoff` (default: the latest), test on its rows, strictly
    out of time."""
    horizon_days = windows.horizon_days
    test_cutoff = frame["as_of"].max() if cutoff is None else pd.Timestamp(cutoff)
    known, at = out_of_time(frame["as_of"], test_cutoff, horizon_days)
    if not known.any() or not at.any():
        raise CustlensError(
            f"no out-of-time test at {test_cutoff.date()}: it needs rows at that cutoff and "
            f"earlier cutoffs whose {horizon_days}-day labels end by it"
        )
    train, test = frame.loc[known], frame.loc[at].reset_index(drop=True)
    models = fit_models(train, windows, settings, tasks, features=features)
    evaluation = evaluate(models, train, test, windows, daily, scoring)
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
        if name not in TASKS:
            continue
        y = evaluation.outcomes[name]
        tables[name] = TASKS[name].summary(y, scores, board)
        promised += TASKS[name].promised(y, scores, seed)
    return BacktestSummary(
        evaluation.cutoff, evaluation.rows, horizon_days, board, evaluation.design, tables,
        promised,
    )  # fmt: skip
