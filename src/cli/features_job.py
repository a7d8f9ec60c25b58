"""The feature job behind scripts/build_features.py: one row per customer as of a date."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from custlens.cli.output import check_engine_output, write_atomically, write_on_spark
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.config import run_settings, to_spec
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.features.blocks import features_on_engine
from custlens.features.build import build_features
from custlens.features.spec import FeatureSpec
from custlens.features.summary import summarise
from custlens.tracking import mlflow_io


def command(cfg: DictConfig) -> None:
    """Refuse an unusable output first; then load, build on the configured engine, write
    atomically, and log the summary."""
    as_of = required_as_of(cfg)
    engine = to_spec(cfg.engine, EngineSpec)
    output = check_engine_output(cfg.output, cfg.overwrite, engine.name)
    with tracked(cfg), open_engine(engine, run_settings(cfg).threads) as con:
        loaded = load_data(cfg, in_place=True)  # data=parquet_log: a path, read by the engine
        spec = to_spec(cfg.features, FeatureSpec)
        if engine.name == "spark":
            on_spark(loaded, as_of, spec, output, cfg.overwrite, con)
            return
        features = build_features(
            loaded.transactions, as_of, spec, loaded.customers_as_of(as_of), con=con
        )
        write_atomically(features, output)
        mlflow_io.log_table(summarise(features), "features/summary.csv")
        mlflow_io.log_metrics(
            {
                "features.rows": len(features),
                "features.buyers": int(features["has_purchase"].sum()),
            }
        )
        print(f"wrote {len(features):,} customers x {features.shape[1] - 1} features to {output}")


def on_spark(
    loaded: LoadedData, as_of: str, spec: FeatureSpec, output: str, overwrite: bool, con: Any
) -> None:
    """The features computed, finished and written by the executors (a Parquet folder); the
    driver holds the BTYD fit sample, a few rows for the schema, and the summary."""
    from custlens.scoring import spark

    customers = loaded.customers_as_of(as_of)
    with features_on_engine(loaded.transactions, as_of, spec, customers, con) as blocks:
        source = spark.spark_frame(con, blocks.table)
        sample = spark.driver_sample(blocks.table, blocks.finisher)
        features = spark.finish_on_executors(
            source, blocks.finisher, spark.finished_schema(sample, source)
        ).cache()
        try:
            write_on_spark(features, output, overwrite)
            summary = spark.summarise_on_spark(features)
        finally:
            features.unpersist()
    mlflow_io.log_table(summary, "features/summary.csv")
    mlflow_io.log_metrics({"features.rows": blocks.customers, "features.buyers": blocks.buyers})
    print(f"wrote {blocks.customers:,} customers x {len(summary) - 1} features to {output}")
