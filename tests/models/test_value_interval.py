"""The value interval means what it says: under its own model (a chance of nothing, otherwise
lognormal) it holds the stated share of outcomes, whatever the chance of nothing."""

from __future__ import annotations

import numpy as np
import pytest

from custlens.models.tasks.clv import hurdle_interval


@pytest.mark.parametrize("zero", [0.02, 0.3, 0.7, 0.9])
def test_the_interval_holds_its_level_under_its_model(zero: float) -> None:
    rng = np.random.default_rng(0)
    n, sigma, mean = 200_000, 0.8, 120.0
    p0 = np.full(n, zero)
    low, high = hurdle_interval(p0, np.full(n, mean), sigma, 0.8)
    mu = np.log(mean) - sigma**2 / 2
    outcome = np.where(rng.random(n) < zero, 0.0, np.exp(mu + sigma * rng.standard_normal(n)))
    covered = np.mean((low <= outcome) & (outcome <= high))
    # Exact, except that an interval holding nothing but 0 holds its whole chance.
    assert covered == pytest.approx(max(0.8, zero), abs=0.01)
    if zero >= 0.8:
        assert (high == 0).all()  # nothing is the likeliest outcome by far
    elif zero >= 0.1:
        assert (low == 0).all() and (high > 0).all()
    else:
        assert (low > 0).all()  # a near-certain buyer: both bounds positive


def test_the_bounds_follow_the_expected_value_and_the_level() -> None:
    p0 = np.array([0.4, 0.4])
    low, high = hurdle_interval(p0, np.array([100.0, 200.0]), 0.8, 0.8)
    assert high[1] == pytest.approx(2 * high[0]) and (low == 0).all()
    assert hurdle_interval(p0, np.array([100.0, 200.0]), 0.8, 0.9)[1][0] > high[0]
