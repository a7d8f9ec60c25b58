"""Feature rows in blocks of customers, for tables too large to hold at once.

The feature table is built once on the engine and kept there (DuckDB spills it to disk past
its memory limit), numbered in customer order; the BTYD models are fitted once on the same
fixed sample of buyers `build_features` uses; then blocks of consecutive customers are
fetched one at a time. Concatenated, the blocks equal `build_features` on the same input, for
any block size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import ibis
import pandas as pd
from ibis.expr.types import Table

from custlens.errors import DataError
from custlens.features.build import ATTRIBUTE_PREFIX, PANDAS_TYPES, feature_expression, finish
from custlens.features.probabilistic import SUMMARY_COLUMNS, BtydFit, fit_btyd, fit_rows
from custlens.features.source import Transactions
from custlens.features.spec import FeatureSpec

ROW, BUYER_ROW = "_row", "_buyer_row"  # 0-based positions among all customers, among buyers


@dataclass(frozen=True)
class FeatureBlocks:
    """The feature table of one `as_of`, held by the engine, read in blocks of customers."""

    table: Table
    customers: int
    fit: BtydFit
    spec: FeatureSpec
    attributes_with_nulls: frozenset[str] = frozenset()

    def blocks(self, size: int) -> Iterator[pd.DataFrame]:
        """Consecutive blocks of at most `size` customers, in customer order."""
        if size < 1:
            raise ValueError(f"block size must be positive, not {size}")
        for start in range(0, self.customers, size):
            yield self.block(start, start + size)

    def block(self, start: int, stop: int) -> pd.DataFrame:
        """The customers at positions [start, stop), as `build_features` gives them."""
        t = self.table
        rows = t.filter((t[ROW] >= start) & (t[ROW] < stop)).order_by(ROW).drop(ROW, BUYER_ROW)
        frame = rows.to_pyarrow().to_pandas(types_mapper=PANDAS_TYPES.get)
        for column in self.attributes_with_nulls:  # the dtypes pandas gives the whole table
            kind = frame[column].dtype.kind
            if kind in "iu" or kind == "b":
                frame[column] = frame[column].astype("float64" if kind != "b" else object)
        if self.spec.btyd:
            horizon, repurchase = self.spec.horizon_days, self.spec.repurchase_days
            for column, values in self.fit.columns(frame, horizon, repurchase).items():
                frame[column] = values
        return finish(frame, self.spec)


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
    with feature_expression(transactions, as_of, spec, customers, con) as expr:
        # One window, one sort: a buyer's position among buyers is the running count of
        # buyers before it. The window writes rows in its order, so a block's rows lie together.
        in_order = ibis.window(order_by=expr.customer_id, preceding=None, following=0)
        numbered = expr.mutate(
            **{
                ROW: ibis.row_number().over(in_order),
                BUYER_ROW: expr.has_purchase.cast("int64").sum().over(in_order) - 1,
            }
        )
        table = numbered.cache()
    try:
        counts = table.aggregate(
            customers=table.count(), buyers=table.has_purchase.cast("int64").sum()
        ).execute()
        total, buyers = int(counts.customers[0]), int(counts.buyers.fillna(0)[0])
        if total == 0:
            raise DataError("no customer has a transaction on or before as_of")
        fit = _fit(table, buyers) if spec.btyd else BtydFit()
        yield FeatureBlocks(table, total, fit, spec, _attributes_with_nulls(table))
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
    """The BTYD fit on the buyers at `fit_rows(buyers)`: only that sample leaves the engine."""
    positions = fit_rows(buyers)
    sample = table.filter(table.has_purchase)
    if len(positions) < buyers:
        chosen = ibis.memtable(pd.DataFrame({BUYER_ROW: positions}))
        sample = sample.semi_join(chosen, BUYER_ROW)
    sample = sample.order_by(BUYER_ROW).select(*SUMMARY_COLUMNS)
    return fit_btyd(sample.to_pyarrow().to_pandas(), buyers)
