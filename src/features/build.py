"""`build_features`: every customer's features as they stood at the end of `as_of`.

Only lines dated on or before `as_of` are read. The features are Ibis expressions executed by
the given backend (embedded DuckDB by default), so the same definitions run on Spark.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import ibis
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from custlens.engines.local import borrowed
from custlens.errors import DataError
from custlens.features import families
from custlens.features.catalogue import catalogue
from custlens.features.orders import history, in_sequence, orders
from custlens.features.probabilistic import BTYD_COLUMNS, btyd_columns
from custlens.features.source import Transactions, as_table, to_date
from custlens.features.spec import FeatureSpec

ATTRIBUTE_PREFIX = "attr_"


def build_features(
    transactions: Transactions,
    as_of: str | date,
    config: FeatureSpec | None = None,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """One row per customer known on `as_of`, `customer_id` first, sorted by customer.

    Customers of the optional `customers` table without a purchase get a row too, with
    `has_purchase` false; the table's attributes follow the features, prefixed `attr_`.
    """
    spec = config or FeatureSpec()
    with feature_expression(transactions, as_of, spec, customers, con) as expr:
        frame = expr.order_by("customer_id").to_pyarrow().to_pandas(types_mapper=PANDAS_TYPES.get)
    if spec.btyd:  # the last columns, after any customer attributes
        for column, values in btyd_columns(frame, spec.horizon_days, spec.repurchase_days).items():
            frame[column] = values
    return finish(frame, spec)


@contextmanager
def feature_expression(
    transactions: Transactions,
    as_of: str | date,
    spec: FeatureSpec,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> Iterator[Table]:
    """The feature table over the lines up to `as_of` on `con`, unexecuted, valid inside the
    block (it reads the order table materialised here)."""
    day = to_date(as_of)
    with borrowed(con) as engine:
        lines = history(as_table(transactions, engine), day)
        # Materialised once: four families read it, and a CTE would be recomputed for each.
        order_table = orders(lines).cache()
        try:
            yield feature_table(lines, order_table, day, spec, customers)
        finally:
            order_table.release()


def feature_table(
    lines: Table,
    order_table: Table,
    as_of: date,
    spec: FeatureSpec,
    customers: pd.DataFrame | None = None,
) -> Table:
    """The feature expression over the lines up to `as_of` and their orders (unexecuted)."""
    parts = [
        families.activity(in_sequence(order_table), as_of, spec.windows, spec.horizon_days),
        families.products(lines),
        families.home_country(order_table),
    ]
    table, rest = parts[0], parts[1:]  # one row per customer with an order
    if customers is not None:
        ids = table.select("customer_id").union(
            ibis.memtable(customers[["customer_id"]].astype({"customer_id": str}))
        )
        rest = parts
        table = ids.distinct()
    for part in rest:
        table = table.left_join(part, "customer_id").drop("customer_id_right")
    return derive(table, as_of, spec, customers)


PANDAS_TYPES = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}
_IBIS_TYPES = {"count": "int64", "amount": "float64", "number": "float64", "flag": "boolean"}


def _ratio(numerator: ibis.Value, denominator: ibis.Value) -> ibis.Value:
    ratio = numerator.cast("float64") / denominator.cast("float64")
    return ibis.ifelse(denominator > 0, ratio, ibis.null("float64"))


def derive(t: Table, as_of: date, spec: FeatureSpec, customers: pd.DataFrame | None) -> Table:
    """Ratios and renamings on the joined aggregates."""
    n = t.n_orders.fill_null(0)
    region = (
        t.country.substitute(spec.regions, else_=ibis.null("string"))
        if spec.regions
        else (ibis.null("string"))
    )
    columns = {
        "has_purchase": n > 0,
        "frequency": n,
        "monetary_total": t.net_revenue,
        "monetary_mean": _ratio(t.purchase_value, n),
        "monetary_max": t.max_order_value,
        "orders_per_month": _ratio(n * 30.4375, t.tenure_days + 1),
        "overdue_ratio": _ratio(t.recency_days, t.gap_median),
        "lines_per_order": _ratio(t.purchase_lines, n),
        "units_per_order": _ratio(t.purchase_units, n),
        "top_product_share": _ratio(t.top_product_revenue, t.bought_product_revenue),
        "return_ratio": _ratio(t.returned_value, t.gross_revenue),
        "cancelled_orders": t.n_cancelled_orders,
        "as_of_day_of_year": ibis.literal(as_of.timetuple().tm_yday),
        "region": region,
        "btyd_frequency": ibis.ifelse(t.purchase_days > 0, t.purchase_days - 1, 0),
        "btyd_monetary": _ratio(t.btyd_repeat_value, t.purchase_days - 1),
    }
    for name in families.WEEKDAYS:
        columns[f"share_{name}"] = _ratio(t[f"n_{name}"], n)
    for quarter in range(1, 5):
        columns[f"share_q{quarter}"] = _ratio(t[f"n_q{quarter}"], n)
    for recent, longer in spec.trends:
        columns[f"trend_orders_{recent}_{longer}d"] = _ratio(
            t[f"orders_{recent}d"] * longer, t[f"orders_{longer}d"] * recent
        )
        columns[f"trend_revenue_{recent}_{longer}d"] = _ratio(
            t[f"revenue_{recent}d"] * longer, t[f"revenue_{longer}d"] * recent
        )
    t = t.mutate(**columns)
    computed = [f for f in catalogue(spec) if f.name not in BTYD_COLUMNS]
    typed = {f.name: t[f.name].cast(_IBIS_TYPES.get(f.kind, f.dtype)) for f in computed}
    t = t.select("customer_id", **typed)
    if customers is not None:
        t = _attach(t, customers)
    return t


def _attach(t: Table, customers: pd.DataFrame) -> Table:
    attributes = customers.rename(
        columns={c: f"{ATTRIBUTE_PREFIX}{c}" for c in customers.columns if c != "customer_id"}
    ).astype({"customer_id": str})
    return t.left_join(ibis.memtable(attributes), "customer_id").drop("customer_id_right")


def finish(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Explicit dtypes, and zeros for customers of a customer table without transactions."""
    if frame.empty:
        raise DataError("no customer has a transaction on or before as_of")
    for feature in catalogue(spec):
        column = frame[feature.name]
        if feature.kind in ("count", "amount") and column.isna().any():
            frame[feature.name] = column.fillna(0).astype(feature.dtype)
        elif column.dtype != feature.dtype:
            frame[feature.name] = column.astype(feature.dtype)
    return frame
