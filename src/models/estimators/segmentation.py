"""Behavioural customer segments: clustering with rule-based names and stable ids.

`CustomerSegmenter` clusters the customers who have bought (``has_purchase`` true) on a compact
set of behavioural features. Customers without a purchase yet (rows of a customer table) are not
clustered: they get the reserved id ``PROSPECT_ID`` (-1), named "Prospects".

Pipeline: select the features, fill NaN with neutral values (`NeutralImputer`), signed log
``sign(x) * log1p(|x|)`` on skewed money and count columns, RobustScaler, then KMeans
(``n_init=10``) or a full-covariance GaussianMixture. The number of segments k is chosen in
``k_range`` (inclusive): highest silhouette for kmeans, lowest BIC for gmm, ties to the smaller k.

Segment ids: without ``previous`` they are ordered by descending mean ``monetary_total`` (id 0
is the most valuable segment). With ``previous`` (a fitted segmenter), each segment of the old
model is placed in the new scaled space as the mean of the new training rows the old model
assigns to it. This compares both models on the same customers and the same scale, whatever
the old scaler, features or method were (transforming old centroids would need an inverse of
the imputer, which does not exist). New clusters are matched to old ids by the Hungarian
algorithm on Euclidean centroid distance; unmatched new clusters get fresh ids above the old
maximum, in value order. Note that `sklearn.base.clone` unfits ``previous`` like any estimator
parameter: pass a fitted model again after cloning.

Names, descriptions and actions follow the rule table of `segment_names` (beside this module).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, RobustScaler
from sklearn.utils.validation import check_is_fitted

from custlens.errors import CustlensError
from custlens.models.estimators.segment_names import PROSPECT_ID, name_segments
from custlens.models.rules import has_purchase, require_columns

METHODS = ("kmeans", "gmm")
DEFAULT_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "orders_365d",
    "revenue_365d",
    "trend_orders_90_365d",
    "overdue_ratio",
    "return_ratio",
)
PROFILE_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "tenure_days",
    "orders_365d",
    "trend_orders_90_365d",
    "return_ratio",
)
# Heavy right tails: without the log a few big accounts would own whole clusters.
LOG_FEATURES = frozenset({"frequency", "overdue_ratio", "distinct_products", "cancelled_orders"})
LOG_PREFIXES = ("monetary_", "orders_", "revenue_")


CLIP = 3.0  # robust-scaled units (about three interquartile ranges)


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``: a log that keeps the sign (net revenue can be negative)."""
    return np.sign(x) * np.log1p(np.abs(x))


class NeutralImputer(TransformerMixin, BaseEstimator):
    """Select `features` and fill NaN with neutral values learnt on the training rows.

    | column            | NaN means                   | filled with                   |
    |-------------------|-----------------------------|-------------------------------|
    | ``overdue_ratio`` | one purchase day, no gap    | ``recency_days / usual_gap_`` |
    | ``trend_*``       | no order in the long window | 0 (none in the short one)     |
    | any other         | ratio over zero             | its training median           |

    ``usual_gap_`` is the training median of ``recency_days / overdue_ratio`` (the customers'
    own median gaps), so a one-off buyer is as overdue as a typical customer would be.
    """

    def __init__(self, features: Sequence[str] = DEFAULT_FEATURES) -> None:
        self.features = features

    def fit(self, X: pd.DataFrame, y: object = None) -> NeutralImputer:
        """Learn the medians and the usual gap."""
        frame = require_columns(X, self.features)[list(self.features)].astype(float)
        self.medians_ = frame.median().fillna(0.0)
        gap = np.nan
        if {"recency_days", "overdue_ratio"} <= set(frame.columns):
            ratio = frame["overdue_ratio"]
            gap = (frame["recency_days"] / ratio.where(ratio > 0)).median()
        self.usual_gap_ = float(gap) if np.isfinite(gap) and gap > 0 else 30.0
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The selected features without NaN."""
        check_is_fitted(self)
        frame = require_columns(X, self.features)[list(self.features)].astype(float)
        if {"recency_days", "overdue_ratio"} <= set(frame.columns):
            derived = frame["recency_days"] / self.usual_gap_
            frame["overdue_ratio"] = frame["overdue_ratio"].fillna(derived)
        for column in [c for c in frame.columns if c.startswith("trend_")]:
            frame[column] = frame[column].fillna(0.0)
        return frame.fillna(self.medians_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The selected feature names."""
        return np.asarray(self.features, dtype=object)


