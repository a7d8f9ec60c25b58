"""Per-customer feature families, each an Ibis aggregation keyed by `customer_id`.

Only operations that DuckDB and Spark compute identically are used: exact medians, day-level
date differences, `lag` windows and conditional sums.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
from ibis.expr.types import Table

from custlens.features.source import money

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _count(condition: ibis.Value) -> ibis.Value:
    """Rows meeting a condition, as SUM(CASE ...): much cheaper in DuckDB than many FILTERs."""
    return ibis.ifelse(condition, 1, 0).sum()


def _only(condition: ibis.Value, value: ibis.Value) -> ibis.Value:
    """The value where the condition holds, else null (to aggregate without FILTER)."""
    return ibis.ifelse(condition, value, ibis.null(value.type()))


def activity(orders: Table, as_of: date, windows: list[int], horizon_days: int) -> Table:
    """RFM, tenure, windows, returns and calendar shares, from the order table.

    The "same season last year" window is the year-earlier copy of the coming horizon,
    (as_of - 365, as_of - 365 + horizon]: what the customer did then foretells seasonal buyers.
    """
    o, buy = orders, orders.is_purchase
    as_of_day = ibis.literal(as_of)
    aggregates = {
        "n_orders": _count(buy),
        "first_day": _only(buy, o.day).min(),
        "last_day": _only(buy, o.day).max(),
        "last_activity_day": o.day.max(),
        "net_revenue": money(o.value.sum()),
        "purchase_value": money(_only(buy, o.value).sum()),
        "gross_revenue": money(o.gross.sum()),
        "returned_value": money(o.returned.sum()),
        "max_order_value": _only(buy, o.value).max(),
        "purchase_lines": o.lines.sum(),
        "purchase_units": o.units.sum(),
        "n_cancelled_orders": _count(~buy & (o.returned > 0)),
    }
    for w in windows:
        recent = o.day > ibis.literal(as_of - timedelta(days=w))
        aggregates[f"orders_{w}d"] = _count(buy & recent)
        aggregates[f"revenue_{w}d"] = money(ibis.ifelse(recent, o.value, 0.0).sum())
    season = (o.day > ibis.literal(as_of - timedelta(days=365))) & (
        o.day <= ibis.literal(as_of - timedelta(days=365 - horizon_days))
    )
    aggregates["orders_last_season"] = _count(buy & season)
    aggregates["revenue_last_season"] = money(ibis.ifelse(season, o.value, 0.0).sum())
    for index, name in enumerate(WEEKDAYS):
        aggregates[f"n_{name}"] = _count(buy & (o.weekday == index))
    for quarter in range(1, 5):
        aggregates[f"n_q{quarter}"] = _count(buy & (o.quarter == quarter))
    out = o.group_by("customer_id").aggregate(**aggregates)
    return out.mutate(
        recency_days=as_of_day.delta(out.last_day, unit="day"),
        tenure_days=as_of_day.delta(out.first_day, unit="day"),
        inactive_days=as_of_day.delta(out.last_activity_day, unit="day"),
        first_purchase_month=out.first_day.month(),
    )


def rhythm(days: Table) -> Table:
    """Gaps between purchase days, and the inputs of the BG/NBD and Gamma-Gamma models."""
    first = days.day.min()
    return days.group_by("customer_id").aggregate(
        purchase_days=days.day.count(),
        gap_mean=days.gap.mean(),
        gap_median=days.gap.median(),
        gap_std=days.gap.std().round(9),  # streaming std: last bits vary
        last_gap=days.gap.argmax(days.day),
        btyd_recency_days=days.day.max().delta(first, unit="day"),
        btyd_repeat_value=money(days.value.sum() - days.value.argmin(days.day)),
    )


def products(lines: Table) -> Table:
    """Distinct products bought and the share of revenue in the customer's top product."""
    per = lines.filter(lines.product_id.notnull()).group_by(["customer_id", "product_id"])
    per = per.aggregate(revenue=money(lines.amount.sum()))
    bought = per.revenue > 0
    return per.group_by("customer_id").aggregate(
        distinct_products=_count(bought),
        top_product_revenue=per.revenue.max(),
        bought_product_revenue=money(ibis.ifelse(bought, per.revenue, 0.0).sum()),
    )


def home_country(orders: Table) -> Table:
    """The country of most of the customer's orders (ties: the first name alphabetically)."""
    counted = orders.filter(orders.country.notnull()).group_by(["customer_id", "country"])
    counted = counted.aggregate(n=orders.day.count())
    rank = ibis.row_number().over(
        group_by=counted.customer_id, order_by=[ibis.desc(counted.n), counted.country]
    )
    top = counted.mutate(rank=rank)
    return top.filter(top.rank == 0).select("customer_id", "country")
