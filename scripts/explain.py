"""Why one customer got their scores: a SHAP waterfall for churn, repurchase and CLV.

    .venv/bin/python scripts/explain.py customer_id=ID as_of=YYYY-MM-DD [data=...] \\
        [model_uri=URI] [output=reports/customer_ID.png]

Prints the customer's scores and writes OUTPUT_churn.png, OUTPUT_repurchase.png and
OUTPUT_clv.png, which are not logged to MLflow (the run records the request under a
pseudonym). The features (and the BG/NBD fit inside them) are built over every customer,
as for scoring, so the customer is explained exactly as they were scored.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import report_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="explain", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Explain one customer (custlens.cli.report_job.explain_command)."""
    report_job.explain_command(cfg)


if __name__ == "__main__":
    main()
