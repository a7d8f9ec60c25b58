"""scripts/score.py engine=spark: the executors' scores are exactly the DuckDB scores.

One registered scorer, one CSV log, the same command on both engines: every output column
must match, and the Spark output is a Parquet folder partitioned by as_of, renamed into place.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from custlens.scoring.batch import features_as_of
from custlens.scoring.scorer import OUTPUT_COLUMNS
from custlens.tracking import registry
from custlens.tracking.mlflow_io import use_store
from tests.helpers import java_available, run_script
from tests.spark.test_parity import assert_same

AS_OF = "2023-06-01"


def as_written(scores: pd.DataFrame) -> pd.DataFrame:
    """Columns in output order, text as pandas strings and as_of in ns, as read back."""
    scores = scores[list(OUTPUT_COLUMNS)]
    text = {c: "string" for c in scores.columns if scores[c].dtype in (object, "category")}
    return scores.astype({**text, "as_of": "datetime64[ns]"}).sort_values(
        "customer_id", ignore_index=True
    )


@pytest.mark.skipif(not java_available(), reason="Spark tests need Java 17 (no java found)")
def test_score_script_on_spark_matches_duckdb(trained, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    use_store(uri, "custlens")
    log, _ = generate_transactions(500, start="2021-01-01", end="2023-06-30", seed=21)
    csv = tmp_path / "log.csv"
    log.to_csv(csv, index=False)
    example = features_as_of(log, "2023-05-01", trained.scorer).head(200)
    with mlflow.start_run():
        info = registry.log_scorer(trained.scorer, example)
    registry.promote(
        "custlens-transactions_csv",
        registry.register(info.model_uri, "custlens-transactions_csv", {}),
    )
    common = [
        "data=transactions_csv",
        f"data.path={csv}",
        f"as_of={AS_OF}",
        f"tracking.uri={uri}",
        f"hydra.run.dir={tmp_path / 'h'}",
    ]
    duck_out, spark_out = tmp_path / "duck.parquet", tmp_path / "spark.parquet"
    duck = run_script("score", *common, f"output={duck_out}")
    assert duck.returncode == 0, duck.stderr[-3000:]
    spark = run_script("score", *common, f"output={spark_out}", "engine=spark")
    assert spark.returncode == 0, spark.stderr[-3000:]
    assert [p.name for p in spark_out.iterdir() if p.is_dir()] == [f"as_of={AS_OF}"]
    assert not list(tmp_path.glob(".spark.parquet.*"))  # the staging folder is gone
    expected = as_written(pd.read_parquet(duck_out))
    assert (expected["model_version"] == "custlens-transactions_csv/1").all()
    assert_same(expected, as_written(pd.read_parquet(spark_out)))
    again = run_script("score", *common, f"output={spark_out}", "engine=spark")
    assert again.returncode == 2 and "overwrite=true" in again.stderr
    # A Hadoop file-system address is written and committed by Spark itself, no local rename.
    address = f"file://{tmp_path / 'remote.parquet'}"
    remote = run_script("score", *common, f"output={address}", "engine=spark")
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert (tmp_path / "remote.parquet" / "_SUCCESS").exists()
    assert_same(expected, as_written(pd.read_parquet(tmp_path / "remote.parquet")))
    twice = run_script("score", *common, f"output={address}", "engine=spark")
    assert twice.returncode == 2 and "overwrite=true" in twice.stderr
    csv_out = run_script("score", *common, f"output={tmp_path / 's.csv'}", "engine=spark")
    assert csv_out.returncode == 2 and "must end in .parquet" in csv_out.stderr
