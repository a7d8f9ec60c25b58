"""The timing curve: coherent (non-decreasing, through the churn and repurchase anchors), its
half-chance day, its metrics with censoring, and a model per day fitted only on rows whose
outcome was observed that far."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from custlens.features.spec import FeatureSpec
from custlens.models.estimators.training import CalibratedClassifier, ModelSettings
from custlens.models.tasks.timing import (
    OrderCurve,
    coherent_curve,
    half_day,
    pool_adjacent,
    restricted_mean,
)
from custlens.models.tasks.timing_metrics import (
    CONCORDANCE,
    MEDIAN_ERROR,
    PRECISION,
    RECALL,
    concordance,
    gap_metric,
)
from tests.models.conftest import HORIZON


def test_pool_adjacent_is_the_isotonic_fit_of_each_row() -> None:
    rng = np.random.default_rng(0)
    rows = rng.uniform(size=(200, 5))
    fitted = pool_adjacent(rows)
    for row, got in zip(rows, fitted, strict=True):
        expected = IsotonicRegression().fit_transform(np.arange(5), row)
        assert np.allclose(got, expected)


def test_the_curve_never_falls_and_passes_through_the_anchors() -> None:
    rng = np.random.default_rng(1)
    n, days = 1000, [7, 14, 30, 60, 90, 180]
    points = {t: rng.uniform(size=n) for t in days}  # deliberately incoherent
    later = rng.uniform(size=n)
    sooner = np.minimum(rng.uniform(size=n), later)
    curve = coherent_curve(days, points, {30: sooner, 90: later})
    assert (np.diff(curve, axis=1) >= -1e-12).all()
    assert np.array_equal(curve[:, 2], sooner) and np.array_equal(curve[:, 4], later)
    assert ((curve >= 0) & (curve <= 1)).all()


def test_the_half_day_interpolates_in_log_days() -> None:
    days = [7, 14, 30]
    curve = np.array([[0.2, 0.4, 0.6], [0.5, 0.6, 0.7], [0.1, 0.2, 0.3], [0.7, 0.8, 0.9]])
    half = half_day(days, curve)
    assert half[0] == pytest.approx(np.exp(np.log(14) + 0.5 * (np.log(30) - np.log(14))))
    assert half[1] == pytest.approx(7.0)  # reached on the first day exactly
    assert np.isnan(half[2])  # never within the grid
    assert half[3] == pytest.approx(7 * np.log(0.5) / np.log(0.3))  # constant hazard before 7
    mean = restricted_mean(days, curve, 30)
    assert (mean > 0).all() and mean[3] < mean[0] < mean[2]  # sooner buyers, fewer days


def test_timing_metrics_count_censored_customers_as_no_order() -> None:
    inf = np.inf
    y = np.array([5.0, 20.0, inf, inf, 40.0])
    predicted = np.array([7.0, inf, 10.0, inf, 30.0])
    assert PRECISION(y, predicted) == pytest.approx(2 / 3)
    assert RECALL(y, predicted) == pytest.approx(2 / 3)
    assert MEDIAN_ERROR(y, predicted) == pytest.approx(6.0)  # |7-5|, |30-40|
    chance = np.array([0.9, 0.6, 0.1, 0.2, 0.4])
    assert gap_metric(30)(y, chance) == pytest.approx(chance.mean() - 2 / 5)
    for m in (PRECISION, RECALL, MEDIAN_ERROR):
        assert m.weighted(y, predicted, np.ones((1, 5)))[0] == pytest.approx(m(y, predicted))


def test_concordance_matches_the_pairs_counted_one_by_one() -> None:
    rng = np.random.default_rng(2)
    n = 300
    y = np.where(rng.random(n) < 0.4, np.inf, rng.integers(1, 91, n).astype(float))
    score = np.round(np.where(np.isfinite(y), y, 120) + rng.normal(0, 25, n))
    agree = pairs = 0.0
    for i in range(n):
        for j in range(n):
            if np.isfinite(y[i]) and y[i] < y[j]:
                pairs += 1
                agree += 1.0 if score[i] < score[j] else 0.5 if score[i] == score[j] else 0.0
    assert concordance(y, score) == pytest.approx(agree / pairs)
    assert CONCORDANCE(y, np.zeros(n)) == pytest.approx(0.5)


def test_each_day_is_learned_only_where_its_outcome_was_observed(
    synthetic_frame: pd.DataFrame, monkeypatch
) -> None:
    seen: dict[int, pd.DataFrame] = {}
    fit = CalibratedClassifier.fit

    def spy(self, X, y):  # noqa: N803
        seen[self.horizon_days] = X
        return fit(self, X, y)

    monkeypatch.setattr(CalibratedClassifier, "fit", spy)
    windows = FeatureSpec(horizon_days=HORIZON, order_days=[7, 14, 45, 180])
    days = synthetic_frame["next_order_days"].to_numpy(float)
    model = OrderCurve(windows, ModelSettings(n_estimators=20)).fit(synthetic_frame, days)
    assert set(model.days_) >= {30, HORIZON} and set(model.models_) <= {7, 14, 45, 180}
    for t, rows in seen.items():
        assert (rows["observed_days"] >= t).all()
        assert rows["as_of"].nunique() >= 4
    assert 30 not in model.models_ and HORIZON not in model.models_  # the anchors' models
