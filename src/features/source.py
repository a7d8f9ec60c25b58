"""Turn any transaction input into an Ibis table on a backend, with every canonical column.

Optional canonical columns a source lacks are added as typed nulls, so the features (and the
model schema built on them) are the same whatever the source provides.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import ibis
import pandas as pd
from ibis.expr.types import Table

from custlens.errors import DataError

COLUMN_TYPES = {
    "customer_id": "string",
    "order_id": "string",
    "timestamp": "timestamp",
    "amount": "float64",
    "quantity": "float64",
    "unit_price": "float64",
    "product_id": "string",
    "category": "string",
    "channel": "string",
    "country": "string",
}
Transactions = pd.DataFrame | Table | str | Path


MONEY_DECIMALS = 4


def money(total: ibis.Value) -> ibis.Value:
    """A sum of amounts rounded to 4 decimals.

    Float sums depend on the order of the rows in their last bits; rounding makes them
    reproducible and lets a return that cancels a purchase net to exactly zero. (Exact decimal
    sums cost DuckDB more than twice as much downstream.)
    """
    return total.round(MONEY_DECIMALS)


def as_table(transactions: Transactions, con: ibis.BaseBackend) -> Table:
    """An Ibis table of canonical transactions from a DataFrame, a Parquet path or a table."""
    if isinstance(transactions, Table):
        table = transactions
    elif isinstance(transactions, str | Path):
        table = read_parquet(str(transactions), con)
    elif isinstance(transactions, pd.DataFrame):
        table = register_frame(transactions, con)
    else:
        raise DataError(f"cannot build features from {type(transactions).__name__}")
    missing = [c for c in ("customer_id", "timestamp", "amount") if c not in table.columns]
    if missing:
        raise DataError(f"transactions lack required column(s) {missing}")
    columns = {
        name: table[name].cast(kind) if name in table.columns else ibis.null(kind)
        for name, kind in COLUMN_TYPES.items()
    }
    if "order_id" not in table.columns:  # one order per customer and timestamp
        columns["order_id"] = table.customer_id.concat("@", table.timestamp.cast("string"))
    return table.select(**columns)


def read_parquet(path: str, con: ibis.BaseBackend) -> Table:
    """A Parquet file or folder as a table (Spark refuses nanosecond timestamps: say so)."""
    try:
        return con.read_parquet(path)
    except Exception as exc:
        if "TIMESTAMP(NANOS" not in str(exc):
            raise
        raise DataError(
            f"{path} has nanosecond timestamps, which Spark cannot read: write it with "
            "microseconds (pandas: to_parquet(..., coerce_timestamps='us'))"
        ) from None


def register_frame(frame: pd.DataFrame, con: ibis.BaseBackend) -> Table:
    """A DataFrame as a table of `con` itself: an in-memory table would bind to ibis's default
    backend. Spark has no temporary tables, so there it is a temporary view (Arrow-loaded)."""
    name = f"custlens_{uuid.uuid4().hex}"
    if con.name == "pyspark":
        return con.create_view(name, ibis.memtable(frame))
    return con.create_table(name, frame, temp=True)


def to_date(as_of: str | date | pd.Timestamp) -> date:
    """`as_of` as a calendar date; it is the last day whose transactions are known."""
    try:
        return pd.Timestamp(as_of).date()
    except (ValueError, TypeError) as exc:
        raise DataError(f"as_of must be a date like 2011-09-10, not {as_of!r}") from exc


def day_after(day: date, days: int = 1) -> ibis.Value:
    """A timestamp literal at midnight `days` after `day`, for half-open time filters."""
    return ibis.timestamp(pd.Timestamp(day + timedelta(days=days)).to_pydatetime())
