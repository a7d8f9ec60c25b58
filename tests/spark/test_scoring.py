"""scripts/score.py engine=spark: the executors' scores are exactly the DuckDB scores.

One registered scorer, one CSV log, the same command on both engines (the DuckDB run is the
`duckdb_reference` fixture's): every output column must match, and the Spark output is a
Parquet folder partitioned by as_of, renamed into place or committed by Spark at an address.
"""

from __future__ import annotations

import pandas as pd

from tests.helpers import run_script
from tests.spark.conftest import SCORE_AS_OF, Reference
from tests.spark.test_parity import assert_same


def as_written(scores: pd.DataFrame) -> pd.DataFrame:
    """Columns by name (Spark reads the partition column last), text as pandas strings and
    as_of in ns, as read back."""
    scores = scores[sorted(scores.columns)]
    text = {c: "string" for c in scores.columns if scores[c].dtype in (object, "category")}
    return scores.astype({**text, "as_of": "datetime64[ns]"}).sort_values(
        "customer_id", ignore_index=True
    )


def test_score_script_on_spark_matches_duckdb(duckdb_reference: Reference, tmp_path) -> None:
    common = [*duckdb_reference.score_args, "engine=spark"]
    spark_out = tmp_path / "spark.parquet"
    spark = run_script("score", *common, f"output={spark_out}")
    assert spark.returncode == 0, spark.stderr[-3000:]
    assert [p.name for p in spark_out.iterdir() if p.is_dir()] == [f"as_of={SCORE_AS_OF}"]
    assert not list(tmp_path.glob(".spark.parquet.*"))  # the staging folder is gone
    expected = as_written(duckdb_reference.scores)
    assert (expected["model_version"] == "custlens-transactions_csv/1").all()
    assert_same(expected, as_written(pd.read_parquet(spark_out)))
    again = run_script("score", *common, f"output={spark_out}")
    assert again.returncode == 2 and "overwrite=true" in again.stderr
    # A Hadoop file-system address is written and committed by Spark itself, no local rename.
    address = f"file://{tmp_path / 'remote.parquet'}"
    remote = run_script("score", *common, f"output={address}")
    assert remote.returncode == 0, remote.stderr[-3000:]
    assert (tmp_path / "remote.parquet" / "_SUCCESS").exists()
    assert_same(expected, as_written(pd.read_parquet(tmp_path / "remote.parquet")))
    twice = run_script("score", *common, f"output={address}")
    assert twice.returncode == 2 and "overwrite=true" in twice.stderr
    csv_out = run_script("score", *common, f"output={tmp_path / 's.csv'}")
    assert csv_out.returncode == 2 and "must end in .parquet" in csv_out.stderr
