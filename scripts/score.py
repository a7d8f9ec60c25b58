"""Score every customer as of a date: segment, churn risk, repurchase probability, value, reasons.

    .venv/bin/python scripts/score.py data=transactions_csv data.path=FILE as_of=YYYY-MM-DD \\
        output=OUT.parquet [model_uri=models:/NAME@champion] [overwrite=true] [engine=spark]

With engine=spark the features are computed, scored and written by Spark's executors (the
scorer travels with the job; nothing is collected on the driver); the output is then a Parquet
folder partitioned by `as_of`.

Every customer with a kept transaction on or before `as_of` (or in the customer table) appears
exactly once; the job fails rather than write a short file, and writes atomically. On DuckDB the
features stay on the engine and customers are scored `chunk_size` at a time, so memory follows
the block, not the customer base; with `data=parquet_log` the log itself is read where it lies.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import score_job
from custlens.cli.errors import exit_on_user_error
from custlens.config import register

register()


@hydra.main(config_path="../conf", config_name="score", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Check the output first, then load, score, reconcile and write (custlens.cli.score_job)."""
    score_job.command(cfg)


if __name__ == "__main__":
    main()
