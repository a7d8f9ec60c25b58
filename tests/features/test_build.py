"""Every feature against answers computed by hand on the log in handlog.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from custlens.errors import DataError
from custlens.features.build import build_features
from custlens.features.catalogue import catalogue
from custlens.features.spec import FeatureSpec
from tests.features.handlog import AS_OF, hand_log

SPEC = FeatureSpec(regions={"United Kingdom": "UK & Ireland"})


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return build_features(hand_log(), AS_OF, SPEC).set_index("customer_id")


def test_one_row_per_customer_known_on_as_of(features: pd.DataFrame) -> None:
    assert list(features.index) == ["A", "B", "C", "D"]  # E buys only after as_of


def test_columns_and_dtypes_follow_the_catalogue() -> None:
    frame = build_features(hand_log(), AS_OF, SPEC)
    expected = ["customer_id", *(f.name for f in catalogue(SPEC))]
    assert list(frame.columns) == expected
    assert str(frame["customer_id"].dtype) == "string"
    for feature in catalogue(SPEC):
        assert str(frame[feature.name].dtype) == feature.dtype, feature.name


A = {
    "has_purchase": True,
    "recency_days": 0.0,  # bought in the last minute of as_of
    "frequency": 5,  # o1, o2 (same day), o3, o5, o10; the return C4 is not a purchase
    "monetary_total": 80.0,  # 30 + 5 + 40 - 10 + 10 + 5
    "monetary_mean": 18.0,  # 90 of purchases over 5 orders
    "monetary_max": 40.0,
    "tenure_days": 60.0,
    "inactive_days": 0.0,
    "orders_per_month": 5 * 30.4375 / 61,
    "orders_30d": 2,  # o5 on 02-10 and o10; 01-31 is the first day outside
    "revenue_30d": 15.0,
    "orders_90d": 5,
    "revenue_90d": 80.0,
    "orders_365d": 5,
    "trend_orders_30_90d": (2 / 30) / (5 / 90),
    "trend_revenue_30_90d": (15 / 30) / (80 / 90),
    "trend_orders_90_365d": (5 / 90) / (5 / 365),
    "gap_mean": 20.0,  # purchase days 01-01, 01-11, 02-10, 03-01: gaps 10, 30, 20
    "gap_median": 20.0,
    "gap_std": 10.0,
    "last_gap": 20.0,
    "overdue_ratio": 0.0,
    "lines_per_order": 6 / 5,
    "units_per_order": 11 / 5,
    "distinct_products": 3,
    "top_product_share": 30 / 80,  # P1 and P3 (40 - 10) tie at 30 of 80 bought
    "return_ratio": 10 / 90,
    "cancelled_orders": 1,
    "months_active_365d": 3,  # January, February and March
    "share_mon": 0.4,
    "share_thu": 0.2,
    "share_fri": 0.2,
    "share_sat": 0.2,
    "share_sun": 0.0,
    "share_q1": 1.0,
    "share_q2": 0.0,
    "first_purchase_month": 1.0,
    "as_of_day_of_year": 61.0,
    "country": "United Kingdom",
    "region": "UK & Ireland",
    "btyd_frequency": 3,
    "btyd_recency_days": 60.0,
    "btyd_monetary": (40 + 10 + 5) / 3,
}
B = {  # a single purchase
    "recency_days": 10.0,
    "frequency": 1,
    "monetary_total": 100.0,
    "monetary_mean": 100.0,
    "tenure_days": 10.0,
    "gap_mean": math.nan,
    "gap_median": math.nan,
    "gap_std": math.nan,
    "last_gap": math.nan,
    "overdue_ratio": math.nan,
    "btyd_frequency": 0,
    "btyd_recency_days": 0.0,
    "btyd_monetary": math.nan,
    "orders_30d": 1,
    "trend_orders_30_90d": 3.0,
    "share_tue": 1.0,
    "return_ratio": 0.0,
}
C = {  # returns larger than purchases
    "frequency": 1,
    "monetary_total": -10.0,
    "monetary_mean": 5.0,
    "return_ratio": 3.0,
    "distinct_products": 0,
    "top_product_share": math.nan,
    "cancelled_orders": 1,
    "recency_days": 56.0,
    "inactive_days": 41.0,
    "revenue_90d": -10.0,
    "trend_revenue_30_90d": math.nan,
}
D = {  # the only order is cancelled
    "has_purchase": False,
    "frequency": 0,
    "recency_days": math.nan,
    "tenure_days": math.nan,
    "monetary_total": -20.0,
    "monetary_mean": math.nan,
    "monetary_max": math.nan,
    "cancelled_orders": 1,
    "inactive_days": 29.0,
    "return_ratio": math.nan,
    "share_mon": math.nan,
    "months_active_365d": 0,
    "basket_lines_trend": math.nan,
    "first_purchase_month": math.nan,
    "btyd_frequency": 0,
    "country": "United Kingdom",
}


@pytest.mark.parametrize(("customer", "expected"), [("A", A), ("B", B), ("C", C), ("D", D)])
def test_hand_computed_features(features: pd.DataFrame, customer: str, expected: dict) -> None:
    row = features.loc[customer]
    for name, value in expected.items():
        got = row[name]
        if isinstance(value, float) and math.isnan(value):
            assert pd.isna(got), name
        elif isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-9), name
        else:
            assert got == value, name


def test_months_active_and_basket_trends() -> None:
    # X: one order 455 days back (outside the year), two in June 2023, one recent order.
    rows = [
        ("X", "x1", "2022-12-01 10:00", "P1", 1, 30.0),
        ("X", "x2", "2023-06-01 10:00", "P1", 1, 40.0),
        ("X", "x2", "2023-06-01 10:00", "P2", 1, 60.0),
        ("X", "x3", "2023-06-20 10:00", "P3", 1, 50.0),
        ("X", "x4", "2024-02-01 10:00", "P1", 1, 5.0),
        ("X", "x4", "2024-02-01 10:00", "P2", 1, 5.0),
        ("X", "x4", "2024-02-01 10:00", "P3", 1, 5.0),
        ("X", "x4", "2024-02-01 10:00", "P4", 1, 5.0),
        ("Y", "y1", "2023-01-10 10:00", "P1", 1, 10.0),  # nothing in the last 90 days
    ]
    got = build_features(hand_log(rows), AS_OF, SPEC).set_index("customer_id")
    assert got.loc["X", "months_active_365d"] == 2  # June 2023 and February 2024
    assert got.loc["X", "basket_lines_trend"] == pytest.approx(4 / (8 / 4))
    assert got.loc["X", "basket_value_trend"] == pytest.approx(20 / (200 / 4))
    assert got.loc["Y", "months_active_365d"] == 0
    assert pd.isna(got.loc["Y", "basket_lines_trend"]) and pd.isna(
        got.loc["Y", "basket_value_trend"]
    )


@pytest.mark.parametrize("customer", ["A", "B", "C"])
def test_basket_trends_are_one_when_every_order_is_recent(
    features: pd.DataFrame, customer: str
) -> None:
    row = features.loc[customer]
    assert row["basket_lines_trend"] == pytest.approx(1.0)
    assert row["basket_value_trend"] == pytest.approx(1.0)


def test_customer_table_adds_customers_without_purchases() -> None:
    customers = pd.DataFrame({"customer_id": ["A", "Z"], "age": ["25-34", "65+"]})
    frame = build_features(hand_log(), AS_OF, SPEC, customers=customers).set_index("customer_id")
    assert list(frame.index) == ["A", "B", "C", "D", "Z"]
    assert not frame.loc["Z", "has_purchase"] and frame.loc["Z", "frequency"] == 0
    assert frame.loc["Z", "monetary_total"] == 0.0 and pd.isna(frame.loc["Z", "recency_days"])
    assert frame.loc["A", "attr_age"] == "25-34" and pd.isna(frame.loc["B", "attr_age"])


def test_no_history_is_an_error() -> None:
    with pytest.raises(DataError, match="no customer has a transaction on or before as_of"):
        build_features(hand_log(), "2023-01-01")


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(DataError, match="as_of must be a date"):
        build_features(hand_log(), "last tuesday")


def test_optional_columns_may_be_absent() -> None:
    log = hand_log()[["customer_id", "timestamp", "amount"]]
    frame = build_features(log, AS_OF).set_index("customer_id")
    assert frame.loc["A", "frequency"] == 5  # one order per customer and timestamp
    assert pd.isna(frame.loc["A", "distinct_products"]) or frame.loc["A", "distinct_products"] == 0
    assert pd.isna(frame.loc["A", "country"])