def preprocessor(features: Sequence[str]) -> Pipeline:
    """Impute, signed-log the skewed columns, robust-scale (unfitted)."""
    logged = [f for f in features if f in LOG_FEATURES or f.startswith(LOG_PREFIXES)]
    linear = [f for f in features if f not in logged]
    log = FunctionTransformer(signed_log1p, feature_names_out="one-to-one")
    columns = ColumnTransformer(
        [("signed_log", log, logged), ("linear", "passthrough", linear)],
        verbose_feature_names_out=False,
    )
    # Clipping the scaled values keeps a handful of extreme customers from claiming clusters
    # of their own (silhouette otherwise rewards isolating outliers).
    clip = FunctionTransformer(_clip, feature_names_out="one-to-one")
    return Pipeline(
        [
            ("impute", NeutralImputer(features)),
            ("transform", columns),
            ("scale", RobustScaler()),
            ("clip", clip),
        ]
    )


def _clip(z: np.ndarray) -> np.ndarray:
    return np.clip(z, -CLIP, CLIP)


def segment_profile(frame: pd.DataFrame, ids: np.ndarray, segments: Sequence[int]) -> pd.DataFrame:
    """Size, share, mean and median of `PROFILE_FEATURES` (raw units) per segment id."""
    data = frame[list(PROFILE_FEATURES)].astype(float).set_axis(range(len(frame)))
    grouped = data.groupby(ids)
    size = pd.Series(ids).value_counts().reindex(segments, fill_value=0)
    stats = {}
    for column in PROFILE_FEATURES:
        stats[f"{column}_mean"] = grouped[column].mean()
        stats[f"{column}_median"] = grouped[column].median()
    out = pd.DataFrame(stats).reindex(segments)
    out.insert(0, "share", size / max(len(ids), 1))
    out.insert(0, "size", size)
    out.index.name = "segment_id"
    return out


