"""Score every customer as of a date: segment, churn risk, repurchase probability, value, reasons.

    .venv/bin/python scripts/score.py data=transactions_csv data.path=FILE as_of=YYYY-MM-DD \\
        output=OUT.parquet [model_uri=models:/NAME@champion] [overwrite=true] [engine=spark]

With engine=spark the features run on Spark and the model's Spark UDF scores them on the
executors; the output is then a Parquet folder partitioned by `as_of`.

Every customer with a kept transaction on or before `as_of` (or in the customer table) appears
exactly once; the job fails rather than write a short file, and writes atomically. On DuckDB the
features stay on the engine and customers are scored `chunk_size` at a time, so memory follows
the block, not the customer base; with `data=parquet_log` the log itself is read where it lies.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli import score_job
from custlens.cli.config import register, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.output import check_output
from custlens.cli.runs import required_as_of, tracked
from custlens.data import DataSpec, load_for_scoring
from custlens.engines import EngineSpec, open_engine
from custlens.tracking import mlflow_io, registry

register()


@hydra.main(config_path="../conf", config_name="score", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Check the output first, then load, score, reconcile and write."""
    as_of = required_as_of(cfg)
    output = check_output(cfg.output, cfg.overwrite)
    model_uri = cfg.model_uri or score_job.default_model(cfg.data.name)
    engine = to_spec(cfg.engine, EngineSpec)
    if engine.name == "spark":
        score_job.check_spark_output(output)
    with tracked(cfg), open_engine(engine, cfg.threads) as con:
        loaded = load_for_scoring(to_spec(cfg.data, DataSpec))  # data=parquet_log: a path
        mlflow_io.log_quality_report(loaded.report)
        if engine.name == "spark":  # the model's Spark UDF on the executors
            score_job.run_spark(loaded, as_of, model_uri, output, con)
        else:
            scorer = registry.load_scorer(model_uri)
            score_job.run(loaded, as_of, scorer, output, cfg.chunk_size, con, cfg.threads)


if __name__ == "__main__":
    main()
