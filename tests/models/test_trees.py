"""Compiled trees: exactly LightGBM's raw score and pred_contrib, on every kind of split."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from custlens.models.estimators import trees


def data(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with gaps and zeros, and a categorical column (codes 0..5)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[rng.random(n) < 0.15, 0] = np.nan
    x[rng.random(n) < 0.3, 1] = 0.0
    x[:, 2] = rng.integers(0, 6, n)
    x[rng.random(n) < 0.05, 2] = np.nan
    signal = np.nan_to_num(x[:, 0]) + (x[:, 2] == 3) - x[:, 1] * x[:, 3] + 0.5 * x[:, 4]
    return x, signal + rng.normal(scale=0.5, size=n)


SETTINGS = [
    ("binary", {"num_leaves": 7, "max_depth": 3}),  # small trees: whole-tree tables
    ("binary", {"num_leaves": 31}),  # larger trees: per-leaf tables
    ("binary", {"num_leaves": 15, "zero_as_missing": True}),  # "Zero" missing type
    ("tweedie", {"num_leaves": 15}),
    ("quantile", {"num_leaves": 7, "alpha": 0.9}),
    ("binary", {"num_leaves": 4, "min_data_in_leaf": 5000}),  # trees without a split
]


@pytest.mark.parametrize(("objective", "params"), SETTINGS)
def test_contributions_and_raw_score_equal_lightgbm(objective: str, params: dict) -> None:
    x, signal = data(0)
    y = (signal > 0).astype(int) if objective == "binary" else np.exp(signal / 3)
    booster = lgb.train(
        {"objective": objective, "verbose": -1, "learning_rate": 0.1, **params},
        lgb.Dataset(x, y, categorical_feature=[2], free_raw_data=False),
        num_boost_round=40,
    )
    compiled = trees.compile_booster(booster.dump_model())
    fresh, _ = data(1)
    fresh[:5, 2] = 9  # categories never seen in training
    fresh[5:10] = np.nan
    margin, values = trees.contributions(compiled, fresh)
    np.testing.assert_array_equal(margin, booster.predict(fresh, raw_score=True))
    expected = booster.predict(fresh, pred_contrib=True)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_leaf_tables_are_shapley_values_of_the_leaf_game() -> None:
    """One leaf, two path features: Shapley values of g(S) = v prod o_S prod z_(U-S)."""
    z = np.array([0.3, 0.6])
    table = trees.leaf_table(z, 2.0, np.array([0.5, 0.5]))
    for pattern in range(4):
        o = [(pattern >> s) & 1 for s in range(2)]

        def g(subset: set[int], o: list[int] = o) -> float:
            return 2.0 * np.prod([o[j] if j in subset else z[j] for j in range(2)])

        shapley = [
            0.5 * (g({0}) - g(set())) + 0.5 * (g({0, 1}) - g({1})),
            0.5 * (g({1}) - g(set())) + 0.5 * (g({0, 1}) - g({0})),
        ]
        np.testing.assert_allclose(table[pattern], shapley, atol=1e-15)


def test_wrong_width_is_refused() -> None:
    x, signal = data(0, 300)
    booster = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(x, signal), 3)
    with pytest.raises(ValueError, match="6 features"):
        trees.contributions(trees.compile_booster(booster.dump_model()), x[:, :4])
