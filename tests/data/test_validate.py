"""Mapping raw columns onto the canonical contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.data.spec import ColumnMap, TimestampOptions
from custlens.data.validate import to_canonical
from custlens.errors import DataError


def raw_retail() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Invoice": ["1", "1", "C2"],
            "Customer ID": [12346.0, 12346.0, np.nan],
            "InvoiceDate": pd.to_datetime(
                ["2010-01-01 09:00", "2010-01-01 09:00", "2010-01-02 00:00"]
            ),
            "Quantity": [2, 3, -1],
            "Price": [1.25, 2.0, 4.0],
            "StockCode": [" 85123A ", "POST", "22423"],
        }
    )


RETAIL = ColumnMap(
    customer_id="Customer ID",
    order_id="Invoice",
    timestamp="InvoiceDate",
    amount=None,
    quantity="Quantity",
    unit_price="Price",
    product_id="StockCode",
    country="Country",
)


def test_amount_is_quantity_times_price_and_ids_are_text() -> None:
    out = to_canonical(raw_retail(), RETAIL, amount_from_quantity_price=True)
    assert list(out.columns) == [
        "customer_id",
        "order_id",
        "timestamp",
        "amount",
        "quantity",
        "unit_price",
        "product_id",
    ]
    assert list(out["amount"]) == [2.5, 6.0, -4.0]
    assert out["customer_id"].iloc[0] == "12346"  # not "12346.0"
    assert pd.isna(out["customer_id"].iloc[2])
    assert out["product_id"].iloc[0] == "85123A"
    assert str(out["customer_id"].dtype) == "string"
    assert out["timestamp"].dtype == "datetime64[ns]"


def test_order_id_derived_from_customer_and_timestamp() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-01 10:00"],
            "amount": ["1", "2", "3"],
        }
    )
    out = to_canonical(raw, ColumnMap())
    assert list(out["order_id"]) == ["a@2024-01-01T10:00:00"] * 2 + ["b@2024-01-01T10:00:00"]


def test_single_zone_becomes_naive_utc() -> None:
    raw = pd.DataFrame(
        {"customer_id": ["a"], "timestamp": ["2024-06-01T10:00:00+02:00"], "amount": [1.0]}
    )
    out = to_canonical(raw, ColumnMap())
    assert out["timestamp"].iloc[0] == pd.Timestamp("2024-06-01 08:00")


def test_custom_timestamp_format() -> None:
    raw = pd.DataFrame({"customer_id": ["a"], "timestamp": ["31/12/2023 23:59"], "amount": [1]})
    out = to_canonical(raw, ColumnMap(), TimestampOptions(format="%d/%m/%Y %H:%M"))
    assert out["timestamp"].iloc[0] == pd.Timestamp("2023-12-31 23:59")


def test_missing_quantity_for_derived_amount_is_named() -> None:
    raw = raw_retail().drop(columns=["Quantity"])
    with pytest.raises(DataError, match=r"quantity \(looked for 'Quantity'\)"):
        to_canonical(raw, RETAIL, amount_from_quantity_price=True)
