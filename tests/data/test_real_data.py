"""The real data sources load through their configs; the Online Retail report is pinned."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custlens.config import to_spec
from custlens.data import DataSpec, load
from custlens.data.read import read_files
from custlens.data.sample import sample_log
from tests.helpers import ROOT, compose_config


def spec_of(name: str) -> DataSpec:
    return to_spec(compose_config("pipeline", [f"data={name}"]).data, DataSpec)


@pytest.fixture(scope="module")
def online_retail(shared_data: Path):
    return load(spec_of("online_retail"))


def test_online_retail_quality_report_is_pinned(online_retail) -> None:
    report = online_retail.report
    assert (report.rows_in, report.customers_in) == (1_044_847, 5_942)  # the data's README
    pinned = {
        "missing_customer_id": ("removed", 235_287, 2_566_093.08),
        "duplicate_lines": ("removed", 11_678, 54_229.60),
        "bad_debt_adjustments": ("removed", 0, 0.0),  # all three "A" lines lack a customer
        "non_product_codes": ("removed", 3_661, -68_641.25),
        "nonpositive_price": ("removed", 60, 0.0),
        "returns": ("netted", 17_586, -709_953.43),
        "extreme_quantity": ("flagged", 13, 17_029.60),
    }
    assert {e.rule: (e.action, e.rows, e.revenue) for e in report.effects} == pinned
    assert report.revenue_in == 18_909_744.12
    assert (report.rows_out, report.customers_out, report.orders_out) == (794_161, 5_875, 43_876)
    assert report.revenue_kept == 16_358_062.69
    assert (report.first_timestamp, report.last_timestamp) == (
        "2009-12-01 07:45:00",
        "2011-12-09 12:50:00",
    )


def test_online_retail_counts_agree_with_plain_pandas(shared_data: Path, online_retail) -> None:
    """The first two rules recounted without custlens, from the raw files."""
    old = pd.read_parquet(shared_data / "online_retail_ii/online_retail_ii_year_2009_2010.parquet")
    new = pd.read_parquet(shared_data / "online_retail/online_retail.parquet").rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    raw = pd.concat([old[old["InvoiceDate"] < "2010-12-01"], new], ignore_index=True)
    known = raw[raw["Customer ID"].notna()]
    report = online_retail.report
    assert report.effect("missing_customer_id").rows == len(raw) - len(known)
    canonical = known.drop(columns="Description")
    assert report.effect("duplicate_lines").rows == canonical.duplicated().sum()


def test_bundled_sample_is_small_and_is_what_make_sample_writes(shared_data: Path) -> None:
    bundled = ROOT / "data" / "online_retail_sample.parquet"
    assert bundled.stat().st_size < 3_000_000
    spec = spec_of("online_retail")
    raw = read_files(spec.all_files(), spec.csv, spec.columns.timestamp)
    cfg = compose_config("make_sample")
    expected = sample_log(raw, "Customer ID", "Invoice", cfg.fraction, cfg.seed)
    pd.testing.assert_frame_equal(pd.read_parquet(bundled), expected)
    share = expected["Customer ID"].nunique() / raw["Customer ID"].nunique()
    assert share == pytest.approx(0.25, abs=0.001)


def test_bundled_sample_loads_without_shared_data() -> None:
    loaded = load(spec_of("sample"))
    assert loaded.report.customers_out > 1_000
    assert loaded.transactions["customer_id"].notna().all()


def test_customer_table_join_example(shared_data: Path) -> None:
    loaded = load(spec_of("completejourney"))
    customers = loaded.customers
    assert customers is not None and len(customers) == 801
    assert customers.columns[0] == "customer_id" and customers["customer_id"].is_unique
    assert {"age", "income", "household_size"} <= set(customers.columns)
    shared = set(customers["customer_id"]) & set(loaded.transactions["customer_id"])
    assert len(shared) > 700