class CustomerSegmenter(BaseEstimator):
    """Behavioural segments of the customers with a purchase; see the module docstring.

    Learned attributes: `pipeline_` (preprocessing + chosen clusterer), `n_segments_`,
    `selection_` (k, silhouette, davies_bouldin, bic per candidate k), `labels_` (segment id of
    each training row), `segment_ids_` (id of each cluster label), `matching_` (per segment: the
    previous id matched and the centroid distance, NaN without a match), `reference_`
    (population quartiles the naming rules compare with), `profile_` and `segments_` (indexed
    by segment id, -1 = Prospects: name, description, action and the profile columns).
    """

    def __init__(
        self,
        method: str = "kmeans",
        k_range: tuple[int, int] = (4, 8),
        *,
        features: Sequence[str] = DEFAULT_FEATURES,
        random_state: int | None = 0,
        sample_size: int = 20000,
        previous: CustomerSegmenter | None = None,
    ) -> None:
        self.method = method
        self.k_range = k_range
        self.features = features
        self.random_state = random_state
        self.sample_size = sample_size
        self.previous = previous

    def fit(self, X: pd.DataFrame, y: object = None) -> CustomerSegmenter:
        """Choose k, cluster the buyers of `X`, give the segments ids, profiles and names."""
        lo, hi = self._check_params()
        frame = require_columns(X, [*self.features, *PROFILE_FEATURES, "has_purchase"])
        buyers = has_purchase(frame)
        if buyers.sum() <= hi:
            raise CustlensError(f"need more than {hi} customers with a purchase to segment")
        bought = frame.loc[buyers]
        prepare = preprocessor(self.features).fit(bought)
        z = prepare.transform(bought)
        fitted, rows = {}, []
        for k in range(lo, hi + 1):
            model = self._clusterer(k).fit(z)
            fitted[k] = (model, model.predict(z))
            rows.append(self._scores(k, model, z, fitted[k][1]))
        self.selection_ = pd.DataFrame(rows)
        self.n_segments_ = self._choose(self.selection_)
        model, labels = fitted[self.n_segments_]
        self.pipeline_ = Pipeline([("prepare", prepare), ("cluster", model)])
        self.segment_ids_, self.matching_ = self._assign_ids(bought, z, labels)
        self.labels_ = np.full(len(frame), PROSPECT_ID, dtype=int)
        self.labels_[buyers] = self.segment_ids_[labels]
        self.reference_ = bought[list(PROFILE_FEATURES)].astype(float).quantile([0.25, 0.5, 0.75])
        segments = [*sorted(self.segment_ids_), PROSPECT_ID]
        self.profile_ = segment_profile(frame, self.labels_, segments)
        self.segments_ = name_segments(self.profile_, self.reference_)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Segment id of each row (-1 for customers without a purchase)."""
        check_is_fitted(self)
        frame = require_columns(X, [*self.features, "has_purchase"])
        buyers = has_purchase(frame)
        ids = np.full(len(frame), PROSPECT_ID, dtype=int)
        if buyers.any():
            ids[buyers] = self.segment_ids_[self.pipeline_.predict(frame.loc[buyers])]
        return ids

    def predict_named(self, X: pd.DataFrame) -> pd.DataFrame:
        """`segment_id`, `segment_name` and `segment_action` of each row, on the index of `X`."""
        check_is_fitted(self)
        ids = self.predict(X)
        found = self.segments_.loc[ids]
        return pd.DataFrame(
            {
                "segment_id": ids,
                "segment_name": found["name"].to_numpy(),
                "segment_action": found["action"].to_numpy(),
            },
            index=X.index,
        )

    def _check_params(self) -> tuple[int, int]:
        if self.method not in METHODS:
            raise CustlensError(f"method must be one of {METHODS}, got {self.method!r}")
        lo, hi = (int(k) for k in self.k_range)
        if not 2 <= lo <= hi:
            raise CustlensError(f"k_range must satisfy 2 <= low <= high, got {self.k_range}")
        if self.sample_size < 2 * hi:
            raise CustlensError(f"sample_size {self.sample_size} is too small for k={hi}")
        if self.previous is not None:
            try:
                check_is_fitted(self.previous, "segments_")
            except (NotFittedError, TypeError) as error:  # e.g. unfitted by sklearn.clone
                raise CustlensError("`previous` must be a fitted CustomerSegmenter") from error
        return lo, hi

    def _clusterer(self, k: int) -> KMeans | GaussianMixture:
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
        return GaussianMixture(k, covariance_type="full", random_state=self.random_state)

    def _scores(self, k: int, model: object, z: np.ndarray, labels: np.ndarray) -> dict:
        # silhouette is O(n^2): a seeded subsample; undefined with a single non-empty cluster
        silhouette = davies_bouldin = np.nan
        if len(np.unique(labels)) > 1:
            size = self.sample_size if len(z) > self.sample_size else None
            silhouette = silhouette_score(
                z, labels, sample_size=size, random_state=self.random_state
            )
            davies_bouldin = davies_bouldin_score(z, labels)
        bic = model.bic(z) if isinstance(model, GaussianMixture) else np.nan
        return {"k": k, "silhouette": silhouette, "davies_bouldin": davies_bouldin, "bic": bic}

    def _choose(self, selection: pd.DataFrame) -> int:
        # idxmax/idxmin return the first best row: ties go to the smaller k
        if self.method == "kmeans":
            score = selection["silhouette"].fillna(-np.inf)
            return int(selection.at[score.idxmax(), "k"])
        return int(selection.at[selection["bic"].idxmin(), "k"])

    def _assign_ids(
        self, bought: pd.DataFrame, z: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """Segment id per cluster label, and the match with `previous` (see module docstring)."""
        k = self.n_segments_
        value = pd.Series(bought["monetary_total"].to_numpy(float)).groupby(labels).mean()
        by_value = value.reindex(range(k)).sort_values(ascending=False, kind="stable").index
        ids = np.full(k, PROSPECT_ID, dtype=int)
        matched = pd.DataFrame({"previous_id": PROSPECT_ID, "distance": np.nan}, index=range(k))
        fresh = 0
        if self.previous is not None:
            before = self.previous.predict(bought)
            old_ids = np.unique(before[before != PROSPECT_ID])
            cost = cdist(_centroids(z, labels, range(k)), _centroids(z, before, old_ids))
            cost = np.nan_to_num(cost, nan=np.nanmax(cost, initial=0.0) * 10 + 1)
            rows, cols = linear_sum_assignment(cost)
            ids[rows] = old_ids[cols]
            matched.loc[rows, "previous_id"] = old_ids[cols]
            matched.loc[rows, "distance"] = cost[rows, cols]
            fresh = int(self.previous.segments_.index.max()) + 1
        for label in by_value:
            if ids[label] == PROSPECT_ID:
                ids[label], fresh = fresh, fresh + 1
        matched.index = pd.Index(ids[matched.index], name="segment_id")
        return ids, matched.sort_index()


def _centroids(z: np.ndarray, labels: np.ndarray, groups: Sequence[int]) -> np.ndarray:
    """Mean row of `z` per group (NaN for a group without rows)."""
    return pd.DataFrame(z).groupby(labels).mean().reindex(groups).to_numpy()
