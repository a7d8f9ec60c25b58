"""Through Spark Connect (`engine.master=sc://127.0.0.1:PORT`) custlens computes exactly what
DuckDB computes: every feature, label and training-frame column, and the scripts' features and
scores.

The server (tests/spark/cluster.py) is a local[2] driver on loopback started from pyspark's
jars; this process is only its client (pyspark's Connect client: grpcio and friends, in the
`spark` extra). The scorer, loaded by this process from the tracking store, travels with the
job to the server's Python workers, which score and write the rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from custlens.engines import EngineSpec, open_engine
from tests.helpers import run_script
from tests.spark import test_parity as parity
from tests.spark.conftest import SCORE_AS_OF, Reference, as_read
from tests.spark.test_scoring import as_written


def test_connect_mode_ends_with_the_session(connect_server) -> None:
    """pyspark marks the whole process as Connect when a Connect session starts; custlens
    undoes that when the session ends, so classic sessions (and scripts run from here) work.
    First in the file: no Connect session is open yet in this process."""
    from pyspark.sql.utils import is_remote

    assert not is_remote(), "a Connect session is already open in this test process"
    with open_engine(EngineSpec(name="spark", master=connect_server.url)):
        assert is_remote()
    assert not is_remote() and "SPARK_CONNECT_MODE_ENABLED" not in os.environ


@pytest.fixture(scope="module")
def connect_con(connect_server):
    """The Ibis backend over a Connect session, as `open_engine` opens it for the scripts."""
    spec = EngineSpec(
        name="spark", master=connect_server.url, conf={"spark.sql.shuffle.partitions": "2"}
    )
    with open_engine(spec) as con:
        yield con


def test_the_session_is_a_connect_client(connect_con) -> None:
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = connect_con._session  # Ibis keeps the session there, with no public accessor
    assert isinstance(session, ConnectSession)
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.range(10).count() == 10  # computed by the server


def test_every_feature_matches(mixed_log: pd.DataFrame, connect_con) -> None:
    parity.check_features(mixed_log, connect_con)


def test_every_label_matches(mixed_log: pd.DataFrame, connect_con) -> None:
    parity.check_labels(mixed_log, connect_con)


def test_rolling_training_frame_matches(
    mixed_log: pd.DataFrame, connect_con, tmp_path: Path
) -> None:
    parity.check_training_frame(mixed_log, connect_con, tmp_path)


def test_nanosecond_parquet_is_refused_with_the_fix(mixed_log, connect_con, tmp_path) -> None:
    parity.check_nanoseconds_refused(mixed_log, connect_con, tmp_path)


def connect_args(url: str) -> list[str]:
    return ["engine=spark", f"engine.master={url}"]


# Slow tier (`make test-all`): the features on Spark are compared in make test by
# test_parity (local[2]) and test_every_feature_matches (Connect), and the Spark write path by
# the scoring tests of the same routes.
@pytest.mark.slow
def test_build_features_through_connect_matches_duckdb(
    connect_server, duckdb_reference: Reference, tmp_path: Path
) -> None:
    out = tmp_path / "features.parquet"
    done = run_script(
        "build_features",
        *duckdb_reference.features_args,
        f"output={out}",
        *connect_args(connect_server.url),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    parity.assert_same(as_read(duckdb_reference.features), as_read(pd.read_parquet(out)))


def test_score_through_connect_matches_duckdb(
    connect_server, duckdb_reference: Reference, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"  # written by the server: one machine, one local disk
    done = run_script(
        "score", *duckdb_reference.score_args, f"output={out}", *connect_args(connect_server.url)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert [p.name for p in out.iterdir() if p.is_dir()] == [f"as_of={SCORE_AS_OF}"]
    assert not list(tmp_path.glob(".scores.parquet.*"))  # the staging folder is gone
    parity.assert_same(as_written(duckdb_reference.scores), as_written(pd.read_parquet(out)))
