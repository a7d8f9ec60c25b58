"""Features of every customer as of a date, written to Parquet or CSV.

    .venv/bin/python scripts/build_features.py [data=...] as_of=YYYY-MM-DD output=FILE.parquet
        [engine=spark]    # the same features computed by Spark (conf/engine/spark.yaml)

One row per customer with a transaction on or before `as_of`, `customer_id` first. The summary
(row count, null rates, statistics) is logged to MLflow.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import features_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="build_features", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Load, build, write, log (custlens.cli.features_job)."""
    features_job.command(cfg)


if __name__ == "__main__":
    main()
