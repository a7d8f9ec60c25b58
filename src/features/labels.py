"""Outcome labels read only from the window after `as_of`: (as_of, as_of + horizon]."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
from ibis.expr.types import Table

from custlens.engines.local import borrowed
from custlens.features.source import Transactions, as_table, day_after, to_date
from custlens.features.spec import FeatureSpec, LabelSpec

LABELS = ("churned", "repurchased", "future_value", "future_orders", "next_order_days")
# A training frame's columns that are not features: the labels, and how far after its cutoff
# the history was observed (custlens.features.frames).
OUTCOMES = (*LABELS, "observed_days")


def eligible(features: pd.DataFrame, spec: LabelSpec) -> pd.Series:
    """Customers who are labelled: a purchase on or before as_of (within the configured days)."""
    mask = features["has_purchase"].astype(bool)
    if spec.active_within_days is not None:
        mask &= features["recency_days"] < spec.active_within_days
    return mask


def label_table(transactions: Table, as_of: date, windows: FeatureSpec, ids: Table) -> Table:
    """Labels of the customers in `ids` (a one-column table), as an Ibis expression, over the
    windows the features were built for (`horizon_days`, `repurchase_days`, and the timing
    curve's last day for `next_order_days`).

    A purchase is a positive line, as in the evaluation protocol; `future_value` is the net
    revenue of the window floored at zero; `next_order_days` the days from as_of to the first
    purchase after it, within the curve's last day (null: none there, or not yet observed).
    """
    t = transactions
    far = day_after(as_of, max(windows.curve_days) + 1)
    bought = t.filter((t.timestamp >= day_after(as_of)) & (t.timestamp < far) & (t.amount > 0))
    first = bought.group_by("customer_id").aggregate(first=bought.timestamp.min())
    end = day_after(as_of, windows.horizon_days + 1)
    window = t.filter((t.timestamp >= day_after(as_of)) & (t.timestamp < end))
    early = window.timestamp < day_after(as_of, windows.repurchase_days + 1)
    order = window.order_id.fill_null(window.timestamp.cast("string"))
    outcome = window.group_by("customer_id").aggregate(
        value=window.amount.sum(),
        orders=order.nunique(where=window.amount > 0),
        early_orders=window.amount.count(where=(window.amount > 0) & early),
    )
    joined = ids.left_join(outcome, "customer_id").drop("customer_id_right")
    joined = joined.left_join(first, "customer_id").drop("customer_id_right")
    orders = joined.orders.fill_null(0)
    return joined.select(
        "customer_id",
        churned=orders == 0,
        repurchased=joined.early_orders.fill_null(0) > 0,
        future_value=ibis.greatest(joined.value.fill_null(0.0), 0.0),
        future_orders=orders,
        next_order_days=joined["first"].date().delta(ibis.literal(as_of), unit="day"),
    )


def build_labels(
    transactions: Transactions,
    as_of: str | date,
    customer_ids: pd.Series,
    windows: FeatureSpec | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """Labels for the given customers, in the order given, over the windows of `windows`
    (a FeatureSpec: `horizon_days`, `repurchase_days`)."""
    windows = windows or FeatureSpec()
    ids = ibis.memtable(pd.DataFrame({"customer_id": customer_ids.astype(str).to_numpy()}))
    with borrowed(con) as engine:
        lines = as_table(transactions, engine)
        out = engine.to_pandas(label_table(lines, to_date(as_of), windows, ids))
    out = out.set_index("customer_id").loc[customer_ids.astype(str)].reset_index()
    return out.astype(
        {
            "customer_id": "string",
            "churned": bool,
            "repurchased": bool,
            "future_value": "float64",
            "future_orders": "int64",
            "next_order_days": "float64",
        }
    )
