"""The scoring job behind scripts/score.py and the end of the main pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
from omegaconf import DictConfig
from tqdm import tqdm

from custlens.cli.output import StagedTable, check_engine_output, write_on_spark
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.config import run_settings, to_spec
from custlens.config.settings import LedgerSettings
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.features.blocks import features_on_engine
from custlens.features.source import as_table
from custlens.models.levels import SAMPLE, daily_orders
from custlens.monitoring import ledger
from custlens.scoring.batch import (
    DEFAULT_CHUNK,
    Reconciliation,
    check_reconciliation,
    scoring_day,
)
from custlens.scoring.blocks import (
    BlockObserver,
    Observers,
    reconcile_on_engine,
    score_in_blocks,
)
from custlens.scoring.scorer import Scorer
from custlens.tracking import mlflow_io, registry
from custlens.training import Backfilled


def command(cfg: DictConfig) -> None:
    """scripts/score.py: refuse an unusable output before any work, then load the data and
    score it on the configured engine (Spark: by the executors, nothing collected)."""
    as_of = required_as_of(cfg)
    settings = run_settings(cfg)
    model_uri = cfg.model_uri or default_model(cfg.data.name)
    engine = to_spec(cfg.engine, EngineSpec)
    output = check_engine_output(cfg.output, cfg.overwrite, engine.name)
    book = ledger_root(cfg)
    with tracked(cfg), open_engine(engine, settings.threads) as con:
        loaded = load_data(cfg, in_place=True)  # data=parquet_log: a path
        scorer = registry.load_scorer(model_uri)
        with ledger_writer(book, scorer, as_of, cfg.data.name) as entry:
            if engine.name == "spark":
                run_spark(loaded, as_of, scorer, output, cfg.overwrite, con, record=entry)
            else:
                run(
                    loaded, as_of, scorer, output, overwrite=cfg.overwrite, record=entry,
                    chunk_size=settings.chunk_size, con=con, threads=settings.threads,
                )  # fmt: skip


def ledger_root(cfg: DictConfig) -> Path | None:
    """The checked ledger folder (`ledger.path`; null: no ledger)."""
    settings = to_spec(cfg.ledger, LedgerSettings)
    return ledger.check_root(settings.path) if settings.path else None


@contextmanager
def ledger_writer(
    root: Path | None, scorer: Scorer, as_of: str, data: str, backfilled: bool = False
) -> Iterator[ledger.EntryWriter | None]:
    """The writer of the ledger entry this scoring makes (None without a ledger); left
    uncommitted, it leaves the ledger as it was."""
    if root is None:
        yield None
        return
    day = str(scoring_day(as_of, scorer).date())
    with ledger.EntryWriter(root, ledger.entry_for(scorer, day, data, backfilled)) as writer:
        yield writer


def record_backfilled(book: Path, done: Backfilled, data: str) -> None:
    """A backfilled scoring into the ledger, said."""
    as_of = str(done.cutoff.date())
    ledger.record(book, done.scorer, as_of, done.scores, done.features, data=data,
                  backfilled=True, levels=done.levels)  # fmt: skip
    print(
        f"Backfilled the ledger on {as_of}: {len(done.scores):,} customers scored by a model "
        f"trained on data through {done.scorer.trained_through}"
    )


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
    *,
    overwrite: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    con: ibis.BaseBackend | None = None,
    threads: int | None = None,
    features: pd.DataFrame | None = None,
    observe: BlockObserver | None = None,
    record: ledger.EntryWriter | None = None,
) -> dict[str, pd.DataFrame]:
    """Features kept on `con` (DuckDB by default; or `features` the caller already built as
    of `as_of`), scored `chunk_size` customers at a time in this process, written block by
    block to a staging file that takes `output`'s place only once the reconciliation holds
    (never replacing an existing file unless `overwrite`, even one another run wrote
    meanwhile); `observe` sees every block, and `record` (a ledger entry) keeps them,
    committed after the output. Returns the summary tables."""
    with StagedTable(output, overwrite) as staged:
        try:
            check, tables = score_in_blocks(
                loaded,
                as_of,
                scorer,
                write=staged.write,
                chunk_size=chunk_size,
                progress=progress_bar,
                con=con,
                threads=threads,
                features=features,
                observe=Observers(observe, record and ledger.Recorder(record)),
            )
        except duckdb.OutOfMemoryException as exc:
            raise CustlensError(
                f"DuckDB ran out of memory, nothing written: raise engine.memory_limit (or "
                f"give the job a machine with more memory). {str(exc).splitlines()[0]}"
            ) from None
        check_reconciliation(check)
        staged.commit()
    if record is not None:
        recorded = record.commit()
        print(f"Recorded in the ledger: {recorded.rows:,} scores as of {recorded.as_of}")
    report_reconciliation(check)
    report(tables, as_of, scorer.model_version, scorer.horizon_days, output)
    return tables


def run_spark(
    loaded: LoadedData,
    as_of: str,
    scorer: Scorer,
    output: str,
    overwrite: bool,
    con: Any,
    record: ledger.EntryWriter | None = None,
) -> dict[str, pd.DataFrame]:
    """Features kept on Spark, scored by the executors, reconciled by Spark before anything is
    written, then written by the executors (`custlens.scoring.spark`), the ledger entry too;
    the driver holds only a sample and aggregates. A local output is staged beside its path
    and renamed into place; an address (s3a://, hdfs://) is committed by Spark's output
    committer."""
    from custlens.scoring import spark

    day = scoring_day(as_of, scorer)
    scorer.use_threads(1)  # each executor task has one core
    lines = as_table(loaded.transactions, con)  # once: the reconciliation reads it too
    customers = loaded.customers_as_of(as_of)
    with features_on_engine(lines, day.date(), scorer.feature_spec, customers, con) as blocks:
        # On the driver, before any executor starts: the features checked, the schema learned.
        sample = spark.driver_sample(blocks.table, blocks.finisher)
        sample.insert(1, spark.PARTITION_COLUMN, day)
        schema = spark.output_schema(
            ledger.ledger_rows(scorer.score_features(sample), sample, scorer.horizon_days)
        )
        # The day's levels on the driver, from a bounded hash sample of the buyers.
        levels = scorer.levels_on(day, blocks.buyer_sample(SAMPLE), daily_orders(lines))
        features = spark.spark_frame(con, blocks.table)
        scored = spark.score_on_executors(features, blocks.finisher, scorer, day, schema, levels)
        scored = scored.cache()
        try:
            view = f"custlens_scored_{uuid.uuid4().hex}"
            scored.select("customer_id").createOrReplaceTempView(view)
            check = reconcile_on_engine(
                lines, day, customers, con.table(view), scored.count(), loaded.non_product
            )
            check_reconciliation(check)
            written = scored.select(*scorer.output_columns)
            write_on_spark(written, output, overwrite, spark.PARTITION_COLUMN)
            if record is not None:
                scored.write.parquet(str((record.path / "rows").resolve()))
                record.entry.rows = check.scored
                record.entry.levels = asdict(levels) if levels is not None else {}
                recorded = record.commit()
                print(f"Recorded in the ledger: {recorded.rows:,} scores as of {recorded.as_of}")
            report_reconciliation(check)
            tables = spark.summary_on_spark(scored)
        finally:
            scored.unpersist()
    report(tables, as_of, scorer.model_version, scorer.horizon_days, output)
    return tables


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
