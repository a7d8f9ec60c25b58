"""Spark sessions for the Ibis PySpark backend, safe by default on one machine.

A `local[N]` session binds to loopback only (driver, block manager, no web UI), runs its
Python workers with this interpreter, and keeps its warehouse in a temporary folder that is
removed when the session ends. Cluster masters and Spark Connect addresses get only the
settings that do not depend on the machine (UTC, Arrow transfers, the configured `conf`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis

from custlens.engines.spec import EngineSpec
from custlens.errors import CustlensError

LOOPBACK = "127.0.0.1"
COMMON_CONF = {
    "spark.sql.session.timeZone": "UTC",  # timestamps mean the same on driver and executors
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # pandas <-> Spark through Arrow
    "spark.ui.showConsoleProgress": "false",
}


def require_pyspark() -> Any:
    """The pyspark module, or one clear message naming the extra that installs it."""
    try:
        import pyspark
    except ImportError:
        raise CustlensError(
            "engine=spark needs pyspark: install the extra with pip install '.[spark]' "
            "(or pip install 'custlens[spark]')"
        ) from None
    return pyspark


def is_local(master: str) -> bool:
    """A session whose driver and executors all run in this process's JVM."""
    return master == "local" or master.startswith("local[")


def local_conf(warehouse: str, shuffle_partitions: int = 4) -> dict[str, str]:
    """Loopback-only settings for a local session, with its own warehouse folder.

    Few shuffle partitions: on a few cores Spark's default of 200 costs more than it saves.
    """
    return {
        "spark.ui.enabled": "false",
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        "spark.sql.warehouse.dir": warehouse,
        "spark.local.dir": warehouse,
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
    }


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (home and os.path.exists(os.path.join(home, "bin"))):
        raise CustlensError("engine=spark needs Java 17 (java on PATH or JAVA_HOME)")


@contextmanager
def spark_session(spec: EngineSpec) -> Iterator[Any]:
    """A Spark session as configured, stopped (and its temporary folder removed) afterwards."""
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(spec.app_name)
    conf = dict(COMMON_CONF)
    warehouse = None
    if spec.master.startswith("sc://"):
        builder = builder.remote(spec.master)
    else:
        _check_java()
        builder = builder.master(spec.master)
        if is_local(spec.master):
            # Read by the JVM and the Python workers when they start, so set before the session.
            os.environ["SPARK_LOCAL_IP"] = LOOPBACK
            os.environ["PYSPARK_PYTHON"] = sys.executable
            os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
            warehouse = tempfile.mkdtemp(prefix="custlens-spark-")
            conf.update(local_conf(warehouse))
    conf.update(spec.conf)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not spec.master.startswith("sc://"):  # Connect sessions have no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        if warehouse:
            shutil.rmtree(warehouse, ignore_errors=True)


def backend(session: Any) -> ibis.BaseBackend:
    """The Ibis backend over a Spark session."""
    return ibis.pyspark.connect(session)


def session_of(con: ibis.BaseBackend) -> Any:
    """The Spark session under an Ibis PySpark backend (Ibis keeps it as `_session`)."""
    return con._session  # Ibis offers no public accessor
