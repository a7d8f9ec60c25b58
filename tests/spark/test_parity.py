"""Spark computes exactly what DuckDB computes: every feature, label and frame column.

The same Ibis definitions run on both engines; integers, booleans and strings must match
exactly, floats to a relative 1e-9. The checks take the backend, so test_connect.py runs them
through Spark Connect too.
"""

from __future__ import annotations

from pathlib import Path

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


def check_features(log: pd.DataFrame, con) -> None:
    """Every feature column of `build_features` on `con` equals DuckDB's."""
    table = customers_table()
    duck = build_features(log, AS_OF, SPEC, table)
    spark = build_features(log, AS_OF, SPEC, table, con=con)
    assert len(duck) > 200 and {"A", "D", "NEW"} <= set(duck["customer_id"])
    assert_same(duck, spark)


def check_labels(log: pd.DataFrame, con) -> None:
    """Every label of `build_labels` on `con` equals DuckDB's."""
    ids = pd.Series(sorted(set(log["customer_id"]) - {"E"}))
    spec = FeatureSpec(horizon_days=90, repurchase_days=30)
    duck = build_labels(log, AS_OF, ids, spec)
    spark = build_labels(log, AS_OF, ids, spec, con=con)
    assert list(duck.columns) == ["customer_id", *LABELS]
    assert duck["churned"].nunique() == 2 and duck["repurchased"].nunique() == 2
    assert_same(duck, spark)


def check_training_frame(log: pd.DataFrame, con, folder: Path) -> None:
    """A rolling training frame read from Parquet by `con` equals DuckDB's (half the
    customers, two cutoffs)."""
    path = folder / "log.parquet"  # read from Parquet by each engine
    log.to_parquet(path, index=False, coerce_timestamps="us")
    assert data_span(path, con) == data_span(path)
    first, last = data_span(path)
    spec = FrameSpec(step_days=60, min_history_days=365, max_cutoffs=2)
    cutoffs = rolling_cutoffs(first, last, 60, spec)
    labels = LabelSpec()
    features = FeatureSpec(horizon_days=60)
    duck = training_frame(path, cutoffs, features, labels, customer_share=0.5)
    spark = training_frame(path, cutoffs, features, labels, con=con, customer_share=0.5)
    assert set(duck["as_of"]) == {pd.Timestamp(c) for c in cutoffs}
    assert 0.3 < duck["customer_id"].nunique() / log["customer_id"].nunique() < 0.7
    assert_same(duck, spark)


def check_nanoseconds_refused(log: pd.DataFrame, con, folder: Path) -> None:
    """A Parquet log with nanosecond timestamps is refused, naming the fix."""
    path = folder / "nanos.parquet"
    log.to_parquet(path, index=False)
    with pytest.raises(DataError, match="coerce_timestamps='us'"):
        build_features(path, AS_OF, con=con)


def test_every_feature_matches(mixed_log: pd.DataFrame, spark_con) -> None:
    check_features(mixed_log, spark_con)


def test_every_label_matches(mixed_log: pd.DataFrame, spark_con) -> None:
    check_labels(mixed_log, spark_con)


def test_rolling_training_frame_matches(mixed_log: pd.DataFrame, spark_con, tmp_path) -> None:
    check_training_frame(mixed_log, spark_con, tmp_path)


def test_nanosecond_parquet_is_refused_with_the_fix(mixed_log, spark_con, tmp_path) -> None:
    check_nanoseconds_refused(mixed_log, spark_con, tmp_path)


def test_spark_draws_the_same_customer_sample(mixed_log: pd.DataFrame, spark_con) -> None:
    """The training sample and the BTYD fit sample: the same customers as DuckDB and Python."""
    import ibis

    from custlens.features.source import as_table
    from custlens.sampling import stable_mask, stable_share

    ids = pd.Series(mixed_log["customer_id"].astype(str).unique())
    for share in (0.2, 0.7):
        table = as_table(mixed_log, spark_con)
        kept = spark_con.to_pandas(
            table.filter(stable_share(table.customer_id, share)).select("customer_id").distinct()
        )["customer_id"]
        assert set(kept) == set(ids[stable_mask(ids, share)])
        duck = ibis.duckdb.connect()
        local = as_table(mixed_log, duck)
        on_duckdb = duck.to_pandas(
            local.filter(stable_share(local.customer_id, share)).select("customer_id").distinct()
        )["customer_id"]
        assert set(kept) == set(on_duckdb)
