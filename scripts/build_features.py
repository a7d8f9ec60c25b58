"""Features of every customer as of a date, written to Parquet or CSV.

    .venv/bin/python scripts/build_features.py [data=...] as_of=YYYY-MM-DD output=FILE.parquet
        [engine=spark]    # the same features computed by Spark (conf/engine/spark.yaml)

One row per customer with a transaction on or before `as_of`, `customer_id` first. The summary
(row count, null rates, statistics) is logged to MLflow.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from custlens.cli.config import register, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.output import check_output, write_atomically
from custlens.cli.runs import required_as_of, tracked
from custlens.data import DataSpec, load
from custlens.engines import EngineSpec, open_engine
from custlens.features.build import build_features
from custlens.features.spec import FeatureSpec
from custlens.features.summary import summarise
from custlens.tracking import mlflow_io

register()


@hydra.main(config_path="../conf", config_name="build_features", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Load, build, write, log."""
    as_of = required_as_of(cfg)
    output = check_output(cfg.output, cfg.overwrite)
    with tracked(cfg), open_engine(to_spec(cfg.engine, EngineSpec), cfg.threads) as con:
        loaded = load(to_spec(cfg.data, DataSpec))
        mlflow_io.log_quality_report(loaded.report)
        spec = to_spec(cfg.features, FeatureSpec)
        features = build_features(
            loaded.transactions, as_of, spec, loaded.customers_as_of(as_of), con=con
        )
        write_atomically(features, output)
        summary = summarise(features)
        mlflow_io.log_table(summary, "features/summary.csv")
        mlflow_io.log_metrics(
            {
                "features.rows": len(features),
                "features.buyers": int(features["has_purchase"].sum()),
            }
        )
        print(f"wrote {len(features):,} customers x {features.shape[1] - 1} features to {output}")


if __name__ == "__main__":
    main()
