"""The main job, end to end on the configured data source (`make demo`).

    .venv/bin/python scripts/pipeline.py [data=online_retail] [tracking.uri=...]

Loads, validates and cleans the transactions and records the data-quality report in MLflow.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli.config import flat_params, project_root, register, resolved_yaml, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.data import DataSpec, load
from custlens.tracking import mlflow_io
from custlens.tracking.mlflow_io import TrackingSettings

register()


@hydra.main(config_path="../conf", config_name="pipeline", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Run the pipeline as configured."""
    spec = to_spec(cfg.data, DataSpec)
    tracking = to_spec(cfg.tracking, TrackingSettings)
    with mlflow_io.tracked_run(
        tracking,
        run_name=cfg.run_name,
        config_yaml=resolved_yaml(cfg),
        params=flat_params(cfg),
        root=project_root(),
    ) as run:
        loaded = load(spec)
        print(loaded.report.format())
        mlflow_io.log_quality_report(loaded.report)
        if run is not None:
            print(f"Tracked as MLflow run {run.info.run_id} ({tracking.uri})")


if __name__ == "__main__":
    main()
