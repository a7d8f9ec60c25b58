"""The Optuna objective: the validation score of one configuration of a task's model.

A trial fits exactly the estimator training fits (`Task.estimator(...).fit`), with the
trial's LightGBM parameters, on the rows known at the validation cutoff, and is judged on that
cutoff by the task's headline metric. The caller hands it only what was known before the
backtest's test cutoff, so tuning cannot leak into the reported figures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import optuna
import pandas as pd

from custlens.features.spec import FeatureSpec
from custlens.models.estimators.training import ModelSettings, out_of_time, plan_folds
from custlens.models.tasks import task as registered


def suggest_params(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Parameters drawn from a space given as {name: {low, high, log?, int?}}."""
    params = {}
    for name, bounds in space.items():
        if bounds.get("int"):
            params[name] = trial.suggest_int(
                name, bounds["low"], bounds["high"], log=bounds.get("log", False)
            )
        else:
            params[name] = trial.suggest_float(
                name, bounds["low"], bounds["high"], log=bounds.get("log", False)
            )
    return params


def validation_split(frame: pd.DataFrame, horizon_days: int) -> tuple[pd.DataFrame, ...]:
    """The rows known at the validation cutoff and the rows at it (the out-of-time split of
    `plan_folds`)."""
    folds = plan_folds(frame, horizon_days)
    return frame.loc[folds.validation_fit], frame.loc[folds.validation]


def known_before_test(frame: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """The rows whose labels end by the frame's latest cutoff, the backtest's test fold: all
    that tuning may see."""
    known, _ = out_of_time(frame["as_of"], frame["as_of"].max(), horizon_days)
    return frame.loc[known]


def objective(
    trial: optuna.Trial,
    frame: pd.DataFrame,
    task: str,
    windows: FeatureSpec,
    base: ModelSettings,
    space: dict[str, dict[str, Any]],
    features: tuple[str, ...] | None = None,
) -> float:
    """The validation score of the estimator training would fit with the trial's parameters."""
    t = registered(task)
    fit_rows, validation = validation_split(frame, windows.horizon_days)
    settings = replace(base, params={**base.params, **suggest_params(trial, space)})
    model = t.estimator(windows, settings, features, intervals=False)
    model.fit(fit_rows, t.target(fit_rows))
    return t.headline(t.target(validation), t.predict(model, validation))
