"""Spark fixtures: one local[2] session per test process, a log with hand-made edge cases, and
for the remote routes a real standalone cluster, a Spark Connect server and the DuckDB results
of the scripts they are compared with.

Skipped with the reason only when Java is absent; a missing pyspark is an error (make setup
installs the `spark` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from tests.features.handlog import ROWS, hand_log
from tests.features.test_labels_frames import LATER
from tests.helpers import java_available, run_script

AS_OF = "2024-03-01"
SCORE_AS_OF = "2023-06-01"  # the scripts' day: the log below ends on 2023-06-30


def need_java() -> None:
    """Skip, with the reason, where Java is absent (the only reason a Spark test skips)."""
    if not java_available():
        pytest.skip("Spark tests need Java 17: no java on PATH and no JAVA_HOME")


@pytest.fixture(scope="session")
def spark():
    """A local[2] session with the project's safe settings (loopback, temporary warehouse)."""
    need_java()
    from custlens.engines import EngineSpec
    from custlens.engines.spark import spark_session

    spec = EngineSpec(name="spark", master="local[2]", conf={"spark.sql.shuffle.partitions": "2"})
    with spark_session(spec) as session:
        yield session


@pytest.fixture(scope="session")
def spark_con(spark):
    """The Ibis backend over the session."""
    from custlens.engines.spark import backend

    return backend(spark)


@pytest.fixture(scope="session")
def mixed_log() -> pd.DataFrame:
    """A synthetic log (two years up to 2024-06-30) plus the hand-written edge cases."""
    log, _ = generate_transactions(250, start="2022-03-01", end="2024-06-30", seed=11)
    edge = hand_log(ROWS + LATER)
    return pd.concat([log, edge[log.columns]], ignore_index=True)


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A standalone master and two one-core workers on 127.0.0.1, for this test process."""
    need_java()
    from tests.spark.cluster import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("spark-cluster"))
    yield cluster
    cluster.processes.stop()


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory):
    """A Spark Connect server (a local[2] driver) on 127.0.0.1, for this test process."""
    need_java()
    from tests.spark.cluster import start_connect

    server = start_connect(tmp_path_factory.mktemp("spark-connect"))
    yield server
    server.processes.stop()


@dataclass
class Reference:
    """A CSV log, a registered scorer and what the scripts write from them on DuckDB (the
    features only once a test asks for them: the tests that do are in the slow tier)."""

    folder: Path
    features_args: list[str]  # scripts/build_features.py, less output=
    score_args: list[str]  # scripts/score.py, less output=
    scores: pd.DataFrame

    @cached_property
    def features(self) -> pd.DataFrame:
        out = self.folder / "features.parquet"
        done = run_script("build_features", *self.features_args, f"output={out}")
        assert done.returncode == 0, done.stderr[-3000:]
        return pd.read_parquet(out)


def as_read(features: pd.DataFrame) -> pd.DataFrame:
    """Written features as read back, comparable whoever wrote them: text as pandas strings,
    rows by customer (a Parquet folder written by Spark has no row order)."""
    text = {c: "string" for c in features.columns if features[c].dtype in (object, "category")}
    return features.astype(text).sort_values("customer_id", ignore_index=True)


@pytest.fixture(scope="module")
def duckdb_reference(request: pytest.FixtureRequest, tmp_path_factory) -> Reference:
    """scripts/build_features.py and scripts/score.py on DuckDB: what Spark must reproduce."""
    import mlflow

    from custlens.scoring.batch import features_as_of
    from custlens.tracking import registry
    from custlens.tracking.mlflow_io import use_store

    need_java()  # before training the scorer
    trained = request.getfixturevalue("trained")
    folder = tmp_path_factory.mktemp("reference")
    uri = f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"
    use_store(uri, "custlens")
    log, _ = generate_transactions(500, start="2021-01-01", end="2023-06-30", seed=21)
    csv = folder / "log.csv"
    log.to_csv(csv, index=False)
    example = features_as_of(log, "2023-05-01", trained.scorer).head(200)
    with mlflow.start_run():
        info = registry.log_scorer(trained.scorer, example)
    name = "custlens-transactions_csv"
    registry.promote(name, registry.register(info.model_uri, name, {}))
    data = ["data=transactions_csv", f"data.path={csv}", f"as_of={SCORE_AS_OF}"]
    features_args = [*data, "tracking=disabled", f"hydra.run.dir={folder / 'h'}"]
    score_args = [*data, f"tracking.uri={uri}", f"hydra.run.dir={folder / 'h'}"]
    scores = folder / "scores.parquet"
    done = run_script("score", *score_args, f"output={scores}")
    assert done.returncode == 0, done.stderr[-3000:]
    return Reference(folder, features_args, score_args, pd.read_parquet(scores))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files that open a Connect session in the test process run first: pyspark allows one
    mode per process, and a classic session (the session-wide `spark`) stays open once
    started, while custlens ends Connect mode with the Connect session. Under
    `--dist loadfile` the first file sent to a worker is the first it runs."""
    connect = {item.path for item in items if "connect_con" in getattr(item, "fixturenames", ())}
    items[:] = sorted(items, key=lambda item: item.path not in connect)  # stable otherwise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing test that used the cluster or the Connect server shows their logs."""
    report = yield
    if report.failed:
        for name in ("spark_cluster", "connect_server"):
            daemons = getattr(item, "funcargs", {}).get(name)
            if daemons is not None:
                report.sections.append((f"{name} logs", daemons.log_tails()))
    return report
