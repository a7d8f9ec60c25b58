"""Spark sessions for the Ibis PySpark backend, safe by default on one machine.

A `local[N]` session binds to loopback only (driver, block manager, no web UI), runs its
Python workers with this interpreter, and keeps its warehouse in a temporary folder that is
removed when the session ends. Cluster masters and Spark Connect addresses get only the
settings that do not depend on the machine (UTC, Arrow transfers, the configured `conf`).
"""

from __future__ import annotations

import logging
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
    remote = spec.master.startswith("sc://")
    if not remote:
        _check_java()
    local = is_local(spec.master)
    warehouse = tempfile.mkdtemp(prefix="custlens-spark-") if local else None
    try:
        session = _start(spec, warehouse)
        try:
            yield session
        finally:
            session.stop()
    finally:
        if warehouse:
            shutil.rmtree(warehouse, ignore_errors=True)


def _start(spec: EngineSpec, warehouse: str | None) -> Any:
    """Build the session; a local one (with a warehouse folder) on loopback only."""
    from pyspark.sql import SparkSession

    remote = spec.master.startswith("sc://")
    builder = SparkSession.builder.appName(spec.app_name)
    builder = builder.remote(spec.master) if remote else builder.master(spec.master)
    conf = dict(COMMON_CONF)
    if warehouse:
        # Read by the JVM and the Python workers when they start, so set before the session.
        os.environ["SPARK_LOCAL_IP"] = LOOPBACK
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        conf.update(local_conf(warehouse))
    conf.update(spec.conf)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except ImportError as exc:  # Spark Connect's client libraries (grpcio, ...)
        version = require_pyspark().__version__
        raise CustlensError(
            f"{spec.master} needs Spark Connect's client: pip install 'pyspark[connect]=="
            f"{version}' ({exc})"
        ) from None
    if not remote:  # Connect sessions have no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per gateway call
    return session


def backend(session: Any) -> ibis.BaseBackend:
    """The Ibis backend over a Spark session."""
    return ibis.pyspark.connect(session)


def session_of(con: ibis.BaseBackend) -> Any:
    """The Spark session under an Ibis PySpark backend (Ibis keeps it as `_session`)."""
    return con._session  # Ibis offers no public accessor
