"""scripts/tune.py: a seeded Optuna study in SQLite that resumes, trials as nested runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import optuna
import pytest

from custlens.config import compose_config
from tests.helpers import run_script


def tune(tmp_path: Path, trials: int) -> subprocess.CompletedProcess[str]:
    return run_script(
        "tune",
        "debug=smoke",
        "model=churn",
        f"tuning.n_trials={trials}",
        f"tuning.storage=sqlite:///{tmp_path / 'study.db'}",
        f"tuning.bundle={tmp_path / 'experiment' / 'tuned.yaml'}",
        f"tracking.uri=sqlite:///{tmp_path / 'mlruns.db'}",
        f"hydra.run.dir={tmp_path / 'h'}",
    )


def test_study_resumes_and_trials_are_nested_runs(tmp_path: Path) -> None:
    first = tune(tmp_path, 2)
    assert first.returncode == 0, first.stderr[-2000:]
    second = tune(tmp_path, 2)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "2 new trials (4 in the study)" in second.stdout
    study = optuna.load_study(
        study_name="synthetic-churn-h60", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    assert len(study.trials) == 4 and 0.5 < study.best_value <= 1.0
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns.db'}")
    runs = mlflow.search_runs(experiment_names=["custlens"], output_format="list")
    names = sorted(r.data.tags["mlflow.runName"] for r in runs)
    assert names.count("tune") == 2
    assert sorted(n for n in names if n.startswith("trial-")) == [
        "trial-0",
        "trial-1",
        "trial-2",
        "trial-3",
    ]
    # The best parameters come back as an experiment bundle that train.py composes.
    assert "scripts/train.py data=synthetic +experiment=tuned" in second.stdout
    cfg = compose_config(
        "train", ["data=synthetic", "+experiment=tuned", f"hydra.searchpath=[file://{tmp_path}]"]
    )
    best = study.best_trial.params
    tuned = cfg.models.churn.params
    assert set(best) <= set(tuned) and tuned.learning_rate == pytest.approx(
        best["learning_rate"], rel=1e-5
    )
    assert cfg.models.churn.n_estimators == compose_config("train").models.churn.n_estimators
