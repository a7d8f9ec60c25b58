"""The scoring job behind scripts/score.py and the end of the main pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
from omegaconf import DictConfig
from tqdm import tqdm

from custlens.cli.config import to_spec
from custlens.cli.output import StagedTable, check_output, replace_folder, staging_folder
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.features.source import as_table
from custlens.scoring.batch import (
    Reconciliation,
    check_reconciliation,
    features_as_of,
    summary,
)
from custlens.scoring.blocks import BlockObserver, reconcile_on_engine, score_in_blocks
from custlens.scoring.scorer import Scorer
from custlens.tracking import mlflow_io, registry

# What the reconciliation and the summary read back from scores written by Spark.
SUMMARY_COLUMNS = [
    "customer_id",
    "segment_name",
    "churn_risk",
    "value_tier",
    "clv",
    "churn_probability",
]


def command(cfg: DictConfig) -> None:
    """scripts/score.py: refuse an unusable output before any work, then load the data and
    score it on the configured engine (Spark: the model's UDF on the executors)."""
    as_of = required_as_of(cfg)
    output = check_output(cfg.output, cfg.overwrite)
    model_uri = cfg.model_uri or default_model(cfg.data.name)
    engine = to_spec(cfg.engine, EngineSpec)
    if engine.name == "spark":
        check_spark_output(output)
    with tracked(cfg), open_engine(engine, cfg.threads) as con:
        loaded = load_data(cfg, scoring=True)  # data=parquet_log: a path
        if engine.name == "spark":
            run_spark(loaded, as_of, model_uri, output, con)
        else:
            scorer = registry.load_scorer(model_uri)
            run(loaded, as_of, scorer, output, cfg.chunk_size, con, cfg.threads)


def default_model(data_name: str) -> str:
    """The champion trained on the same data source."""
    return f"models:/custlens-{data_name}@{registry.ALIAS}"


def progress_bar(blocks: object, total: int) -> object:
    """A progress bar over chunks of customers, on stderr."""
    return tqdm(blocks, total=total, desc="scoring", unit="chunk", disable=total < 2)


def run(
    loaded: LoadedData,
    as_of: str,
    scorer: Scorer,
    output: Path,
    chunk_size: int,
    con: ibis.BaseBackend | None = None,
    threads: int | None = None,
    features: pd.DataFrame | None = None,
    observe: BlockObserver | None = None,
) -> dict[str, pd.DataFrame]:
    """Features kept on `con` (DuckDB by default; or `features` the caller already built as
    of `as_of`), scored `chunk_size` customers at a time in this process, written block by
    block to a staging file that replaces `output` only once the reconciliation holds;
    `observe` sees every block. Returns the summary tables."""
    with StagedTable(output) as staged:
        try:
            check, tables = score_in_blocks(
                loaded.transactions,
                as_of,
                scorer,
                staged.write,
                loaded.customers_as_of(as_of),
                chunk_size,
                progress_bar,
                con,
                threads,
                features,
                observe,
                loaded.non_product,
            )
        except duckdb.OutOfMemoryException as exc:
            raise CustlensError(
                f"DuckDB ran out of memory, nothing written: raise engine.memory_limit (or "
                f"give the job a machine with more memory). {str(exc).splitlines()[0]}"
            ) from None
        check_reconciliation(check)
        staged.commit()
    report_reconciliation(check)
    report(tables, as_of, scorer.model_version, scorer.horizon_days, output)
    return tables


def check_spark_output(output: Path) -> None:
    """Spark writes a Parquet folder partitioned by `as_of`."""
    if output.suffix.lower() != ".parquet":
        raise CustlensError(
            f"engine=spark writes a Parquet folder partitioned by as_of: output must end in "
            f".parquet, not {output.name!r}"
        )


def run_spark(
    loaded: LoadedData, as_of: str, model_uri: str, output: Path, con: ibis.BaseBackend
) -> pd.DataFrame:
    """Features on Spark, scores by the model's Spark UDF on the executors, Parquet partitioned
    by `as_of` written beside `output` and renamed into place once reconciled."""
    from custlens.engines.spark import session_of
    from custlens.scoring import spark

    session = session_of(con)
    scorer = registry.load_scorer(model_uri)  # on the driver: feature settings and checks
    lines = as_table(loaded.transactions, con)  # once: the reconciliation reads it too
    features = features_as_of(lines, as_of, scorer, loaded.customers_as_of(as_of), con)
    scorer.check_features(features)  # here, before any executor starts
    udf, inputs = registry.spark_scorer_udf(session, model_uri)
    partitions = int(session.conf.get("spark.sql.shuffle.partitions"))
    scored = spark.apply_scorer(
        spark.to_spark(session, features, partitions), udf, inputs, scorer.model_version
    )
    staging = staging_folder(output)
    try:
        scored.write.partitionBy(spark.PARTITION_COLUMN).parquet(str(staging))
        written = spark.read_scores(session, str(staging), SUMMARY_COLUMNS)
        ids = con.read_parquet(str(staging)).select("customer_id")
        day = pd.Timestamp(as_of)
        check = reconcile_on_engine(
            lines, day, loaded.customers_as_of(as_of), ids, len(written), loaded.non_product
        )
        check_reconciliation(check)
        report_reconciliation(check)
        replace_folder(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(summary(written), as_of, scorer.model_version, scorer.horizon_days, output)
    return written


def report_reconciliation(check: Reconciliation) -> None:
    """Print and log the reconciliation table."""
    print("Reconciliation:\n" + check.table().to_string(index=False))
    mlflow_io.log_table(check.table(), "scoring/reconciliation.csv")


def report(
    tables: dict[str, pd.DataFrame], as_of: str, version: str, horizon: int, output: Any
) -> None:
    """Print and log the summary of written scores."""
    segments, risk = tables["segment_name"], tables["churn_risk"]
    customers = int(segments["customers"].sum())
    value = float(segments["predicted_value"].sum())
    high_risk = int(risk.loc[risk["churn_risk"] == "high", "customers"].sum())
    mlflow_io.log_metrics(
        {
            "scored_customers": customers,
            "predicted_value_total": value,
            "high_risk_share": high_risk / customers,
        }
    )
    for name, table in tables.items():
        mlflow_io.log_table(table, f"scoring/by_{name}.csv")
    print(
        f"Scored {customers:,} customers as of {as_of} with {version}; "
        f"predicted {horizon}-day value {value:,.0f}; written to {output}"
    )
    print(segments.round(3).to_string(index=False))
