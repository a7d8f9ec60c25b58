"""The main job, end to end on the configured data source (`make demo`).

    .venv/bin/python scripts/pipeline.py [data=online_retail] [tracking.uri=...]

Loads, validates and cleans the transactions and records the data-quality report; trains the
segmentation, churn, repurchase and CLV models with their baselines, prints the backtest
leaderboard and registers the scorer (the same job as scripts/train.py); then scores every
customer as of the last day of data and writes them to `scores.output`; ends with the
stakeholder report (`report.output`, default reports/<data>_<last day>.html).

Everything is computed once: the last day's features built for training are the rows scored,
the report is gathered from the scored blocks, and the SHAP views logged with the model are
the report's.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import pipeline_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="pipeline", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Run the pipeline as configured (custlens.cli.pipeline_job)."""
    pipeline_job.command(cfg)


if __name__ == "__main__":
    main()
