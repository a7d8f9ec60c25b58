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

from pathlib import Path

import hydra
from omegaconf import DictConfig

from custlens.cli import report_job, score_job, train_job
from custlens.cli.config import register, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.output import check_output
from custlens.cli.runs import tracked
from custlens.engines import EngineSpec, open_engine
from custlens.explain.aggregates import ScoredBase, shap_sample
from custlens.explain.report import explain_drivers

register()


@hydra.main(config_path="../conf", config_name="pipeline", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Run the pipeline as configured."""
    output = Path(cfg.scores.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    check_output(output, overwrite=cfg.scores.overwrite)  # refuse before hours of training
    settings = to_spec(cfg.report, report_job.ReportSettings)
    if settings.output:  # the default path is only known once the data's last day is
        check_output(settings.output, settings.overwrite, suffixes=(".html",))
    with tracked(cfg) as run:
        result = train_job.run(cfg)
        if result.scorer is not None:
            last_day = str(result.last_day)
            base = ScoredBase()
            with open_engine(to_spec(cfg.engine, EngineSpec), cfg.threads) as con:
                score_job.run(
                    result.loaded,
                    last_day,
                    result.scorer,
                    output,
                    cfg.chunk_size,
                    con,
                    cfg.threads,
                    features=result.today,
                    observe=base,
                )
            drivers = result.drivers or explain_drivers(
                result.scorer, shap_sample(result.today, settings.shap_rows, settings.seed),
                settings.seed,
            )  # fmt: skip
            report_job.write(base, result.scorer, cfg.data.name, result.loaded, settings, drivers)
        if run is not None:
            print(f"Tracked as MLflow run {run.info.run_id} ({cfg.tracking.uri})")


if __name__ == "__main__":
    main()
