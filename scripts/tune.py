"""Tune one model's LightGBM hyperparameters with Optuna; every trial is a nested MLflow run.

    .venv/bin/python scripts/tune.py model=churn tuning.n_trials=50

The study lives in a local SQLite file (tuning.storage), so an interrupted study resumes
where it stopped. Each trial fits the estimator training fits, on what was known before the
backtest's test cutoff, and is judged on the validation cutoff by the task's headline metric.
The best trial is written as an experiment bundle (tuning.bundle): train with it through
`scripts/train.py +experiment=<study name>`.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import tune_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="tune", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Build the frame once, then run the trials (custlens.cli.tune_job)."""
    tune_job.command(cfg)


if __name__ == "__main__":
    main()
