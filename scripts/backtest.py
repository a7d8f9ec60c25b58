"""Judge custlens against every baseline at several cutoffs, with the uncertainty.

    .venv/bin/python scripts/backtest.py data=online_retail horizon_days=90 cutoffs=4 \\
        [step_days=90] [resamples=500] [output=reports/FOLDER]

Prints, per cutoff and pooled, every headline metric of custlens, the best baseline and the
paired difference with its 95% bootstrap interval; writes them (CSV), every scorer's metrics
(CSV), a figure and a Markdown page into `output`, and logs them to the MLflow run.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import backtest_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="backtest", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Train, judge and compare at every cutoff; write and log (custlens.cli.backtest_job)."""
    backtest_job.command(cfg)


if __name__ == "__main__":
    main()
