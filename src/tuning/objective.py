"""The Optuna objective: validation score of one LightGBM configuration, out of time.

Trials are judged on the validation fold only; the latest cutoff stays untouched for the
backtest, so tuning cannot leak into the reported figures.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import optuna
import pandas as pd

from custlens.models.estimators.training import (
    ModelSettings,
    boosted_model,
    plan_folds,
    sample_weights,
)
from custlens.models.tasks import task as registered

REPORT_EVERY = 25  # boosting rounds between pruning checks


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


def score(task: str, y: np.ndarray, predicted: np.ndarray) -> float:
    """The metric a study maximises: the task's headline metric (custlens.models.tasks)."""
    t = registered(task)
    return t.metrics[t.headline](y, predicted)


def _pruning_callback(trial: optuna.Trial) -> Any:
    def callback(env: Any) -> None:
        if env.iteration % REPORT_EVERY or not env.evaluation_result_list:
            return
        _, _, loss, higher_is_better = env.evaluation_result_list[0][:4]
        trial.report(loss if higher_is_better else -loss, env.iteration)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at round {env.iteration}")

    return callback


def objective(
    trial: optuna.Trial,
    frame: pd.DataFrame,
    task: str,
    horizon_days: int,
    base: ModelSettings,
    space: dict[str, dict[str, Any]],
) -> float:
    """The validation score of the model training would fit with the trial's parameters.

    The same model as `custlens.models.estimators.training` builds from `base` (seed bags,
    rounds, early stopping floored at `min_rounds`, season weights), fitted on the
    validation-fitting rows and scored on the validation fold."""
    folds = plan_folds(frame, horizon_days)
    fit, val = frame.loc[folds.validation_fit], frame.loc[folds.validation]
    label, kind = registered(task).label, registered(task).kind
    s = replace(base, params={**base.params, **suggest_params(trial, space)})
    goal = s.objective or ("tweedie" if kind == "regression" else None)
    weights = sample_weights(fit, frame, horizon_days, s)
    model = boosted_model(kind, s, goal, s.n_estimators).fit(
        fit,
        fit[label],
        validation=(val, val[label]),  # seen by the pruning callback; stops only if configured
        callbacks=[_pruning_callback(trial)],
        sample_weight=weights,
    )
    rounds = model.best_iteration_
    if s.early_stopping_rounds and rounds < s.min_rounds:  # training's floor on the rounds
        rounds = s.min_rounds
        model = boosted_model(kind, s, goal, rounds).fit(fit, fit[label], sample_weight=weights)
    trial.set_user_attr("best_iteration", rounds)
    return score(task, val[label].to_numpy(float), model.predict_response(val))
