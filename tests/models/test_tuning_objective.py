"""The Optuna objective tunes the model training fits: seed bags, the rounds floor, weights."""

from __future__ import annotations

import optuna
import pandas as pd

from custlens.models.estimators import training
from custlens.models.estimators.gbm import SeedBaggedModel
from custlens.models.estimators.training import ModelSettings
from custlens.tuning import objective as tuning
from tests.models.conftest import HORIZON

SPACE = {"learning_rate": {"low": 0.05, "high": 0.2, "log": True}}


def run_trial(frame: pd.DataFrame, base: ModelSettings) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(
        lambda trial: tuning.objective(trial, frame, "churn", HORIZON, base, SPACE), n_trials=1
    )
    return study


def test_the_trial_model_is_the_one_training_builds(synthetic_frame, monkeypatch) -> None:
    built: list[object] = []

    def spy(*args):
        built.append(training.boosted_model(*args))
        return built[-1]

    monkeypatch.setattr(tuning, "boosted_model", spy)
    base = ModelSettings(
        params={"num_leaves": 7, "max_depth": 3},
        n_estimators=60,
        early_stopping_rounds=3,
        min_rounds=50,
        n_seeds=2,
        season_boost=1.0,
    )
    study = run_trial(synthetic_frame, base)
    assert all(isinstance(m, SeedBaggedModel) and m.n_seeds == 2 for m in built)
    assert study.trials[0].user_attrs["best_iteration"] >= 50  # training's floor
    assert built[-1].params["max_depth"] == 3 and "learning_rate" in built[-1].params
    assert 0.5 < study.best_value <= 1.0
