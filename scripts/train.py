"""Train the segmentation, churn, repurchase and CLV models out of time, with their baselines.

    .venv/bin/python scripts/train.py [data=...] [horizon_days=90] [model=churn]

Prints and logs the backtest leaderboard; with every model trained, exports the scorer to
the MLflow registry (alias `champion` moves only when it beats the current one).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import train_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="train", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """One parent MLflow run; a child run per model (custlens.cli.train_job)."""
    train_job.command(cfg)


if __name__ == "__main__":
    main()
