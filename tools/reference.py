"""Reference implementations the benchmark (tools/benchmark.py) compares the feature builder
against: bare DuckDB passes (the floor) and a plain pandas RFM."""

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


# The passes over the lines that no build of this catalogue can skip, rolled up to one row per
# customer like the feature table: the order-level pass (RFM, windows, rhythm, returns, calendar
# and basket lines/units all need one value per order) and the customer x product pass
# (distinct products, top product share). Bare counts and sums: a lower bound, not features.
ORDERS_SQL = """
    SELECT customer_id, count(*) AS orders, sum(n) AS lines FROM (
        SELECT customer_id, order_id, count(*) AS n FROM read_parquet($path) GROUP BY 1, 2
    ) GROUP BY 1"""
PRODUCTS_SQL = """
    SELECT customer_id, count(*) AS products, max(revenue) AS top FROM (
        SELECT customer_id, product_id, sum(amount) AS revenue FROM read_parquet($path)
        GROUP BY 1, 2
    ) GROUP BY 1"""
BOTH_SQL = """
    SELECT * FROM (
        SELECT customer_id, count(*) AS orders, sum(n) AS lines FROM (
            SELECT customer_id, order_id, count(*) AS n FROM read_parquet($path) GROUP BY 1, 2
        ) GROUP BY 1
    ) JOIN (
        SELECT customer_id, count(*) AS products, max(revenue) AS top FROM (
            SELECT customer_id, product_id, sum(amount) AS revenue FROM read_parquet($path)
            GROUP BY 1, 2
        ) GROUP BY 1
    ) USING (customer_id)"""


def duckdb_order_pass(path: str | Path) -> pd.DataFrame:
    """Lower bound, part 1: the bare GROUP BY (customer, order), rolled up per customer."""
    return duckdb.connect().execute(ORDERS_SQL, {"path": str(path)}).df()


def duckdb_product_pass(path: str | Path) -> pd.DataFrame:
    """Lower bound, part 2: the bare GROUP BY (customer, product), rolled up per customer."""
    return duckdb.connect().execute(PRODUCTS_SQL, {"path": str(path)}).df()


def duckdb_both_passes(path: str | Path) -> pd.DataFrame:
    """Lower bound for the whole catalogue: both unavoidable passes in one query, joined."""
    return duckdb.connect().execute(BOTH_SQL, {"path": str(path)}).df()


def pandas_rfm(path: str | Path, as_of: str) -> pd.DataFrame:
    """Core RFM features with a straightforward pandas groupby (the alternative)."""
    folder = Path(path).parent if "*" in str(path) else path  # a glob of parts: their folder
    lines = pd.read_parquet(folder, columns=["customer_id", "order_id", "timestamp", "amount"])
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
