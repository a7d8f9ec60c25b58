"""Per-customer feature families, each an Ibis aggregation keyed by `customer_id`.

Only operations that DuckDB and Spark compute identically are used: exact medians, exact
distinct counts, day-level date differences, `lag` windows and conditional sums.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
from ibis.expr.types import Table

from custlens.features.source import money

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BASKET_RECENT_DAYS = 90  # the recent window of the basket trends


def _count(condition: ibis.Value) -> ibis.Value:
    """Rows meeting a condition, as SUM(CASE ...): much cheaper in DuckDB than many FILTERs."""
    return ibis.ifelse(condition, 1, 0).sum()


def _only(condition: ibis.Value, value: ibis.Value) -> ibis.Value:
    """The value where the condition holds, else null (to aggregate without FILTER)."""
    return ibis.ifelse(condition, value, ibis.null(value.type()))


def activity(orders: Table, as_of: date, windows: list[int], horizon_days: int) -> Table:
    """RFM, tenure, windows, returns, calendar shares, rhythm, months active in the last year
    and basket trends, from the orders in sequence.

    One aggregation over `orders.in_sequence`: the window that finds each purchase day's
    predecessor already sorted the orders, so the rhythm family needs no pass of its own.
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
    year = o.day > ibis.literal(as_of - timedelta(days=365))
    aggregates["months_active_365d"] = _only(
        buy & year, o.day.year() * 12 + o.day.month()
    ).nunique()
    basket = o.day > ibis.literal(as_of - timedelta(days=BASKET_RECENT_DAYS))
    aggregates["recent_orders"] = _count(buy & basket)
    aggregates["recent_lines"] = ibis.ifelse(buy & basket, o.lines, 0).sum()
    aggregates["recent_purchase_value"] = money(_only(buy & basket, o.value).sum())
    aggregates["orders_last_season"] = _count(buy & season)
    aggregates["revenue_last_season"] = money(ibis.ifelse(season, o.value, 0.0).sum())
    for index, name in enumerate(WEEKDAYS):
        aggregates[f"n_{name}"] = _count(buy & (o.weekday == index))
    for quarter in range(1, 5):
        aggregates[f"n_q{quarter}"] = _count(buy & (o.quarter == quarter))
    aggregates.update(rhythm(o))
    out = o.group_by("customer_id").aggregate(**aggregates)
    btyd_recency = out.last_day.delta(out.first_day, unit="day")
    return out.mutate(
        recency_days=as_of_day.delta(out.last_day, unit="day"),
        tenure_days=as_of_day.delta(out.first_day, unit="day"),
        inactive_days=as_of_day.delta(out.last_activity_day, unit="day"),
        first_purchase_month=out.first_day.month(),
        # The mean gap in closed form: the gaps add up to last minus first purchase day.
        gap_mean=ibis.ifelse(
            out.purchase_days > 1,
            btyd_recency.cast("float64") / (out.purchase_days - 1).cast("float64"),
            ibis.null("float64"),
        ),
        last_gap=out.last_day.delta(out.previous_purchase_day, unit="day"),
        btyd_recency_days=btyd_recency,
        # Recent basket over the customer's usual basket (1 = unchanged; null without both).
        basket_lines_trend=_per_order_trend(
            out.recent_lines, out.recent_orders, out.purchase_lines, out.n_orders
        ),
        basket_value_trend=_per_order_trend(
            out.recent_purchase_value, out.recent_orders, out.purchase_value, out.n_orders
        ),
    )


def _per_order_trend(
    recent: ibis.Value, recent_orders: ibis.Value, total: ibis.Value, orders: ibis.Value
) -> ibis.Value:
    """(recent per recent order) over (total per order); null when either is undefined."""
    numerator = recent.cast("float64") * orders.cast("float64")
    denominator = total.cast("float64") * recent_orders.cast("float64")
    return ibis.ifelse(
        (recent_orders > 0) & (denominator > 0), numerator / denominator, ibis.null("float64")
    )


def rhythm(orders: Table) -> dict[str, ibis.Value]:
    """Aggregates of the gaps between purchase days (orders in sequence, see `in_sequence`).

    A gap is counted on the first order of each purchase day after the first: its previous
    purchase order lies on an earlier day. The largest such previous day is the purchase day
    before the last, which gives the last gap without sorting again.
    """
    o, buy = orders, orders.is_purchase
    step = buy & o.prev_day.notnull() & (o.day > o.prev_day)
    gap = _only(step, o.day.delta(o.prev_day, unit="day"))
    return {
        "purchase_days": _count(buy & (o.prev_day.isnull() | (o.day > o.prev_day))),
        "gap_median": gap.median(),
        "gap_std": gap.std().round(9),  # streaming std: last bits vary
        "previous_purchase_day": _only(step, o.prev_day).max(),
        "btyd_repeat_value": money(_only(buy & (o.day > o.kind_first_day), o.value).sum()),
    }


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
