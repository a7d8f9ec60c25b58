"""The day's levels: a seasonal index from days up to the scoring day only, shifts that bring
the probabilities' mean to the target without touching their ranking, and a value factor that
makes the total add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.models.levels import (
    Constants,
    levels_of,
    logit,
    matching_shift,
    open_base,
    seasonal_index,
    shifted,
)


def daily(start: str, days: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    season = 1 + 0.5 * np.sin(2 * np.pi * index.dayofyear / 365)
    return pd.Series(rng.poisson(100 * season).astype(float), index=index)


def test_the_index_reads_no_day_after_the_scoring_day() -> None:
    orders = daily("2020-01-01", 900)
    day = pd.Timestamp("2021-06-01")
    later = orders.copy()
    later[later.index > day] *= 10  # a future that must not matter
    assert seasonal_index(orders, day, 90) == seasonal_index(later, day, 90)
    assert seasonal_index(orders, pd.Timestamp("2020-10-01"), 90) is None  # under a year
    # Busier than the year's average window a year after a busy window, quieter after a quiet one
    assert seasonal_index(orders, pd.Timestamp("2021-01-15"), 90) > 1.2
    assert seasonal_index(orders, pd.Timestamp("2021-07-15"), 90) < 0.8


def test_a_shift_brings_the_mean_to_the_target_and_keeps_the_order() -> None:
    rng = np.random.default_rng(1)
    p = 1 / (1 + np.exp(-rng.normal(0, 2, 5000)))
    shift = matching_shift(logit(p), 0.3)
    moved = shifted(p, shift)
    assert moved.mean() == pytest.approx(0.3, abs=1e-6)
    assert (np.argsort(moved, kind="stable") == np.argsort(p, kind="stable")).all()
    assert shifted(p, 0.0) is not None and np.allclose(shifted(p, 0.0), p)


def buyers(n: int, seed: int = 2, new_share: float = 0.2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    alive = rng.uniform(0.2, 1.0, n)
    q = rng.uniform(0.1, 0.9, n)
    return pd.DataFrame(
        {
            "tenure_days": np.where(rng.random(n) < new_share, 60.0, 700.0),
            "btyd_p_alive": alive,
            "btyd_p_order": alive * q,
            "btyd_p_repurchase": alive * q / 2,
            "btyd_expected_orders": alive * q * 2,
        }
    )


def test_levels_match_bgnbd_scaled_by_the_season_and_make_the_value_add_up() -> None:
    rows = buyers(4000)
    rng = np.random.default_rng(3)
    chance = rng.uniform(0.05, 0.95, len(rows))
    values = rng.gamma(2.0, 30.0, len(rows))
    orders = daily("2020-01-01", 800)
    day = pd.Timestamp("2021-01-20")
    constants = Constants(value_per_order=50.0, positive_share=0.95)
    levels = levels_of(day, rows, {"churn": (90, chance)}, values, orders, constants, (30, 90))
    index = seasonal_index(orders, day, 90)
    assert levels.index[90] == pytest.approx(index)
    alive, q = rows["btyd_p_alive"], rows["btyd_p_order"] / rows["btyd_p_alive"]
    target = float(np.mean(alive * (1 - (1 - q) ** index)))
    assert shifted(chance, levels.shift("churn")).mean() == pytest.approx(target, abs=1e-6)
    total = rows["btyd_expected_orders"].sum() * index * 50.0
    assert (values * levels.value_factor).sum() == pytest.approx(total)


def test_a_closed_base_gets_no_seasonal_index() -> None:
    rows = buyers(2000, new_share=0.0)  # nobody new: one cohort ageing, not a season
    assert not open_base(rows["tenure_days"].to_numpy())
    orders = daily("2020-01-01", 800)
    levels = levels_of(
        pd.Timestamp("2021-01-20"), rows, {"churn": (90, np.full(len(rows), 0.4))}, None,
        orders, Constants(), (30, 90),
    )  # fmt: skip
    assert levels.index == {30: 1.0, 90: 1.0} or levels.index == {90: 1.0}
    assert levels.value_factor == 1.0
