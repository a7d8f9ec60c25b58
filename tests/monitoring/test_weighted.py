"""The metrics' weighted forms: exactly the metrics under unit weights, and bootstrap
intervals that behave; the label-free expected ROC-AUC."""

from __future__ import annotations

import numpy as np
import pytest

from custlens.models.evaluation import metrics as m
from custlens.models.evaluation.uncertainty import estimate
from custlens.models.evaluation.weighted import poisson_weights

WEIGHTED = [m.ROC_AUC, m.ECE, m.BRIER, m.TOP_DECILE_LIFT, m.GINI, m.TOP_DECILE_CAPTURE,
            m.SPEARMAN, m.VALUE_BIAS]  # fmt: skip


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary outcomes, values with many zeros, and scores with ties."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.random(n), 1)
    y = (rng.random(n) < p).astype(float)
    value = np.round(rng.gamma(1.0, 50.0, n)) * (rng.random(n) < 0.4)
    return y, value, p


@pytest.mark.parametrize("metric", WEIGHTED, ids=lambda x: x.name)
@pytest.mark.parametrize("n", [7, 61, 1000])
def test_unit_weights_give_the_metric_exactly(metric: m.Metric, n: int) -> None:
    y, value, p = sample(n, seed=n)
    outcome = value if metric in (m.GINI, m.TOP_DECILE_CAPTURE, m.SPEARMAN, m.VALUE_BIAS) else y
    if outcome.sum() == 0 or (outcome.max() == outcome.min()):
        pytest.skip("degenerate sample")
    score = p * 100 if metric is m.VALUE_BIAS else p
    expected = metric(outcome, score)
    got = metric.weighted(outcome, score, np.ones((3, n)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_interval_coverage_and_its_weighted_form() -> None:
    y = np.array([0.0, 5.0, 10.0, 20.0])
    bounds = np.array([[0, 0], [1, 4], [5, 15], [0, 30]], dtype=float)
    assert m.interval_coverage(y, bounds) == 0.75
    assert m.INTERVAL_COVERAGE.weighted(y, bounds, np.ones((1, 4)))[0] == 0.75
    weights = np.array([[1.0, 3.0, 0.0, 0.0]])  # the one outside counts three times
    assert m.INTERVAL_COVERAGE.weighted(y, bounds, weights)[0] == 0.25


def test_poisson_weights_duplicate_and_drop_rows() -> None:
    w = poisson_weights(2000, 50, seed=1)
    assert w.shape == (50, 2000) and w.mean() == pytest.approx(1.0, abs=0.02)
    assert (w == 0).mean() == pytest.approx(np.exp(-1), abs=0.02)


def test_bootstrap_intervals_hold_the_truth_and_narrow_with_rows() -> None:
    """A calibrated score's AUC: the interval holds the value of all the rows, and a 40,000-row
    sample's interval (a 20,000-row subsample, scaled) is about half a 10,000-row one's."""
    rng = np.random.default_rng(3)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        p = rng.random(n)
        return (rng.random(n) < p).astype(float), p

    small = estimate(m.ROC_AUC, *draw(10_000), seed=1)
    large = estimate(m.ROC_AUC, *draw(40_000), seed=1)
    for e in (small, large):
        assert e.lower < e.value < e.upper
        assert e.lower < 5 / 6 < e.upper  # the AUC of a uniform calibrated score
    ratio = (large.upper - large.lower) / (small.upper - small.lower)
    assert 0.35 < ratio < 0.65
    undefined = estimate(m.ROC_AUC, np.ones(10), np.linspace(0, 1, 10))
    assert np.isnan(undefined.value) and np.isnan(undefined.lower)


def test_expected_roc_auc_is_the_mean_auc_of_outcomes_drawn_from_the_probabilities() -> None:
    rng = np.random.default_rng(0)
    p = np.round(rng.beta(2, 3, 800), 2)  # with ties
    draws = [m.roc_auc((rng.random(p.size) < p).astype(int), p) for _ in range(400)]
    assert m.expected_roc_auc(p) == pytest.approx(np.mean(draws), abs=0.004)
    assert m.expected_roc_auc(np.full(50, 0.3)) == pytest.approx(0.5)
