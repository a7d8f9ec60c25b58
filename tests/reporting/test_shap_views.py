"""SHAP views as shap's own objects: additivity against the models' own scores, labels,
sampling, readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap

from custlens.errors import CustlensError
from custlens.models.tasks import EXPLAINED
from custlens.reporting import shap_views
from custlens.reporting.aggregates import shap_sample
from custlens.reporting.shap_views import Explained


@pytest.mark.parametrize("task", EXPLAINED)
def test_values_add_up_to_the_models_raw_score(trained, scored, task: str) -> None:
    features, _ = scored
    rows = features.head(200)
    explained = shap_views.explain(trained.scorer, rows, task)
    assert isinstance(explained.shap, shap.Explanation)
    model = trained.scorer.models[task].boosters()[0]
    raw = model.predict_margin(rows)  # a single LightGBM model's raw score, or a bag's mean
    total = explained.shap.values.sum(axis=1) + explained.shap.base_values
    np.testing.assert_allclose(total, raw, rtol=1e-6, atol=1e-6)
    assert list(explained.values.index) == list(rows.index)
    assert "customer_id" not in explained.columns and "as_of" not in explained.columns
    assert explained.shap.data.shape == explained.shap.values.shape


def test_labels_come_from_the_catalogue(trained, scored) -> None:
    explained = shap_views.explain(trained.scorer, scored[0].head(50), "churn")
    assert explained.label("recency_days") == "Days since last purchase"
    assert explained.label("btyd_p_alive") == "Chance still active (BG/NBD)"
    assert all(str(label)[:1].isupper() for label in explained.shap.feature_names)


def test_attribute_and_unknown_columns_get_readable_labels() -> None:
    assert shap_views.label_of("attr_age_band", {}) == "Customer age band"
    assert shap_views.label_of("some_new_col", {}) == "Some new col"
    assert shap_views.label_of("x", {"x": "Known"}) == "Known"


def explained(values: pd.DataFrame, data: pd.DataFrame | None = None, task="churn") -> Explained:
    """An explanation of hand-made values (feature values equal to them unless given)."""
    data = values if data is None else data
    return Explained(
        task,
        shap.Explanation(
            values=values.to_numpy(float),
            base_values=np.zeros(len(values)),
            data=data.apply(pd.to_numeric, errors="coerce").to_numpy(float),
            display_data=data.astype(object).to_numpy(),
            feature_names=[c.replace("_", " ").capitalize() for c in values.columns],
        ),
        list(values.columns),
        values.index,
    )


def test_importance_is_the_mean_absolute_value_largest_first() -> None:
    e = explained(pd.DataFrame({"a": [1.0, -3.0], "b": [0.5, 0.5], "c": [-2.0, 0.0]}))
    importance = shap_views.importance(e)
    assert list(importance.index) == ["a", "c", "b"]
    assert importance["a"] == pytest.approx(2.0)
    assert shap_views.top_columns(e, 2) == ["a", "c"]


def _explained(x: np.ndarray, effect: np.ndarray) -> Explained:
    data = pd.DataFrame({"recency_days": x, "country": ["UK"] * len(x)})
    values = pd.DataFrame({"recency_days": effect, "country": np.zeros(len(x))})
    return explained(values, data)


def test_scoring_date_context_is_never_a_driver() -> None:
    e = explained(pd.DataFrame({"as_of_day_of_year": [3.0, -3.0], "a": [0.1, -0.2]}))
    assert list(shap_views.importance(e).index) == ["a"]
    assert shap_views.top_columns(e, 5) == ["a"]
    assert list(e.view().feature_names) == ["A"]  # the global plots leave it out too


def test_reading_follows_the_direction_of_the_effect() -> None:
    x = np.arange(50, dtype=float)
    rising = _explained(x, 0.1 * x)
    falling = _explained(x, -0.1 * x)
    assert shap_views.reading(rising, "recency_days") == (
        "The higher the recency days, the higher the churn risk (a clear pattern)."
    )
    assert "the lower the churn risk (a clear pattern)" in shap_views.reading(
        falling, "recency_days"
    )
    loose = _explained(x, 0.1 * x + np.random.default_rng(0).normal(scale=5.0, size=50))
    assert "(a loose pattern)" in shap_views.reading(loose, "recency_days")
    u_shaped = _explained(x, (x - x.mean()) ** 2)
    assert "depends on the customer" in shap_views.reading(u_shaped, "recency_days")
    assert np.isnan(shap_views.direction(rising, "country"))


def test_by_segment_averages_absolute_values_within_segments() -> None:
    values = pd.DataFrame({"a": [1.0, -3.0, 2.0], "b": [0.0, 1.0, 1.0]}, index=[10, 11, 12])
    e = explained(values, task="clv")
    segments = pd.Series(["x", "x", "y"], index=[10, 11, 12])
    table = shap_views.by_segment(e, segments, top=2)
    assert table.loc["x", "A"] == pytest.approx(2.0) and table.loc["y", "B"] == 1.0
    with pytest.raises(CustlensError, match="segment"):
        shap_views.by_segment(e, segments.iloc[:2], top=2)


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


def test_unknown_task_is_refused(trained, scored) -> None:
    with pytest.raises(CustlensError, match="no upsell model"):
        shap_views.explain(trained.scorer, scored[0].head(5), "upsell")
