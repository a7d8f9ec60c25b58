"""Score every customer as of a date: segment, churn risk, repurchase probability, value, reasons.

    .venv/bin/python scripts/score.py data=transactions_csv data.path=FILE as_of=YYYY-MM-DD \\
        output=OUT.parquet [model=models:/NAME@champion] [overwrite=true]

Every customer with a kept transaction on or before `as_of` (or in the customer table) appears
exactly once; the job fails rather than write a short file, and writes atomically.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import score_job
from custlens.cli.config import flat_params, project_root, register, resolved_yaml, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.output import check_output
from custlens.data import DataSpec, load
from custlens.errors import CustlensError
from custlens.tracking import mlflow_io, registry
from custlens.tracking.mlflow_io import TrackingSettings

register()


@hydra.main(config_path="../conf", config_name="score", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Check the output first, then load, score, reconcile and write."""
    if not cfg.as_of:
        raise CustlensError("as_of is required: the last day of known history, as_of=YYYY-MM-DD")
    output = check_output(cfg.output, cfg.overwrite)
    model_uri = cfg.model or score_job.default_model(cfg.data.name)
    with mlflow_io.tracked_run(
        to_spec(cfg.tracking, TrackingSettings),
        run_name=cfg.run_name,
        config_yaml=resolved_yaml(cfg),
        params=flat_params(cfg),
        root=project_root(),
    ):
        loaded = load(to_spec(cfg.data, DataSpec))
        mlflow_io.log_quality_report(loaded.report)
        scorer = registry.load_scorer(model_uri)
        score_job.run(loaded, str(cfg.as_of), scorer, output, cfg.chunk_size)


if __name__ == "__main__":
    main()
