"""Judge every recorded score whose horizon has closed, watch drift, and give a verdict.

    .venv/bin/python scripts/monitor.py data=... [as_of=YYYY-MM-DD] [output=DIR] \\
        [ledger.path=outputs/ledger] [monitor.fail_on=retrain]

`data` is the log including what happened after the scored dates (data=parquet_log reads it
where it lies); `as_of` defaults to its last day. Writes metrics.csv, open.csv, drift.csv,
migration.csv, verdict.json and a self-contained monitor.html into `output`, and logs an MLflow
run whose metrics have the scored dates as their steps. Exit code 3 when the verdict reaches
`monitor.fail_on` (watch or retrain), for schedulers.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import monitor_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="monitor", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Judge the ledger (custlens.cli.monitor_job)."""
    monitor_job.command(cfg)


if __name__ == "__main__":
    main()
