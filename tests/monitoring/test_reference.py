"""The reference a model is judged against: bins, PSI, natural drift, and the thresholds it
raises; the promise it stores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.monitoring.drift import Thresholds
from custlens.monitoring.reference import ColumnReference, Reference, cutoff_pairs, describe, psi


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(0)
    base = pd.Series(rng.gamma(2.0, 10.0, 20_000))
    column = describe(base)
    assert len(column.edges) == 9 and sum(column.shares) == pytest.approx(1.0)
    assert column.psi(base) == pytest.approx(0.0, abs=1e-9)
    same = column.psi(pd.Series(rng.gamma(2.0, 10.0, 20_000)))
    tripled = column.psi(base * 3)
    assert same < 0.01 and tripled > 1.0
    # Known value: half the mass moved from one of two bins to the other.
    assert psi(np.array([0.5, 0.5]), np.array([75, 25])) == pytest.approx(
        0.25 * np.log(0.75 / 0.5) + (-0.25) * np.log(0.25 / 0.5)
    )


def test_the_mean_shift_is_in_reference_standard_deviations_and_rises_with_training() -> None:
    values = pd.Series([0.0, 0.0, 1.0, 3.0, np.nan])
    column = describe(values)
    assert column.mean == pytest.approx(1.0) and column.sd == pytest.approx(
        np.std([0, 0, 1, 3], ddof=1)
    )
    assert column.shift(2.0) == pytest.approx(1.0 / column.sd)
    assert np.isnan(describe(pd.Series(["a", "b"], dtype="string")).shift(1.0))
    assert np.isnan(describe(pd.Series([2.0, 2.0])).shift(3.0))  # constant: no scale
    column.natural_shift = {28: 0.03, 182: 0.2, 364: 0.04}  # a season: furthest at half a year
    t = Thresholds(shift_watch=0.1, shift_act=0.25, natural_margin=2.0)
    assert t.of_shift(column, 20) == (0.1, 0.25)
    assert t.of_shift(column, 100) == pytest.approx((0.4, 1.0))
    assert t.of_shift(column, 212) == pytest.approx((0.4, 1.0))  # the 182-day lag still counts


def test_a_column_pickled_before_the_mean_was_kept_loads_without_it() -> None:
    old = ColumnReference(edges=[1.0], shares=[0.5, 0.5, 0.0])
    state = {k: v for k, v in vars(old).items() if k not in ("mean", "sd", "natural_shift")}
    loaded = ColumnReference.__new__(ColumnReference)
    loaded.__setstate__(state)
    assert loaded == old and np.isnan(loaded.shift(1.0))


def test_text_and_missing_values_have_their_own_bins() -> None:
    values = pd.Series(["UK"] * 60 + ["FR"] * 30 + [None] * 10, dtype="string")
    column = describe(values)
    assert column.categories == ["UK", "FR"]
    assert column.shares == pytest.approx([0.6, 0.3, 0.0, 0.1])  # UK, FR, others, missing
    counts = column.counts(pd.Series(["DE", "UK", None], dtype="string"))
    assert list(counts) == [1, 0, 1, 1]
    numbers = describe(pd.Series([1.0, 2.0, np.nan, 4.0] * 10))
    assert numbers.shares[-1] == pytest.approx(0.25)  # the missing bin


def test_thresholds_rise_above_the_drift_seen_in_training_over_the_lag() -> None:
    column = ColumnReference(edges=[1.0], shares=[0.5, 0.5, 0.0], natural={28: 0.02, 91: 0.2})
    t = Thresholds(watch=0.1, act=0.25, natural_margin=2.0)
    assert t.of(column, 20) == (0.1, 0.25)  # 2 x 0.02 stays below the defaults
    assert t.of(column, 60) == pytest.approx((0.4, 1.0))  # the 91-day drift, twice, scaled
    assert t.of(column, 400) == pytest.approx((0.4, 1.0))  # beyond the longest lag: the longest
    assert Thresholds().of(ColumnReference(edges=[], shares=[1.0, 0.0]), 30) == (0.1, 0.25)


def test_cutoff_pairs_are_about_each_lag_apart() -> None:
    days = pd.Series(pd.date_range("2022-01-01", periods=40, freq="14D"))
    pairs = cutoff_pairs(days)
    assert {lag for lag, _, _ in pairs} == {28, 56, 91, 182, 364}
    last = days.iloc[-1]
    for lag, later, earlier in pairs:
        assert abs((later - earlier).days - lag) <= 10
        assert min(abs((last - later).days - o) for o in (0, 91, 182, 273)) <= 10
    # Every season's later cutoff is paired at the short lags; a year before the latest
    # (273 days back) would be before the first cutoff.
    assert len({later for lag, later, _ in pairs if lag == 91}) == 4
    assert len({later for lag, later, _ in pairs if lag == 364}) == 3


def test_reference_travels_as_plain_values() -> None:
    reference = Reference(
        "2024-01-31", 100, {"x": describe(pd.Series([1.0, 2.0, 3.0]))}, {"Loyal": 1.0},
        [{"task": "churn", "metric": "roc_auc", "value": 0.8, "lower": 0.78, "upper": 0.82}],
    )  # fmt: skip
    back = Reference.from_dict(reference.to_dict())
    assert back == reference
    assert back.promise("churn", "roc_auc")["lower"] == 0.78
    assert back.promise("churn", "ece") is None
