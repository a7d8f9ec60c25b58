"""Every cleaning rule on a hand-written log whose answers are known."""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.data import LoadedData
from custlens.data.clean import clean_transactions, non_product_customers
from custlens.data.schema import EXTREME_FLAG
from custlens.data.spec import CleaningSpec
from custlens.errors import DataError

RETAIL_RULES = dict(
    non_product_codes=["POST", "M", "BANK CHARGES"], non_product_patterns=["^gift_0001"]
)


def log(*rows: tuple) -> pd.DataFrame:
    """Rows of (customer, order, day, quantity, unit_price, product)."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_id", "day", "quantity", "unit_price", "product_id"]
    )
    frame["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.pop("day"), "D")
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    for column in ("customer_id", "order_id", "product_id"):
        frame[column] = frame[column].astype("string")
    frame[["quantity", "unit_price"]] = frame[["quantity", "unit_price"]].astype("float64")
    return frame


BASE = (
    ("a", "1", 0, 2, 5.0, "P1"),  # kept: 10
    ("a", "1", 0, 2, 5.0, "P1"),  # duplicate of the line above
    (None, "2", 1, 1, 3.0, "P2"),  # no customer id
    ("b", "A3", 2, 1, -500.0, "B"),  # bad-debt adjustment
    ("b", "4", 3, 1, 7.5, "POST"),  # postage
    ("b", "4", 3, 1, 2.0, "m"),  # manual line, lower case
    ("b", "4", 3, 1, 10.0, "gift_0001_10"),  # voucher
    ("b", "5", 4, 3, 0.0, "P3"),  # zero price
    ("b", "6", 5, 4, 2.5, "P3"),  # kept: 10
    ("b", "C7", 6, -2, 2.5, "P3"),  # return of two units: -5
    ("c", "8", 7, 20000, 0.5, "P4"),  # extreme quantity: kept, flagged
)


def clean(spec: CleaningSpec, rows: tuple = BASE):
    return clean_transactions(log(*rows), spec, source="hand")


def test_each_rule_removes_exactly_its_lines() -> None:
    kept, report = clean(CleaningSpec(**RETAIL_RULES))
    removed = {e.rule: e.rows for e in report.effects if e.action == "removed"}
    assert removed == {
        "missing_customer_id": 1,
        "duplicate_lines": 1,
        "bad_debt_adjustments": 1,
        "non_product_codes": 3,
        "nonpositive_price": 1,
    }
    assert list(kept["order_id"]) == ["1", "6", "C7", "8"]
    assert report.effect("bad_debt_adjustments").revenue == -500.0
    assert report.effect("non_product_codes").revenue == 19.5


def test_report_adds_up() -> None:
    _, report = clean(CleaningSpec(**RETAIL_RULES))
    removed = sum(e.rows for e in report.effects if e.action == "removed")
    assert report.rows_in == 11
    assert report.rows_out == report.rows_in - removed == 4
    assert report.customers_in == 3 and report.customers_out == 3
    assert report.revenue_kept == 10 + 10 - 5 + 10000
    assert report.orders_out == 4
    assert report.first_timestamp == "2024-01-01 00:00:00"


def test_returns_are_netted_by_default() -> None:
    kept, report = clean(CleaningSpec(**RETAIL_RULES))
    assert report.effect("returns").action == "netted"
    assert report.effect("returns").rows == 1
    assert report.effect("returns").revenue == -5.0
    assert kept.groupby("customer_id")["amount"].sum()["b"] == 5.0


def test_returns_can_be_dropped() -> None:
    kept, report = clean(CleaningSpec(returns="drop", **RETAIL_RULES))
    assert report.effect("returns").action == "removed"
    assert "C7" not in set(kept["order_id"])
    assert (kept["amount"] >= 0).all()


def test_negative_quantity_without_prefix_is_a_return() -> None:
    rows = (("a", "1", 0, 2, 5.0, "P1"), ("a", "2", 1, -1, 5.0, "P1"))
    kept, report = clean(CleaningSpec(returns="drop"), rows)
    assert report.effect("returns").rows == 1
    assert list(kept["order_id"]) == ["1"]


def test_extreme_quantities_are_flagged_never_dropped() -> None:
    kept, report = clean(CleaningSpec(**RETAIL_RULES))
    assert report.effect("extreme_quantity").rows == 1
    assert kept.loc[kept[EXTREME_FLAG], "order_id"].tolist() == ["8"]
    kept, report = clean(CleaningSpec(extreme_quantity=None, **RETAIL_RULES))
    assert not kept[EXTREME_FLAG].any() and "8" in set(kept["order_id"])


def test_rules_can_be_switched_off() -> None:
    spec = CleaningSpec(
        drop_missing_customer=False,
        drop_duplicates=False,
        adjustment_prefix=None,
        drop_nonpositive_price=False,
    )
    kept, report = clean(spec)
    assert all(e.rows == 0 for e in report.effects if e.action == "removed")
    assert "not applicable" in report.effect("duplicate_lines").description
    assert len(kept) == len(BASE)


def test_unknown_returns_option_is_refused() -> None:
    with pytest.raises(DataError, match="cleaning.returns must be 'net' or 'drop'"):
        clean(CleaningSpec(returns="keep"))


def test_nothing_left_is_an_error() -> None:
    with pytest.raises(DataError, match="no transactions left after cleaning hand"):
        clean(CleaningSpec(), ((None, "1", 0, 1, 1.0, "P"),))


def test_report_renders_and_flattens() -> None:
    _, report = clean(CleaningSpec(**RETAIL_RULES))
    text = report.format()
    assert "non_product_codes" in text and "rows kept" in text
    metrics = report.metrics()
    assert metrics["quality.removed_rows.duplicate_lines"] == 1.0
    assert metrics["quality.rows_out"] == 4.0
    assert report.to_frame().shape == (len(report.effects), 5)


def test_customers_with_only_fee_lines_stay_in_the_population() -> None:
    rows = (
        *BASE,
        ("d", "9", 3, 1, 4.0, "POST"),  # d: postage only, on day 3
        ("e", "10", 9, 1, 4.0, "POST"),  # e: postage on day 9, a purchase on day 12
        ("e", "11", 12, 1, 4.0, "P5"),
        ("f", "12", 2, -1, 4.0, "POST"),  # f: a refunded fee only: never a purchase
    )
    spec = CleaningSpec(**RETAIL_RULES)
    kept, _ = clean(spec, rows)
    assert not {"d", "f"} & set(kept["customer_id"])
    firsts = non_product_customers(log(*rows), spec)
    assert dict(zip(firsts["customer_id"], firsts["first"], strict=True)) == {
        "b": pd.Timestamp("2024-01-04"),
        "d": pd.Timestamp("2024-01-04"),
        "e": pd.Timestamp("2024-01-10"),
    }
    loaded = LoadedData(kept, None, None, firsts)
    assert loaded.customers_as_of("2024-01-02") is None  # no fee line yet
    assert set(loaded.customers_as_of("2024-01-04")["customer_id"]) == {"b", "d"}
    table = pd.DataFrame({"customer_id": ["d", "z"], "tier": ["gold", "new"]}, dtype="string")
    with_table = LoadedData(kept, table, None, firsts).customers_as_of("2024-01-20")
    assert with_table["customer_id"].tolist() == ["d", "z", "b", "e"]
    assert with_table["tier"].isna().tolist() == [False, False, True, True]
    assert non_product_customers(log(*rows), CleaningSpec()) is None
