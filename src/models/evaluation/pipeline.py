"""Fit every model on a training frame, and judge them out of time against the baselines."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.estimators.training import (
    CalibratedClassifier,
    ModelSettings,
    ValueRegressor,
    plan_folds,
)
from custlens.models.evaluation import baselines, metrics
from custlens.models.tasks import TASKS


@dataclass
class TrainedModels:
    """The supervised models fitted on one training frame."""

    churn: CalibratedClassifier | None = None
    repurchase: CalibratedClassifier | None = None
    clv: ValueRegressor | None = None


def fit_models(
    frame: pd.DataFrame,
    horizon_days: int,
    settings: dict[str, ModelSettings],
    tasks: list[str],
    intervals: bool = True,
) -> TrainedModels:
    """Train the requested supervised models out of time (see custlens.models.estimators.training);
    the CLV interval models only with `intervals`."""
    out = TrainedModels()
    for name in tasks:
        if name in TASKS:
            task = TASKS[name]
            estimator = task.estimator(horizon_days, settings[name], intervals)
            setattr(out, name, estimator.fit(frame, frame[task.label]))
    return out


@dataclass
class Evaluation:
    """Metrics of the models and the baselines on the same test rows, plus their scores."""

    cutoff: pd.Timestamp
    rows: int
    leaderboard: pd.DataFrame
    scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    outcomes: dict[str, np.ndarray] = field(default_factory=dict)
    design: str = ""  # how the trained models' out-of-sample choices were made (plan_folds)


def _classification_rows(
    task: str, y: np.ndarray, model: np.ndarray, others: baselines.Scores
) -> list[dict]:
    entries = [("custlens", model, True), *((n, s, p) for n, (s, p) in others.items())]
    return [
        {"task": task, "scorer": name, **metrics.classification_report(y, s, probabilities=p)}
        for name, s, p in entries
    ]


def evaluate(
    models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
) -> Evaluation:
    """Every trained model and its baselines on the test rows."""
    rows, scores, outcomes = [], {}, {}
    for task, classifier in (("churn", models.churn), ("repurchase", models.repurchase)):
        if classifier is None:
            continue
        y = test[TASKS[task].label].astype(int).to_numpy()
        others = (
            baselines.churn_baselines(train, test, horizon_days)
            if task == "churn"
            else baselines.repurchase_baselines(train, test)
        )
        predicted = classifier.positive_probability(test)
        rows += _classification_rows(task, y, predicted, others)
        scores[task] = {"custlens": predicted, **{n: s for n, (s, _) in others.items()}}
        outcomes[task] = y
    if models.clv is not None:
        y = test[TASKS["clv"].label].to_numpy(float)
        values = {
            "custlens": models.clv.predict(test),
            **baselines.value_baselines(test, horizon_days),
        }
        rows += [
            {"task": "clv", "scorer": n, **metrics.value_report(y, v)} for n, v in values.items()
        ]
        scores["clv"], outcomes["clv"] = values, y
    cutoff = pd.Timestamp(test["as_of"].iloc[0])
    return Evaluation(cutoff, len(test), pd.DataFrame(rows), scores, outcomes)


def backtest(
    frame: pd.DataFrame,
    horizon_days: int,
    settings: dict[str, ModelSettings],
    tasks: list[str],
    cutoff: pd.Timestamp | None = None,
) -> Evaluation:
    """Train on what was known at `cutoff` (default: the latest), test on its rows, strictly
    out of time."""
    test_cutoff = frame["as_of"].max() if cutoff is None else pd.Timestamp(cutoff)
    known = frame.loc[frame["as_of"] + pd.Timedelta(days=horizon_days) <= test_cutoff]
    test = frame.loc[frame["as_of"] == test_cutoff]
    if known.empty or test.empty:
        raise CustlensError(
            f"no out-of-time test at {test_cutoff.date()}: it needs rows at that cutoff and "
            f"earlier cutoffs whose {horizon_days}-day labels end by it"
        )
    # The backtest judges expected values, not intervals: their models are left out.
    models = fit_models(known, horizon_days, settings, tasks, intervals=False)
    evaluation = evaluate(models, known, test, horizon_days)
    evaluation.design = plan_folds(known, horizon_days).design
    return evaluation


@dataclass
class BacktestSummary:
    """What a report needs of a backtest, as aggregates only (no customer rows).

    `reliability` is the churn model's reliability table; `deciles` the CLV decile table of
    the model, and `baseline_deciles` that of the best baseline by Gini.
    """

    cutoff: pd.Timestamp
    rows: int
    horizon_days: int
    leaderboard: pd.DataFrame
    design: str = ""
    reliability: pd.DataFrame | None = None
    deciles: pd.DataFrame | None = None
    baseline_deciles: pd.DataFrame | None = None
    best_value_baseline: str | None = None


def summarise(evaluation: Evaluation, horizon_days: int) -> BacktestSummary:
    """The aggregates of an evaluation that may travel with the model."""
    summary = BacktestSummary(
        evaluation.cutoff,
        evaluation.rows,
        horizon_days,
        evaluation.leaderboard.copy(),
        evaluation.design,
    )
    if "churn" in evaluation.scores:
        y, p = evaluation.outcomes["churn"], evaluation.scores["churn"]["custlens"]
        summary.reliability = metrics.reliability_table(y, p)
    if "clv" in evaluation.scores and evaluation.outcomes["clv"].sum() > 0:
        y, values = evaluation.outcomes["clv"], evaluation.scores["clv"]
        summary.deciles = metrics.decile_table(y, values["custlens"])
        board = evaluation.leaderboard
        others = board.loc[(board["task"] == "clv") & (board["scorer"] != "custlens")]
        if not others.empty:
            best = str(others.loc[others["gini"].idxmax(), "scorer"])
            summary.best_value_baseline = best
            summary.baseline_deciles = metrics.decile_table(y, values[best])
    return summary
