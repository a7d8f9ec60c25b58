"""Scoring in blocks of customers: memory bounded by the block, not by the customer base.

The features stay on the engine (`custlens.features.blocks`); each block of customers is
fetched, scored and handed to `write`, and only the customer ids written are kept (in a
temporary Parquet file) so that the engine can reconcile them against the transactions.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.expr.types import Table

from custlens.data.load import LoadedData
from custlens.engines.local import borrowed
from custlens.errors import CustlensWarning
from custlens.features.blocks import FeatureBlocks, FrameBlocks, features_on_engine
from custlens.features.source import as_table, day_after
from custlens.models.levels import SAMPLE, Levels, daily_orders
from custlens.scoring.batch import (
    DEFAULT_CHUNK,
    Reconciliation,
    check_chunk_size,
    check_reconciliation,
    combine_summaries,
    scoring_day,
    summary_sums,
)
from custlens.scoring.scorer import Scorer

Progress = Callable[[Iterable[pd.DataFrame], int], Iterable[pd.DataFrame]]


class BlockObserver(Protocol):
    """Sees every scored block with its feature rows (the report's aggregates, for one)."""

    def begin(self, customers: int, buyers: int, levels: Levels | None = None) -> None:
        """Called once before the first block, with the size of the customer base and the
        day's levels the scores are set to."""

    def add(self, scores: pd.DataFrame, features: pd.DataFrame) -> None:
        """One block of scores and the feature rows they were computed from."""


class Observers:
    """Several block observers seen as one."""

    def __init__(self, *observers: BlockObserver | None) -> None:
        self.observers = [o for o in observers if o is not None]

    def begin(self, customers: int, buyers: int, levels: Levels | None = None) -> None:
        """Tell every observer the size of the base and the day's levels."""
        for observer in self.observers:
            observer.begin(customers, buyers, levels)

    def add(self, scores: pd.DataFrame, features: pd.DataFrame) -> None:
        """Hand the block to every observer."""
        for observer in self.observers:
            observer.add(scores, features)


@contextmanager
def _feature_source(
    lines: Table,
    day: pd.Timestamp,
    scorer: Scorer,
    customers: pd.DataFrame | None,
    con: ibis.BaseBackend,
    features: pd.DataFrame | None,
) -> Iterator[FeatureBlocks | FrameBlocks]:
    if features is not None:  # built already by the caller, as of the same day
        yield FrameBlocks(features)
        return
    with features_on_engine(lines, day.date(), scorer.feature_spec, customers, con) as built:
        yield built


def score_in_blocks(
    loaded: LoadedData,
    as_of: str,
    scorer: Scorer,
    *,
    write: Callable[[pd.DataFrame], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    con: ibis.BaseBackend | None = None,
    threads: int | None = None,
    features: pd.DataFrame | None = None,
    observe: BlockObserver | None = None,
) -> tuple[Reconciliation, dict[str, pd.DataFrame]]:
    """Score every customer known on `as_of`, `chunk_size` at a time, in customer order.

    The features are built on the engine and kept there, unless the caller already holds them
    (`features`: `build_features` of the same day, spec and customer table, with `as_of`).
    The day's levels (`Scorer.levels_on`) come first, from a fixed sample of the buyers and
    the log's daily orders up to the day. Each scored block goes to `write` and `observe`.
    The population is the log's customers known on `as_of`, the customer table's, and those
    first seen on a fee line (counted apart by the reconciliation). Returns the
    reconciliation (not yet checked: the caller decides whether to keep what was written) and
    the summary by segment, risk band and value tier.
    """
    check_chunk_size(chunk_size)
    day = scoring_day(as_of, scorer)
    scorer.use_threads(threads)
    customers = loaded.customers_as_of(as_of)
    with (
        borrowed(con) as engine,
        tempfile.TemporaryDirectory(prefix="custlens-scored-ids-") as folder,
    ):
        # Registered once: the reconciliation reads it too.
        lines = as_table(loaded.transactions, engine)
        warn_if_stale(lines, day, scorer.horizon_days)
        ids_path = Path(folder, "ids.parquet")
        with (
            _feature_source(lines, day, scorer, customers, engine, features) as built,
            pq.ParquetWriter(ids_path, pa.schema([("customer_id", pa.string())])) as ids,
        ):
            levels = scorer.levels_on(day, built.buyer_sample(SAMPLE), daily_orders(lines))
            sums, scored = _score_all(
                built, day, scorer, levels, chunk_size, write, observe, ids, progress
            )
        written = engine.read_parquet(str(ids_path))
        check = reconcile_on_engine(lines, day, customers, written, scored, loaded.non_product)
    return check, combine_summaries(sums)


def warn_if_stale(lines: Table, day: pd.Timestamp, horizon_days: int) -> None:
    """Warn when the log ends more than a horizon before `day`: every customer would look
    lapsed, which usually means a wrong as_of or a log missing its latest lines."""
    last = lines.timestamp.max().execute()
    if last is None or pd.isna(last):
        return
    gap = (day - pd.Timestamp(last).normalize()).days
    if gap > horizon_days:
        warnings.warn(
            f"as_of {day.date()} is {gap:,} days after the log's last line "
            f"({pd.Timestamp(last).date()}), more than the model's {horizon_days}-day horizon: "
            "every customer is scored as if nothing happened since. Check as_of, or that the "
            "log holds its latest lines.",
            CustlensWarning,
            stacklevel=2,
        )


def _score_all(
    built: FeatureBlocks | FrameBlocks,
    day: pd.Timestamp,
    scorer: Scorer,
    levels: Levels | None,
    chunk_size: int,
    write: Callable[[pd.DataFrame], None] | None,
    observe: BlockObserver | None,
    ids: pq.ParquetWriter,
    progress: Progress | None,
) -> tuple[list[pd.DataFrame], int]:
    """Score every block, hand it on and record its ids; the summary sums and the row count."""
    if observe is not None:
        observe.begin(built.customers, built.buyers, levels)
    blocks = built.blocks(chunk_size)
    total = -(-built.customers // chunk_size)
    sums, scored = [], 0
    for block in progress(blocks, total) if progress else blocks:
        if "as_of" not in block:
            block.insert(1, "as_of", day)
        scores = scorer.score_features(block, levels)
        if write is not None:
            write(scores)
        if observe is not None:
            observe.add(scores, block)
        ids.write_table(pa.table({"customer_id": scores["customer_id"].astype(str)}))
        sums.append(summary_sums(scores))
        scored += len(scores)
    return sums, scored


def score_transactions(
    loaded: LoadedData, as_of: str, scorer: Scorer, **options: object
) -> tuple[pd.DataFrame, Reconciliation]:
    """`score_in_blocks` collected in memory, once the reconciliation holds (`options`: its
    keyword arguments but `write`)."""
    parts: list[pd.DataFrame] = []
    check, _ = score_in_blocks(loaded, as_of, scorer, write=parts.append, **options)
    check_reconciliation(check)
    return pd.concat(parts, ignore_index=True), check


def reconcile_on_engine(
    lines: Table,
    as_of: pd.Timestamp,
    customers: pd.DataFrame | None,
    written: Table,
    scored: int,
    non_product: pd.DataFrame | None = None,
) -> Reconciliation:
    """`batch.reconcile`, computed by the engine from the transactions and the ids written."""
    ids = lines.filter(lines.customer_id.notnull())
    # One pass over the lines: each customer's first transaction; the counts read only that.
    firsts = ids.group_by("customer_id").aggregate(first=ids.timestamp.min()).cache()
    try:
        return _reconcile(firsts, as_of, customers, written, scored, non_product)
    finally:
        firsts.release()


def _reconcile(
    firsts: Table,
    as_of: pd.Timestamp,
    customers: pd.DataFrame | None,
    written: Table,
    scored: int,
    non_product: pd.DataFrame | None,
) -> Reconciliation:
    known = firsts.filter(firsts["first"] < day_after(as_of.date())).select("customer_id")
    every = firsts.select("customer_id")
    table = _ids(customers)
    expected = known.union(table)  # distinct
    distinct_written = written.select("customer_id").distinct()

    def count(t: Table) -> int:
        return int(t.count().execute())  # on the backend its tables belong to

    later = every.anti_join(known, "customer_id")
    beside = table.anti_join(known, "customer_id")
    fees = _ids(non_product)
    return Reconciliation(
        with_history=count(known),
        table_only=count(beside.anti_join(fees, "customer_id")),
        only_after_as_of=count(later.anti_join(table, "customer_id")),
        scored=scored,
        duplicated=scored - count(distinct_written),
        missing=count(expected.anti_join(distinct_written, "customer_id")),
        non_product_only=count(beside.semi_join(fees, "customer_id")),
    )


def _ids(frame: pd.DataFrame | None) -> Table:
    ids = [] if frame is None else frame["customer_id"].astype(str)
    return ibis.memtable(pd.DataFrame({"customer_id": ids}, dtype="string"))
