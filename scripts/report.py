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

from custlens.cli import report_job, score_job
from custlens.cli.config import register, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.runs import required_as_of, tracked
from custlens.data import DataSpec, load
from custlens.engines import EngineSpec, open_engine
from custlens.tracking import mlflow_io, registry

register()


@hydra.main(config_path="../conf", config_name="report", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Check the output first, then load, score, explain and write the page."""
    as_of = required_as_of(cfg)
    settings = to_spec(cfg.report, report_job.ReportSettings)
    report_job.report_path(settings, cfg.data.name, as_of)
    model_uri = cfg.model_uri or score_job.default_model(cfg.data.name)
    with tracked(cfg):
        loaded = load(to_spec(cfg.data, DataSpec))
        mlflow_io.log_quality_report(loaded.report)
        scorer = registry.load_scorer(model_uri)
        with open_engine(to_spec(cfg.engine, EngineSpec), cfg.threads) as con:
            report_job.run(
                loaded, as_of, scorer, cfg.data.name, settings, con, cfg.chunk_size, cfg.threads
            )


if __name__ == "__main__":
    main()
