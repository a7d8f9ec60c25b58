"""Feature rows in blocks of customers, for tables too large to hold at once.

The feature table is built once on the engine and kept there (DuckDB spills it to disk past
its memory limit); the BTYD models are fitted once on the sample of buyers `build_features`
uses (chosen by a hash of their id), of which only the columns a fit reads leave the engine;
then the table is streamed in customer order, one block of customers at a time.
Concatenated, the blocks equal `build_features` on the same input, for any block size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from custlens.engines.backend import cached
from custlens.engines.local import borrowed
from custlens.errors import DataError
from custlens.features.build import ATTRIBUTE_PREFIX, PANDAS_TYPES, feature_expression, finish
from custlens.features.probabilistic import SUMMARY_COLUMNS, BtydFit, fit_btyd, fit_share
from custlens.features.source import Transactions
from custlens.features.spec import FeatureSpec
from custlens.sampling import stable_mask, stable_share


@dataclass(frozen=True)
class BlockFinisher:
    """What turns rows of the engine's feature table into `build_features` rows: the BTYD
    columns of the one fit, and the dtypes the whole table would have. Small and picklable:
    Spark's executors apply it to their own batches."""

    fit: BtydFit
    spec: FeatureSpec
    attributes_with_nulls: frozenset[str] = frozenset()

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        for column in self.attributes_with_nulls:  # the dtypes pandas gives the whole table
            kind = frame[column].dtype.kind
            if kind in "iu" or kind == "b":
                frame[column] = frame[column].astype("float64" if kind != "b" else object)
        if self.spec.btyd:
            horizon, repurchase = self.spec.horizon_days, self.spec.repurchase_days
            for column, values in self.fit.columns(frame, horizon, repurchase).items():
                frame[column] = values
        return finish(frame, self.spec)


@dataclass(frozen=True)
class FeatureBlocks:
    """The feature table of one `as_of`, held by the engine, read in blocks of customers."""

    table: Table
    customers: int
    buyers: int
    finisher: BlockFinisher

    def blocks(self, size: int) -> Iterator[pd.DataFrame]:
        """Consecutive blocks of `size` customers (the last may be smaller), in customer order,
        as `build_features` gives them."""
        if size < 1:
            raise ValueError(f"block size must be positive, not {size}")
        batches = self.table.order_by("customer_id").to_pyarrow_batches(chunk_size=size)
        for batch in rebatched(batches, size):
            yield self.finisher(batch.to_pandas(types_mapper=PANDAS_TYPES.get))

    def buyer_sample(self, limit: int) -> pd.DataFrame:
        """The buyers' rows, all of them or a fixed sample of about `limit` chosen by a hash
        of the customer id (`custlens.sampling`), in customer order."""
        t = self.table
        chosen = t.filter(t.has_purchase)
        if self.buyers > limit:
            chosen = chosen.filter(stable_share(t.customer_id, limit / self.buyers))
        batch = chosen.order_by("customer_id").to_pyarrow()
        return self.finisher(batch.to_pandas(types_mapper=PANDAS_TYPES.get))


def rebatched(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Arrow batches of any sizes regrouped into tables of exactly `size` rows (the last may
    be smaller)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


@dataclass(frozen=True)
class FrameBlocks:
    """A feature table already in memory, read in blocks like `FeatureBlocks`."""

    frame: pd.DataFrame

    @property
    def customers(self) -> int:
        """Rows of the table."""
        return len(self.frame)

    @property
    def buyers(self) -> int:
        """Customers with a purchase."""
        return int(self.frame["has_purchase"].astype(bool).sum())

    def buyer_sample(self, limit: int) -> pd.DataFrame:
        """The buyers' rows, all of them or the fixed sample `FeatureBlocks.buyer_sample`
        chooses."""
        bought = self.frame.loc[self.frame["has_purchase"].astype(bool)]
        if len(bought) <= limit:
            return bought
        return bought.loc[stable_mask(bought["customer_id"], limit / len(bought))]

    def blocks(self, size: int) -> Iterator[pd.DataFrame]:
        """Consecutive blocks of at most `size` customers, in the table's order."""
        if size < 1:
            raise ValueError(f"block size must be positive, not {size}")
        for start in range(0, len(self.frame), size):
            yield self.frame.iloc[start : start + size]


@contextmanager
def features_on_engine(
    transactions: Transactions,
    as_of: str | date,
    config: FeatureSpec | None = None,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> Iterator[FeatureBlocks]:
    """The features as of `as_of` kept on `con` for the duration of the block."""
    spec = config or FeatureSpec()
    with borrowed(con) as engine:
        with feature_expression(transactions, as_of, spec, customers, engine) as expr:
            table = cached(engine, expr)
        try:
            counts = table.aggregate(
                customers=table.count(), buyers=table.has_purchase.cast("int64").sum()
            ).execute()
            buyers = counts.buyers[0]  # a sum over no rows is null
            total, buyers = int(counts.customers[0]), 0 if pd.isna(buyers) else int(buyers)
            if total == 0:
                raise DataError("no customer has a transaction on or before as_of")
            fit = _fit(table, buyers) if spec.btyd else BtydFit()
            finisher = BlockFinisher(fit, spec, _attributes_with_nulls(table))
            yield FeatureBlocks(table, total, buyers, finisher)
        finally:
            table.release()


def _attributes_with_nulls(table: Table) -> frozenset[str]:
    """Customer-table attributes null somewhere (customers with transactions but no row in the
    table): whole, pandas turns such integer columns to float and booleans to objects."""
    attributes = [c for c in table.columns if c.startswith(ATTRIBUTE_PREFIX)]
    if not attributes:
        return frozenset()
    nulls = table.aggregate(**{c: table[c].isnull().any() for c in attributes}).execute()
    return frozenset(c for c in attributes if bool(nulls[c][0]))


def _fit(table: Table, buyers: int) -> BtydFit:
    """The BTYD fit on the buyers `fit_share(buyers)` chooses: only that sample's few summary
    columns leave the engine."""
    chosen = table.filter(table.has_purchase & stable_share(table.customer_id, fit_share(buyers)))
    sample = chosen.select("customer_id", *SUMMARY_COLUMNS).order_by("customer_id").to_pandas()
    return fit_btyd(sample, buyers)
