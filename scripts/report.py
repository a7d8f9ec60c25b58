"""The stakeholder report: one self-contained HTML page on the customer base as of a date.

    .venv/bin/python scripts/report.py as_of=YYYY-MM-DD [data=...] [model_uri=URI] \\
        [report.output=reports/FILE.html]

Segments with their value, risk and recommended action, where the value at risk sits, what
drives churn, repurchase and value (SHAP), model quality against the baselines in plain words,
calibration and the data-quality summary. Customers appear only under pseudonyms.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import report_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="report", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Score, explain and write the page (custlens.cli.report_job.command)."""
    report_job.command(cfg)


if __name__ == "__main__":
    main()
