"""A retention plan under a budget: whom to contact, by when, and what it is expected to keep.

    .venv/bin/python scripts/plan.py scores=outputs/scores.parquet \\
        [plan.budget=0.1 plan.unit=share] [plan.unit=contacts plan.budget=500] \\
        [plan.unit=amount plan.budget=5000 plan.cost_per_contact=2.5] [plan.save_rate=0.2]
    .venv/bin/python scripts/plan.py data=... as_of=YYYY-MM-DD [model_uri=URI]   # score first

Ranks the customers by the value a contact is expected to keep (save_rate x churn probability
x the value they would bring if they keep buying), net of its cost, and contacts the best
while the budget lasts and the net value is positive. Writes plan.csv (customer, segment,
action, contact-by date, expected value kept, reasons), plan_by_segment.csv and
budget_curve.csv into `output`, and prints the totals. `plan.save_rate` is an assumption: the
data holds no record of contacts and their effect.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import plan_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="plan", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Plan (custlens.cli.plan_job)."""
    plan_job.command(cfg)


if __name__ == "__main__":
    main()
