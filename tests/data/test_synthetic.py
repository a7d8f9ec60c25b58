"""Tests for the synthetic transaction generator and its ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kstest, spearmanr

from custlens.data.synthetic import COUNTRIES, GROUPS, generate_transactions

TX_COLUMNS = [
    "customer_id",
    "order_id",
    "timestamp",
    "amount",
    "quantity",
    "unit_price",
    "product_id",
    "country",
]
TRUTH_COLUMNS = [
    "customer_id",
    "group",
    "lam",
    "p_drop",
    "mean_spend",
    "birth",
    "death",
    "alive_at_end",
    "n_orders",
]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_transactions(5000, seed=7)


def purchases(tx: pd.DataFrame) -> pd.DataFrame:
    return tx[tx["order_id"].str.startswith("O")]


def test_transaction_columns_and_dtypes(data):
    tx, _ = data
    assert list(tx.columns) == TX_COLUMNS
    for col in ("customer_id", "order_id", "product_id", "country"):
        assert tx[col].dtype == pd.StringDtype(), col
    assert tx["timestamp"].dtype == "datetime64[ns]"
    for col in ("amount", "quantity", "unit_price"):
        assert tx[col].dtype == np.float64, col
    assert not tx.isna().any().any()
    assert tx["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert tx["order_id"].str.fullmatch(r"[OC]\d{9}").all()
    assert tx["product_id"].str.fullmatch(r"P\d{5}").all()
    assert set(tx["country"]) <= set(COUNTRIES)


def test_truth_columns_and_dtypes(data):
    tx, truth = data
    assert list(truth.columns) == TRUTH_COLUMNS
    assert truth["customer_id"].dtype == pd.StringDtype()
    assert truth["group"].dtype == pd.StringDtype()
    assert truth["birth"].dtype == truth["death"].dtype == "datetime64[ns]"
    assert truth["alive_at_end"].dtype == bool
    assert truth["n_orders"].dtype == np.int64
    assert truth["customer_id"].is_unique and len(truth) == 5000
    assert (truth["lam"] > 0).all() and (truth["mean_spend"] > 0).all()
    assert truth["p_drop"].between(0, 1).all()
    assert set(truth["customer_id"]) == set(tx["customer_id"])


def test_same_seed_gives_identical_frames():
    tx1, truth1 = generate_transactions(800, seed=3)
    tx2, truth2 = generate_transactions(800, seed=3)
    pd.testing.assert_frame_equal(tx1, tx2)
    pd.testing.assert_frame_equal(truth1, truth2)


def test_different_seed_differs():
    tx1, truth1 = generate_transactions(800, seed=3)
    tx2, truth2 = generate_transactions(800, seed=4)
    assert not truth1["lam"].equals(truth2["lam"])
    assert len(tx1) != len(tx2) or not tx1["amount"].equals(tx2["amount"])


def test_timestamps_within_a_custom_window():
    start, end = "2022-03-01", "2022-09-30 12:00"
    tx, truth = generate_transactions(2000, start=start, end=end, seed=1)
    assert tx["timestamp"].min() >= pd.Timestamp(start)
    assert tx["timestamp"].max() <= pd.Timestamp(end)
    # births fall in the first 80% of the window
    cutoff = pd.Timestamp(start) + 0.8 * (pd.Timestamp(end) - pd.Timestamp(start))
    assert truth["birth"].between(pd.Timestamp(start), cutoff).all()


def test_rows_sorted_by_timestamp_then_order_id(data):
    tx, _ = data
    expected = tx.sort_values(["timestamp", "order_id"], kind="stable")
    assert expected.index.equals(tx.index)


def test_each_order_belongs_to_one_customer_and_time(data):
    tx, _ = data
    per_order = tx.groupby("order_id")[["customer_id", "timestamp"]].nunique()
    assert (per_order == 1).all().all()


def test_first_transaction_is_birth(data):
    tx, truth = data
    first = tx.groupby("customer_id")["timestamp"].min()
    birth = truth.set_index("customer_id")["birth"]
    pd.testing.assert_series_equal(first.sort_index(), birth.sort_index(), check_names=False)


def test_order_counts_match_truth(data):
    tx, truth = data
    counts = purchases(tx).groupby("customer_id")["order_id"].nunique()
    expected = truth.set_index("customer_id")["n_orders"]
    assert (counts.reindex(expected.index) == expected).all()
    assert (expected >= 1).all()


def test_dead_customers_stop_at_death(data):
    tx, truth = data
    last = purchases(tx).groupby("customer_id")["timestamp"].max()
    t = truth.set_index("customer_id")
    dead = t[~t["alive_at_end"]]
    assert dead["death"].notna().all() and t.loc[t["alive_at_end"], "death"].isna().all()
    # dropout happens right after the last purchase: nothing is bought later
    assert (last.reindex(dead.index) == dead["death"]).all()
    assert 0.1 < len(dead) / len(t) < 0.9


def test_alive_share_matches_bgnbd_survival(data):
    _, truth = data
    # alive at end <=> survived the birth purchase and every Poisson(lam * T) later one
    days = (pd.Timestamp("2023-12-31") - truth["birth"]).dt.total_seconds() / 86_400
    p_alive = (1 - truth["p_drop"]) * np.exp(-truth["lam"] * days * truth["p_drop"])
    sd = np.sqrt((p_alive * (1 - p_alive)).sum())
    assert abs(truth["alive_at_end"].sum() - p_alive.sum()) < 4 * sd


def test_repeat_purchase_times_are_poisson(data):
    tx, truth = data
    # given survival to the end, Poisson arrivals after birth are uniform over (birth, end]
    t = truth.set_index("customer_id")
    alive = t[t["alive_at_end"]]
    buy = purchases(tx).drop_duplicates("order_id")
    buy = buy[buy["customer_id"].isin(alive.index)]
    birth = alive.loc[buy["customer_id"], "birth"].to_numpy()
    later = buy["timestamp"].to_numpy() > birth
    u = (buy["timestamp"].to_numpy() - birth) / (np.datetime64("2023-12-31") - birth)
    assert later.sum() > 2000
    assert kstest(u[later], "uniform").pvalue > 0.001


def test_returns_refer_to_earlier_purchases(data):
    tx, _ = data
    back = tx[tx["order_id"].str.startswith("C")]
    assert len(back) > 0
    assert (back["quantity"] < 0).all() and (back["amount"] < 0).all()
    buy = purchases(tx).assign(order_id=lambda d: "C" + d["order_id"].str[1:])
    keys = ["order_id", "customer_id", "product_id", "unit_price"]
    matched = back.merge(buy, on=keys, suffixes=("", "_buy"), how="left")
    assert matched["timestamp_buy"].notna().all()
    assert (matched["timestamp"] > matched["timestamp_buy"]).all()
    share = len(back) / len(buy)
    assert 0.015 < share < 0.04  # 3% configured, fewer near the end of the window


def test_no_returns_when_rate_is_zero():
    tx, _ = generate_transactions(500, seed=2, return_rate=0.0)
    assert (tx["quantity"] > 0).all() and tx["order_id"].str.startswith("O").all()


def test_amount_is_quantity_times_unit_price(data):
    tx, _ = data
    assert (tx["amount"] == np.round(tx["quantity"] * tx["unit_price"], 2)).all()
    assert (tx["unit_price"] > 0).all()
    buy = purchases(tx)
    assert (buy["quantity"] >= 1).all() and (buy["quantity"] % 1 == 0).all()


def test_lines_per_order_matches_parameter(data):
    buy = purchases(data[0])
    assert len(buy) / buy["order_id"].nunique() == pytest.approx(2.0, abs=0.1)
    single, _ = generate_transactions(500, seed=5, lines_per_order=1.0, return_rate=0.0)
    assert single["order_id"].is_unique


def test_higher_rate_buys_more(data):
    _, truth = data
    assert spearmanr(truth["lam"], truth["n_orders"])[0] > 0.4


def test_order_values_track_mean_spend(data):
    tx, truth = data
    buy = purchases(tx)
    value = buy.groupby(["customer_id", "order_id"])["amount"].sum().groupby("customer_id").mean()
    t = truth.set_index("customer_id")
    regular = t.index[t["n_orders"] >= 3]
    assert spearmanr(value[regular], t.loc[regular, "mean_spend"])[0] > 0.8
    # quantity rounding keeps realised order values close to the truth on average
    assert np.median(value / t["mean_spend"]) == pytest.approx(1.0, abs=0.15)


def test_group_shares_match_weights(data):
    _, truth = data
    shares = truth["group"].value_counts(normalize=True)
    total = sum(g.weight for g in GROUPS)
    for g in GROUPS:
        assert shares[g.name] == pytest.approx(g.weight / total, abs=0.03), g.name


def test_one_off_group_buys_less_than_loyal(data):
    _, truth = data
    orders = truth.groupby("group")["n_orders"].mean()
    spend = truth.groupby("group")["mean_spend"].mean()
    assert orders["loyal_frequent"] > 2 * orders["one_off"]
    assert spend["big_spender"] > 2 * spend["occasional"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 0},
        {"n_customers": 10, "start": "2023-01-01", "end": "2022-01-01"},
        {"n_customers": 10, "lines_per_order": 0.5},
        {"n_customers": 10, "return_rate": 1.5},
        {"n_customers": 10, "n_products": 0},
    ],
)
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="synthetic"):
        generate_transactions(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 2000),
    lines=st.floats(1.0, 4.0),
)
def test_invariants_hold_for_any_small_input(n, seed, days, lines):
    start = pd.Timestamp("2020-02-29")
    end = start + pd.Timedelta(days=days)
    tx, truth = generate_transactions(n, str(start), str(end), seed, lines, 0.2, n_products=7)
    assert tx["timestamp"].between(start, end).all()
    assert len(truth) == n and tx["customer_id"].nunique() == n
    first = tx.groupby("customer_id")["timestamp"].min()
    assert (first.sort_index().to_numpy() == truth.sort_values("customer_id")["birth"]).all()
    counts = purchases(tx).groupby("customer_id")["order_id"].nunique()
    assert counts.sort_index().tolist() == truth.sort_values("customer_id")["n_orders"].tolist()
    assert tx["product_id"].isin([f"P{i:05d}" for i in range(1, 8)]).all()
