"""The Optuna objective tunes the estimator training fits, on the validation fold only."""

from __future__ import annotations

import optuna
import pandas as pd

from custlens.features.spec import FeatureSpec
from custlens.models.estimators.training import CalibratedClassifier, ModelSettings, out_of_time
from custlens.tuning import objective as tuning
from tests.models.conftest import HORIZON

SPACE = {"learning_rate": {"low": 0.05, "high": 0.2, "log": True}}


def test_the_trial_fits_the_estimator_training_fits(synthetic_frame, monkeypatch) -> None:
    fitted: list[tuple[CalibratedClassifier, pd.DataFrame]] = []
    fit = CalibratedClassifier.fit

    def spy(self, X, y):  # noqa: N803
        fitted.append((self, X))
        return fit(self, X, y)

    monkeypatch.setattr(CalibratedClassifier, "fit", spy)
    base = ModelSettings(params={"num_leaves": 7, "max_depth": 3}, n_estimators=40, n_seeds=2)
    frame = tuning.known_before_test(synthetic_frame, HORIZON)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(
        lambda trial: tuning.objective(
            trial, frame, "churn", FeatureSpec(horizon_days=HORIZON), base, SPACE
        ),
        n_trials=2,
    )
    assert len(fitted) == 2
    for (model, rows), trial in zip(fitted, study.trials, strict=True):
        assert model.settings.n_seeds == 2 and model.settings.params["max_depth"] == 3
        assert model.settings.params["learning_rate"] == trial.params["learning_rate"]
        # Fitted only on rows whose labels end by the validation cutoff, itself before the
        # backtest's test cutoff: no trial sees the test fold's outcomes.
        validation_day = frame["as_of"].max() - pd.Timedelta(days=HORIZON)
        known, _ = out_of_time(rows["as_of"], frame["as_of"].max(), HORIZON)
        assert known.all() and rows["as_of"].max() <= validation_day
    assert synthetic_frame["as_of"].max() not in set(frame["as_of"])
    assert 0.5 < study.best_value <= 1.0
