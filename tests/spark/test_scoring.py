"""The exported scorer on Spark (MLflow spark_udf) gives exactly the in-process scores."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from custlens.scoring.batch import score_features, scoring_features
from custlens.scoring.scorer import OUTPUT_COLUMNS
from custlens.tracking import registry
from custlens.tracking.mlflow_io import use_store
from tests.spark.test_parity import assert_same

AS_OF = "2023-06-15"


def as_written(scores: pd.DataFrame) -> pd.DataFrame:
    """Text as pandas strings and timestamps in ns, as both routes read back from Parquet."""
    text = {c: "string" for c in scores.columns if scores[c].dtype == object}
    return scores.astype({**text, "as_of": "datetime64[ns]"})


@pytest.fixture(scope="module")
def logged(trained, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's trained scorer logged to a throwaway MLflow store; its model URI."""
    store = tmp_path_factory.mktemp("mlruns") / "mlflow.db"
    use_store(f"sqlite:///{store}", "custlens")
    example = scoring_features(trained.loaded.transactions, "2023-05-01", trained.scorer)
    with mlflow.start_run():
        info = registry.log_scorer(trained.scorer, example.head(200))
    return info.model_uri


def test_every_score_column_matches(trained, logged: str, spark, tmp_path: Path) -> None:
    from custlens.scoring import spark as on_spark

    scorer = registry.load_scorer(logged)
    features = scoring_features(trained.loaded.transactions, AS_OF, scorer)
    local = score_features(features, scorer, threads=1)
    udf, inputs = registry.spark_scorer_udf(spark, logged)
    frame = on_spark.to_spark(spark, features, partitions=2)
    scored = on_spark.apply_scorer(frame, udf, inputs, scorer.model_version)
    scored.write.partitionBy("as_of").parquet(str(tmp_path / "scores.parquet"))
    assert [p.name for p in (tmp_path / "scores.parquet").glob("as_of=*")] == ["as_of=2023-06-15"]
    back = on_spark.read_scores(spark, str(tmp_path / "scores.parquet"))
    back = back.sort_values("customer_id", ignore_index=True)
    assert list(back.columns) == list(OUTPUT_COLUMNS)
    assert local["top_reasons"].str.len().gt(0).any()
    assert_same(as_written(local), back)
