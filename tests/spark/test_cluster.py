"""The scripts on a real standalone cluster give exactly the DuckDB results.

A master and two one-core workers (tests/spark/cluster.py) on 127.0.0.1; scripts/build_features.py
and scripts/score.py run as a user would, with `engine.master=spark://127.0.0.1:PORT`, the driver
bound to loopback through `engine.conf`, and executors of 512 MB running this interpreter
(`spark.pyspark.python`). The master's record of each application shows that both workers gave
it an executor and that the executors ran its tasks: the features were computed, the scores
computed and written, away from the driver.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid

import pandas as pd
import pytest

from tests.helpers import ROOT, run_script
from tests.spark.cluster import LOOPBACK, StandaloneCluster
from tests.spark.conftest import SCORE_AS_OF, Reference, as_read
from tests.spark.test_parity import assert_same
from tests.spark.test_scoring import as_written


def cluster_conf() -> dict[str, str]:
    """What a driver on this machine needs to use the cluster: loopback, small executors, the
    venv's interpreter on the executors (where custlens is installed, editable)."""
    return {
        "spark.driver.host": LOOPBACK,
        "spark.driver.bindAddress": LOOPBACK,
        "spark.ui.enabled": "false",
        "spark.executor.memory": "512m",
        "spark.pyspark.python": sys.executable,
    }


def engine_args(cluster: StandaloneCluster, app: str) -> list[str]:
    """Overrides that point a script at the cluster under the application name `app`."""
    conf = ",".join(f"{key}:'{value}'" for key, value in cluster_conf().items())
    return [
        "engine=spark",
        f"engine.master={cluster.url}",
        f"engine.app_name={app}",
        f"+engine.conf={{{conf}}}",
    ]


def finished_app(cluster: StandaloneCluster, app: str) -> dict:
    """The master's record of the finished application `app` (it may take a moment to move)."""
    deadline = time.monotonic() + 30
    while True:
        apps = cluster.applications(app)
        if len(apps) == 1 and apps[0]["state"] == "FINISHED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [a["state"] for a in apps] == ["FINISHED"], apps
    return apps[0]


def assert_ran_on_both_workers(cluster: StandaloneCluster, app: str) -> None:
    """Both one-core workers gave the application an executor, and executors ran its tasks."""
    record = finished_app(cluster, app)
    assert record["cores"] == 2 and record["memoryperexecutor"] == 512, record
    executors = cluster.executor_dirs(record["id"])
    assert len(executors) == 2, executors
    assert {e.parent.parent for e in executors} == set(cluster.work_dirs)
    tasks = sum((e / "stderr").read_text().count("Finished task") for e in executors)
    assert tasks > 0, cluster.log_tails()


def test_executors_run_this_interpreter_with_custlens(spark_cluster, tmp_path) -> None:
    """A session opened by custlens, as the scripts open it, runs Python on the executors with
    the venv's interpreter, which imports custlens (installed editable) from this checkout."""
    app = f"custlens-probe-{uuid.uuid4().hex[:8]}"
    program = textwrap.dedent(
        f"""
        import json, sys
        from custlens.engines import EngineSpec
        from custlens.engines.spark import spark_session

        def probe(_):
            import custlens, sys
            yield sys.executable, custlens.__file__

        spec = EngineSpec("spark", {spark_cluster.url!r}, {app!r}, {cluster_conf()!r})
        with spark_session(spec) as session:
            rows = session.sparkContext.parallelize(range(4), 4).mapPartitions(probe).collect()
            print(json.dumps(sorted(set(rows))))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == [[sys.executable, str(ROOT / "src" / "__init__.py")]]
    assert_ran_on_both_workers(spark_cluster, app)


# Slow tier (`make test-all`): the features on Spark are compared in make test by
# test_parity (local[2]) and test_every_feature_matches (Connect), and the Spark write path by
# the scoring tests of the same routes.
@pytest.mark.slow
def test_build_features_on_the_cluster_matches_duckdb(
    spark_cluster, duckdb_reference: Reference, tmp_path
) -> None:
    app = f"custlens-features-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "features.parquet"
    done = run_script(
        "build_features",
        *duckdb_reference.features_args,
        f"output={out}",
        *engine_args(spark_cluster, app),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(duckdb_reference.features) > 300
    assert_same(as_read(duckdb_reference.features), as_read(pd.read_parquet(out)))
    assert_ran_on_both_workers(spark_cluster, app)


def test_score_on_the_cluster_matches_duckdb(
    spark_cluster, duckdb_reference: Reference, tmp_path
) -> None:
    app = f"custlens-score-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "scores.parquet"  # written by the executors: one machine, one local disk
    done = run_script(
        "score", *duckdb_reference.score_args, f"output={out}", *engine_args(spark_cluster, app)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert [p.name for p in out.iterdir() if p.is_dir()] == [f"as_of={SCORE_AS_OF}"]
    expected = as_written(duckdb_reference.scores)
    assert (expected["model_version"] == "custlens-transactions_csv/1").all()
    assert_same(expected, as_written(pd.read_parquet(out)))
    assert_ran_on_both_workers(spark_cluster, app)


@pytest.fixture(autouse=True)
def _cluster_settings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripts bind to loopback and pick the executors' Python through engine.conf alone,
    as documented: nothing inherited from a local session started earlier in this process."""
    for variable in ("SPARK_LOCAL_IP", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"):
        monkeypatch.delenv(variable, raising=False)
