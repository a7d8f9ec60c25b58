"""Reference implementations the benchmark compares the feature builder against."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def duckdb_floor(path: str | Path) -> pd.DataFrame:
    """The floor: a bare DuckDB count and sum per customer over the Parquet file."""
    query = (
        "SELECT customer_id, count(*) AS n, sum(amount) AS total FROM read_parquet(?) GROUP BY 1"
    )
    return duckdb.connect().execute(query, [str(path)]).df()


def pandas_rfm(path: str | Path, as_of: str) -> pd.DataFrame:
    """Core RFM features with a straightforward pandas groupby (the alternative)."""
    lines = pd.read_parquet(path, columns=["customer_id", "order_id", "timestamp", "amount"])
    lines = lines[lines["timestamp"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    lines["day"] = lines["timestamp"].dt.normalize()
    grouped = lines.groupby("customer_id", sort=True)
    out = grouped.agg(
        first=("day", "min"),
        last=("day", "max"),
        frequency=("order_id", "nunique"),
        monetary_total=("amount", "sum"),
    )
    end = pd.Timestamp(as_of)
    out["recency_days"] = (end - out["last"]).dt.days
    out["tenure_days"] = (end - out["first"]).dt.days
    out["monetary_mean"] = out["monetary_total"] / out["frequency"]
    gaps = (out["last"] - out["first"]).dt.days / (out["frequency"] - 1)
    out["gap_mean"] = gaps.where(out["frequency"] > 1)
    return out.drop(columns=["first", "last"]).reset_index()
