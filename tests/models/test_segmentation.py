"""CustomerSegmenter: selection of k, determinism, naming rules, stable ids across retrains."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from custlens.data.synthetic import generate_transactions
from custlens.errors import CustlensError
from custlens.features.build import build_features
from custlens.models.estimators.segment_names import PROSPECT_ID
from custlens.models.estimators.segmentation import (
    DEFAULT_FEATURES,
    PROFILE_FEATURES,
    CustomerSegmenter,
)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate_transactions(3000, seed=1)[0]


@pytest.fixture(scope="module")
def features(log: pd.DataFrame) -> pd.DataFrame:
    return build_features(log, "2023-06-30").set_index("customer_id")


@pytest.fixture(scope="module")
def earlier(log: pd.DataFrame) -> pd.DataFrame:
    return build_features(log, "2023-03-31").set_index("customer_id")


# Id-stability tests hold k fixed: they are about matching, not about choosing k.
FIXED_K = (4, 4)


@pytest.fixture(scope="module")
def fitted(features: pd.DataFrame) -> CustomerSegmenter:
    return CustomerSegmenter().fit(features)


@pytest.fixture(scope="module")
def model_a(earlier: pd.DataFrame) -> CustomerSegmenter:
    return CustomerSegmenter(k_range=FIXED_K).fit(earlier)


def test_k_is_chosen_in_range_by_silhouette(fitted: CustomerSegmenter) -> None:
    selection = fitted.selection_
    assert list(selection["k"]) == [4, 5, 6, 7, 8]
    assert np.isfinite(selection[["silhouette", "davies_bouldin"]].to_numpy()).all()
    assert selection["bic"].isna().all()
    assert 4 <= fitted.n_segments_ <= 8
    best = selection.loc[selection["silhouette"].idxmax(), "k"]
    assert fitted.n_segments_ == best


def test_predict_on_training_rows_gives_the_fit_labels(
    fitted: CustomerSegmenter, features: pd.DataFrame
) -> None:
    assert np.array_equal(fitted.predict(features), fitted.labels_)
    assert fitted.predict(features).dtype.kind == "i"
    assert set(fitted.labels_) == set(range(fitted.n_segments_))


def test_ids_follow_mean_value_without_previous(fitted: CustomerSegmenter) -> None:
    segments = fitted.segments_.drop(PROSPECT_ID)
    assert segments["monetary_total_mean"].is_monotonic_decreasing
    assert list(segments.index) == list(range(fitted.n_segments_))


def test_same_seed_same_segments(fitted: CustomerSegmenter, features: pd.DataFrame) -> None:
    again = CustomerSegmenter().fit(features)
    assert np.array_equal(again.labels_, fitted.labels_)
    assert np.array_equal(pickle.loads(pickle.dumps(again)).predict(features), fitted.labels_)
    pd.testing.assert_frame_equal(again.segments_, fitted.segments_)
    pd.testing.assert_frame_equal(again.selection_, fitted.selection_)


def test_segments_have_unique_names_descriptions_and_actions(fitted: CustomerSegmenter) -> None:
    segments = fitted.segments_
    assert segments.index.is_unique and PROSPECT_ID in segments.index
    assert segments["name"].is_unique
    for column in ("name", "description", "action"):
        assert segments[column].str.len().gt(0).all(), column
    assert set(segments["size"].drop(PROSPECT_ID)) == set(
        pd.Series(fitted.labels_).value_counts().drop(PROSPECT_ID, errors="ignore")
    )
    assert segments["share"].sum() == pytest.approx(1.0)
    for column in PROFILE_FEATURES:
        assert f"{column}_mean" in fitted.profile_ and f"{column}_median" in fitted.profile_


def test_predict_named(fitted: CustomerSegmenter, features: pd.DataFrame) -> None:
    named = fitted.predict_named(features.head(50))
    assert list(named.columns) == ["segment_id", "segment_name", "segment_action"]
    assert named.index.equals(features.index[:50])
    names = fitted.segments_["name"]
    assert (named["segment_name"] == names.loc[named["segment_id"]].to_numpy()).all()


def test_customers_without_purchase_are_prospects(
    log: pd.DataFrame, fitted: CustomerSegmenter
) -> None:
    customers = pd.DataFrame({"customer_id": ["NEW1", "NEW2"]})
    table = build_features(log, "2023-06-30", customers=customers).set_index("customer_id")
    named = fitted.predict_named(table)
    assert (named.loc[["NEW1", "NEW2"], "segment_id"] == PROSPECT_ID).all()
    assert (named.loc[["NEW1", "NEW2"], "segment_name"] == "Prospects").all()
    model = CustomerSegmenter(k_range=(3, 3)).fit(table)
    assert model.labels_[table.index.get_indexer(["NEW1", "NEW2"])].tolist() == [-1, -1]
    assert model.segments_.at[PROSPECT_ID, "size"] == 2
    assert (model.labels_ != PROSPECT_ID).sum() == table["has_purchase"].sum()


def test_gmm_is_chosen_by_bic(features: pd.DataFrame) -> None:
    model = CustomerSegmenter(method="gmm", k_range=(3, 5), sample_size=1000).fit(features)
    selection = model.selection_
    assert np.isfinite(selection[["silhouette", "davies_bouldin", "bic"]].to_numpy()).all()
    assert model.n_segments_ == selection.loc[selection["bic"].idxmin(), "k"]
    assert model.segments_["name"].is_unique
    assert np.array_equal(model.predict(features), model.labels_)


def _agreement(first: pd.Series, second: pd.Series) -> float:
    common = first.index.intersection(second.index)
    return float((first[common] == second[common]).mean())


def test_previous_keeps_ids_stable(
    model_a: CustomerSegmenter, earlier: pd.DataFrame, features: pd.DataFrame
) -> None:
    with_previous = CustomerSegmenter(k_range=FIXED_K, previous=model_a).fit(features)
    without = CustomerSegmenter(k_range=FIXED_K).fit(features)
    ids_a = pd.Series(model_a.labels_, index=earlier.index)
    kept = _agreement(ids_a, pd.Series(with_previous.labels_, index=features.index))
    assert kept >= _agreement(ids_a, pd.Series(without.labels_, index=features.index))
    # customers who bought nothing in between mostly keep their segment
    same = earlier.index[earlier["frequency"] == features.loc[earlier.index, "frequency"]]
    assert _agreement(ids_a[same], pd.Series(with_previous.labels_, features.index)) > 0.6
    # segments matched to a close old centroid keep the old id and the old name
    matching = with_previous.matching_
    close = matching[matching["distance"] < 0.5]
    assert len(close) >= with_previous.n_segments_ - 1
    assert (close.index == close["previous_id"]).all()
    old, new = model_a.segments_["name"], with_previous.segments_["name"]
    assert (old.loc[close.index] == new.loc[close.index]).mean() >= 0.75


def test_previous_ids_win_over_value_order(
    model_a: CustomerSegmenter, features: pd.DataFrame
) -> None:
    renamed = copy.deepcopy(model_a)  # the same model with its ids reversed
    reverse = np.arange(model_a.n_segments_)[::-1]
    renamed.segment_ids_ = reverse[model_a.segment_ids_]
    plain = CustomerSegmenter(k_range=FIXED_K).fit(features)
    matched = CustomerSegmenter(k_range=FIXED_K, previous=renamed).fit(features)
    assert plain.n_segments_ == model_a.n_segments_
    assert np.array_equal(matched.labels_[plain.labels_ >= 0], reverse[plain.labels_])


def test_unmatched_clusters_get_fresh_ids(
    model_a: CustomerSegmenter, features: pd.DataFrame
) -> None:
    more = CustomerSegmenter(k_range=(5, 5), previous=model_a).fit(features)
    previous_ids = set(model_a.segments_.index) - {PROSPECT_ID}
    new_ids = set(more.segments_.index) - {PROSPECT_ID}
    assert previous_ids < new_ids
    assert new_ids - previous_ids == {max(previous_ids) + 1}
    fresh = more.matching_.loc[max(previous_ids) + 1]
    assert fresh["previous_id"] == PROSPECT_ID and np.isnan(fresh["distance"])
    fewer = CustomerSegmenter(k_range=(3, 3), previous=model_a).fit(features)
    assert set(fewer.segments_.index) - {PROSPECT_ID} <= previous_ids


def _group(rng: np.random.Generator, n: int, **ranges: tuple[float, float] | float) -> dict:
    return {
        name: rng.uniform(*spec, n) if isinstance(spec, tuple) else np.full(n, spec, dtype=float)
        for name, spec in ranges.items()
    }


def hand_table() -> tuple[pd.DataFrame, np.ndarray]:
    """Five clearly separated behaviours; the group sizes put every group between quartiles."""
    rng = np.random.default_rng(0)
    nan = np.nan
    groups = {
        "champions": _group(rng, 20, recency_days=(1, 5), frequency=30, monetary_total=(3e3, 5e3),
                            tenure_days=(600, 800), orders_365d=12, revenue_365d=(1500, 2500),
                            trend_orders_90_365d=(1.0, 1.2), overdue_ratio=(0.2, 0.6)),
        "newcomers": _group(rng, 20, recency_days=(10, 30), frequency=1, monetary_total=(70, 90),
                            orders_365d=1, trend_orders_90_365d=365 / 90, overdue_ratio=nan),
        "loyal": _group(rng, 40, recency_days=(60, 90), frequency=12, monetary_total=(300, 400),
                        tenure_days=(400, 500), orders_365d=8, revenue_365d=(200, 300),
                        trend_orders_90_365d=(0.9, 1.1), overdue_ratio=(0.8, 1.2)),
        "hibernating": _group(rng, 40, recency_days=(250, 330), frequency=2,
                              monetary_total=(40, 60), tenure_days=(500, 600), orders_365d=1,
                              trend_orders_90_365d=0.0, overdue_ratio=(1.2, 1.6)),
        "lost": _group(rng, 40, recency_days=(700, 800), frequency=1, monetary_total=(10, 30),
                       orders_365d=0, revenue_365d=0.0, trend_orders_90_365d=nan,
                       overdue_ratio=nan),
    }  # fmt: skip
    frames = []
    for name, columns in groups.items():
        frame = pd.DataFrame(columns)
        frame["frequency"] = frame["frequency"].astype(int)
        frame["tenure_days"] = frame.get("tenure_days", frame["recency_days"])
        frame["revenue_365d"] = frame.get("revenue_365d", frame["monetary_total"])
        frame["monetary_mean"] = frame["monetary_total"] / frame["frequency"]
        frame["return_ratio"] = 0.0
        frame["group"] = name
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table["has_purchase"] = True
    return table.drop(columns="group"), table["group"].to_numpy()


def test_naming_rules_on_a_hand_made_population() -> None:
    table, groups = hand_table()
    model = CustomerSegmenter(k_range=(5, 5)).fit(table)
    crossed = pd.crosstab(groups, model.labels_)
    assert ((crossed > 0).sum(axis=1) == 1).all()  # each group is one segment
    names = model.segments_["name"]
    named = {group: names[crossed.loc[group].idxmax()] for group in crossed.index}
    assert named == {
        "champions": "Champions",
        "newcomers": "Promising newcomers",
        "loyal": "Loyal",
        "hibernating": "Hibernating",
        "lost": "Lost",
    }
    assert names.loc[0] == "Champions"  # the most valuable segment has id 0
    lost = model.segments_.loc[names == "Lost"].iloc[0]
    assert lost["action"] == "Suppress or last-chance offer"
    assert lost["description"].startswith("40 customers (25%): typically bought once, last 7")


def test_clone_get_params_and_not_fitted(features: pd.DataFrame) -> None:
    model = CustomerSegmenter(method="gmm", k_range=(3, 4), random_state=7)
    params = model.get_params()
    assert params["method"] == "gmm" and params["k_range"] == (3, 4)
    assert params["features"] == DEFAULT_FEATURES and params["previous"] is None
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    with pytest.raises(NotFittedError):
        model.predict(features)
    with pytest.raises(NotFittedError):
        model.predict_named(features)


def test_bad_input_raises_custlens_error(
    features: pd.DataFrame, model_a: CustomerSegmenter
) -> None:
    with pytest.raises(CustlensError, match="overdue_ratio"):
        CustomerSegmenter().fit(features.drop(columns="overdue_ratio"))
    with pytest.raises(CustlensError, match="method"):
        CustomerSegmenter(method="dbscan").fit(features)
    with pytest.raises(CustlensError, match="k_range"):
        CustomerSegmenter(k_range=(1, 3)).fit(features)
    with pytest.raises(CustlensError, match="previous"):
        CustomerSegmenter(k_range=(3, 3), previous=clone(model_a)).fit(features)
    with pytest.raises(CustlensError, match="missing|lacks"):
        model_a.predict(features.drop(columns="has_purchase"))
