"""A small hand-written log whose features were computed by hand (see test_build.py)."""

from __future__ import annotations

import pandas as pd

AS_OF = "2024-03-01"  # a Friday; day 61 of a leap year

ROWS = [
    # customer, order, timestamp, product, quantity, unit_price
    ("A", "o1", "2024-01-01 10:00", "P1", 2, 5.0),
    ("A", "o1", "2024-01-01 10:00", "P2", 1, 20.0),
    ("A", "o2", "2024-01-01 15:00", "P1", 1, 5.0),  # a second order the same day
    ("A", "o3", "2024-01-11 09:00", "P3", 4, 10.0),
    ("A", "C4", "2024-01-15 12:00", "P3", -1, 10.0),  # a return
    ("A", "o5", "2024-02-10 18:00", "P1", 2, 5.0),
    ("B", "o6", "2024-02-20 11:00", "P9", 1, 100.0),  # a single purchase
    ("C", "o7", "2024-01-05 10:00", "P1", 1, 5.0),
    ("C", "C8", "2024-01-20 10:00", "P1", -3, 5.0),  # returns larger than purchases
    ("D", "C9", "2024-02-01 10:00", "P4", -2, 10.0),  # the only order is cancelled
    ("A", "o10", "2024-03-01 23:59", "P1", 1, 5.0),  # last minute of as_of: known
    ("E", "o11", "2024-03-02 00:00", "P1", 1, 5.0),  # after as_of: a later customer
]


def hand_log(rows: list[tuple] = ROWS) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["customer_id", "order_id", "timestamp", "product_id", "quantity", "unit_price"],
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["quantity"] = frame["quantity"].astype("float64")
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    frame["country"] = "United Kingdom"
    for column in ("customer_id", "order_id", "product_id", "country"):
        frame[column] = frame[column].astype("string")
    return frame
