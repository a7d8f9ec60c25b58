"""Spark computes exactly what DuckDB computes: every feature, label and frame column.

The same Ibis definitions run on both engines; integers, booleans and strings must match
exactly, floats to a relative 1e-9.
"""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.errors import DataError
from custlens.features.build import build_features
from custlens.features.frames import data_span, rolling_cutoffs, training_frame
from custlens.features.labels import LABELS, build_labels
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from tests.spark.conftest import AS_OF

SPEC = FeatureSpec(regions={"United Kingdom": "UK & Ireland", "France": "Western Europe"})


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Same columns, dtypes and rows; exact except floats (relative 1e-9)."""
    assert list(spark.columns) == list(duck.columns)
    assert spark.dtypes.astype(str).to_dict() == duck.dtypes.astype(str).to_dict()
    assert len(spark) == len(duck)
    for column in duck.columns:
        exact = not pd.api.types.is_float_dtype(duck[column])
        pd.testing.assert_series_equal(
            spark[column], duck[column], check_exact=exact, rtol=1e-9, obj=column
        )


def customers_table() -> pd.DataFrame:
    """Two known customers and one without a purchase, with an attribute."""
    return pd.DataFrame({"customer_id": ["A", "B", "NEW"], "segment": ["web", "store", "web"]})


def test_every_feature_matches(mixed_log: pd.DataFrame, spark_con) -> None:
    table = customers_table()
    duck = build_features(mixed_log, AS_OF, SPEC, table)
    spark = build_features(mixed_log, AS_OF, SPEC, table, con=spark_con)
    assert len(duck) > 200 and {"A", "D", "NEW"} <= set(duck["customer_id"])
    assert_same(duck, spark)


def test_every_label_matches(mixed_log: pd.DataFrame, spark_con) -> None:
    ids = pd.Series(sorted(set(mixed_log["customer_id"]) - {"E"}))
    spec = LabelSpec(horizon_days=90, repurchase_days=30)
    duck = build_labels(mixed_log, AS_OF, ids, spec)
    spark = build_labels(mixed_log, AS_OF, ids, spec, con=spark_con)
    assert list(duck.columns) == ["customer_id", *LABELS]
    assert duck["churned"].nunique() == 2 and duck["repurchased"].nunique() == 2
    assert_same(duck, spark)


def test_rolling_training_frame_matches(mixed_log: pd.DataFrame, spark_con, tmp_path) -> None:
    path = tmp_path / "log.parquet"  # read from Parquet by each engine
    mixed_log.to_parquet(path, index=False, coerce_timestamps="us")
    assert data_span(path, spark_con) == data_span(path)
    first, last = data_span(path)
    spec = FrameSpec(step_days=60, min_history_days=365, max_cutoffs=2)
    cutoffs = rolling_cutoffs(first, last, 60, spec)
    labels = LabelSpec(horizon_days=60)
    features = FeatureSpec(horizon_days=60)
    duck = training_frame(path, cutoffs, features, labels, customer_share=0.5)
    spark = training_frame(path, cutoffs, features, labels, con=spark_con, customer_share=0.5)
    assert set(duck["as_of"]) == {pd.Timestamp(c) for c in cutoffs}
    assert 0.3 < duck["customer_id"].nunique() / mixed_log["customer_id"].nunique() < 0.7
    assert_same(duck, spark)


def test_nanosecond_parquet_is_refused_with_the_fix(mixed_log, spark_con, tmp_path) -> None:
    path = tmp_path / "nanos.parquet"
    mixed_log.to_parquet(path, index=False)
    with pytest.raises(DataError, match="coerce_timestamps='us'"):
        build_features(path, AS_OF, con=spark_con)
