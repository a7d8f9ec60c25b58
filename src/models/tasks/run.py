"""Every task's scoring of one block of feature rows, in the registry's order, and the day's
levels (`custlens.models.levels`) those scores are set to: what the scorer and the out-of-time
evaluation share."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custlens.features.spec import FeatureSpec
from custlens.models.estimators.gbm import Matrix
from custlens.models.levels import Constants, Levels, levels_of
from custlens.models.tasks import TASKS
from custlens.models.tasks.base import Context, Output, ProbabilityTask, ValueTask


def score_tasks(
    models: dict[str, Any],
    features: pd.DataFrame,
    matrix: Matrix,
    outputs: dict[str, dict[str, Any]] | None,
    context: Context,
) -> dict[str, Output]:
    """Each model's output on the rows, in the registry's order: each task sees the columns
    of those before it (`context.columns`, which ends up holding every column, a later
    task's version of a column replacing an earlier one's)."""
    results = {}
    for name, task in TASKS.items():
        if name in models:
            settings = None if outputs is None else outputs[name]
            results[name] = task.score(models[name], features, matrix, settings, context)
            context.columns.update(results[name].columns)
    return results


def levels_for(
    models: dict[str, Any],
    day: pd.Timestamp,
    buyers: pd.DataFrame,
    daily: pd.Series | None,
    constants: Constants,
    windows: FeatureSpec,
) -> Levels:
    """The levels of `day` from the models' own scores of the buyers (all of them, or a fixed
    sample: `custlens.models.levels.sample_of`) and the log's daily orders up to that day."""
    probabilities: dict[str, tuple[int, np.ndarray]] = {}
    values = None
    if len(buyers):
        context = Context()
        for name, task in TASKS.items():
            if name not in models or not isinstance(task, ProbabilityTask | ValueTask):
                continue
            column = task.score(models[name], buyers, None, None, context).columns[
                task.score_column
            ]
            if isinstance(task, ProbabilityTask):
                days = task.window_days(windows.horizon_days, windows.repurchase_days)
                probabilities[name] = (days, task.order_chance(column))
            else:
                values = column
    spans = (windows.repurchase_days, windows.horizon_days)
    return levels_of(day, buyers, probabilities, values, daily, constants, spans)
