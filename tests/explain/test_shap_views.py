"""SHAP views as data: additivity against the models' own scores, labels, sampling, readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.errors import CustlensError
from custlens.explain import shap_views
from custlens.explain.aggregates import shap_sample
from custlens.explain.shap_views import Explanation
from custlens.models.tasks import SUPERVISED


@pytest.mark.parametrize("task", SUPERVISED)
def test_values_add_up_to_the_models_raw_score(trained, scored, task: str) -> None:
    features, _ = scored
    rows = features.head(200)
    explanation = shap_views.explain(trained.scorer, rows, task)
    model = shap_views.booster(trained.scorer, task)
    raw = model.predict_margin(rows)  # a single LightGBM model's raw score, or a bag's mean
    total = explanation.values.sum(axis=1).to_numpy() + explanation.base
    np.testing.assert_allclose(total, raw, rtol=1e-6, atol=1e-6)
    assert list(explanation.values.index) == list(rows.index)
    assert "customer_id" not in explanation.values and "as_of" not in explanation.values


def test_labels_come_from_the_catalogue(trained, scored) -> None:
    explanation = shap_views.explain(trained.scorer, scored[0].head(50), "churn")
    assert explanation.label("recency_days") == "Days since last purchase"
    assert explanation.label("btyd_p_alive") == "Chance still active (BG/NBD)"
    assert all(label[:1].isupper() for label in explanation.labels.values())


def test_attribute_and_unknown_columns_get_readable_labels() -> None:
    assert shap_views.label_of("attr_age_band", {}) == "Customer age band"
    assert shap_views.label_of("some_new_col", {}) == "Some new col"
    assert shap_views.label_of("x", {"x": "Known"}) == "Known"


def test_importance_is_the_mean_absolute_value_largest_first() -> None:
    values = pd.DataFrame({"a": [1.0, -3.0], "b": [0.5, 0.5], "c": [-2.0, 0.0]})
    explanation = Explanation("churn", values, 0.0, values.copy(), {})
    importance = shap_views.importance(explanation)
    assert list(importance.index) == ["a", "c", "b"]
    assert importance["a"] == pytest.approx(2.0)
    assert shap_views.top_columns(explanation, 2) == ["a", "c"]


def _explanation(x: np.ndarray, effect: np.ndarray) -> Explanation:
    data = pd.DataFrame({"recency_days": x, "country": ["UK"] * len(x)})
    values = pd.DataFrame({"recency_days": effect, "country": np.zeros(len(x))})
    return Explanation("churn", values, 0.0, data, {"recency_days": "Days since last purchase"})


def test_scoring_date_context_is_never_a_driver() -> None:
    values = pd.DataFrame({"as_of_day_of_year": [3.0, -3.0], "a": [0.1, -0.2]})
    explanation = Explanation("churn", values, 0.0, values.copy(), {})
    assert list(shap_views.importance(explanation).index) == ["a"]
    assert shap_views.top_columns(explanation, 5) == ["a"]


def test_reading_follows_the_direction_of_the_effect() -> None:
    x = np.arange(50, dtype=float)
    rising = _explanation(x, 0.1 * x)
    falling = _explanation(x, -0.1 * x)
    assert shap_views.reading(rising, "recency_days") == (
        "The higher the days since last purchase, the higher the churn risk (a clear pattern)."
    )
    assert "the lower the churn risk (a clear pattern)" in shap_views.reading(
        falling, "recency_days"
    )
    loose = _explanation(x, 0.1 * x + np.random.default_rng(0).normal(scale=5.0, size=50))
    assert "(a loose pattern)" in shap_views.reading(loose, "recency_days")
    u_shaped = _explanation(x, (x - x.mean()) ** 2)
    assert "depends on the customer" in shap_views.reading(u_shaped, "recency_days")
    assert np.isnan(shap_views.direction(rising, "country"))


def test_by_segment_averages_absolute_values_within_segments() -> None:
    values = pd.DataFrame({"a": [1.0, -3.0, 2.0], "b": [0.0, 1.0, 1.0]}, index=[10, 11, 12])
    explanation = Explanation("clv", values, 0.0, values.copy(), {"a": "A", "b": "B"})
    segments = pd.Series(["x", "x", "y"], index=[10, 11, 12])
    table = shap_views.by_segment(explanation, segments, top=2)
    assert table.loc["x", "A"] == pytest.approx(2.0) and table.loc["y", "B"] == 1.0
    with pytest.raises(CustlensError, match="segment"):
        shap_views.by_segment(explanation, segments.iloc[:2], top=2)


def test_shap_sample_is_seeded_bounded_and_of_buyers(scored) -> None:
    features = scored[0]
    buyers = int(features["has_purchase"].sum())
    first = shap_sample(features, 100, seed=1)
    assert len(first) == 100 and first.index.equals(shap_sample(features, 100, 1).index)
    assert first["has_purchase"].all() and first.index.is_monotonic_increasing
    assert not first.index.equals(shap_sample(features, 100, seed=2).index)
    assert len(shap_sample(features, 10**9, seed=1)) == buyers
    with pytest.raises(CustlensError):
        shap_sample(features, 0, seed=1)


def test_contribution_table_lists_one_customers_strongest_effects(trained, scored) -> None:
    features = scored[0].head(20)
    explanation = shap_views.explain(trained.scorer, features, "churn")
    row = features.index[3]
    table = shap_views.contribution_table(explanation, row, top=5)
    assert len(table) == 5
    assert table["effect"].abs().is_monotonic_decreasing
    strongest = explanation.values.loc[row].abs().idxmax()
    assert table["feature"].iloc[0] == explanation.label(strongest)
    with pytest.raises(CustlensError, match="not among"):
        shap_views.contribution_table(explanation, -12345)


def test_unknown_task_is_refused(trained, scored) -> None:
    with pytest.raises(CustlensError, match="task must be one of"):
        shap_views.explain(trained.scorer, scored[0].head(5), "upsell")
