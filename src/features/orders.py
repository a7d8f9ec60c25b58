"""Intermediate tables: lines up to `as_of` and orders in purchase sequence (Ibis expressions)."""

from __future__ import annotations

from datetime import date

import ibis
from ibis.expr.types import Table

from custlens.features.source import day_after, money


def history(transactions: Table, as_of: date) -> Table:
    """Lines on or before `as_of` (its whole day), with their calendar day."""
    lines = transactions.filter(transactions.timestamp < day_after(as_of))
    return lines.mutate(day=lines.timestamp.date())


def orders(lines: Table) -> Table:
    """One row per order: its day, net value, gross and returned value, lines and units.

    A purchase order has at least one positive line; a cancelled order has only negative ones.
    Weekday (0 = Monday) and quarter are computed once per order for the calendar shares.
    """
    positive = lines.amount > 0
    out = lines.group_by(["customer_id", "order_id"]).aggregate(
        first_seen=lines.timestamp.min(),
        value=money(lines.amount.sum()),
        gross=money(ibis.ifelse(positive, lines.amount, 0.0).sum()),
        lines=ibis.ifelse(positive, 1, 0).sum(),
        units=ibis.ifelse(positive, lines.quantity, ibis.null("float64")).sum(),
        country=lines.country.min(),
    )
    day = out.first_seen.date()
    return out.mutate(
        day=day,
        returned=money(out.gross - out.value),
        is_purchase=out.gross > 0,
        weekday=day.day_of_week.index(),
        quarter=day.quarter(),
    )


def in_sequence(order_table: Table) -> Table:
    """The orders with, per customer, the day of the previous order of the same kind (purchase
    or cancellation) and the first day of that kind: one window, one sort.

    Two orders on one day are one purchase occasion (as the BG/NBD model counts them), so the
    gaps between purchase days are the positive differences `day - prev_day`.
    """
    o = order_table
    window = ibis.window(group_by=[o.customer_id, o.is_purchase], order_by=o.day)
    return o.mutate(prev_day=o.day.lag().over(window), kind_first_day=o.day.min().over(window))
