"""Tune one model's LightGBM hyperparameters with Optuna; every trial is a nested MLflow run.

    .venv/bin/python scripts/tune.py model=churn tuning.n_trials=50

The study lives in a local SQLite file (tuning.storage), so an interrupted study resumes
where it stopped. Paste the printed overrides into conf/train.yaml or pass them to train.py.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import tune_job
from custlens.cli.config import register
from custlens.cli.errors import exit_on_user_error

register()


@hydra.main(config_path="../conf", config_name="tune", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Build the frame once, then run the trials (custlens.cli.tune_job)."""
    tune_job.command(cfg)


if __name__ == "__main__":
    main()
