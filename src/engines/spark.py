"""Spark sessions for the Ibis PySpark backend, safe by default on one machine.

A `local[N]` session binds to loopback only (driver, block manager, no web UI), runs its
Python workers with this interpreter, and keeps its warehouse in a temporary folder that is
removed when the session ends. Cluster masters and Spark Connect addresses get only the
settings that do not depend on the machine (UTC, Arrow transfers, the configured `conf`); a
cluster driver takes its executors' interpreter from `spark.pyspark.python`, as spark-submit
does. A Spark Connect session puts pyspark in Connect mode for the whole process (an
environment variable); that is undone when the session ends, so classic sessions work after it.
"""

from __future__ import annotations

import functools
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
}
# Static settings of a driver this process starts (a Connect server has its own, fixed ones).
DRIVER_CONF = {"spark.ui.showConsoleProgress": "false"}
# Read by pyspark from the environment, not from the session's conf, when this process is the
# driver: spark-submit exports them from these keys; a plain Python driver must do the same.
PYTHON_CONF = {
    "spark.pyspark.python": "PYSPARK_PYTHON",
    "spark.pyspark.driver.python": "PYSPARK_DRIVER_PYTHON",
}
# Set by pyspark when a Connect session starts and never unset: while set, pyspark's functions
# build Connect columns, even for a classic session.
CONNECT_MODE = ("SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE")


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


def is_remote(master: str) -> bool:
    """A Spark Connect address: the driver runs in the server, this process is a client."""
    return master.startswith("sc://")


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
    if not is_remote(spec.master):
        _check_java()
    local = is_local(spec.master)
    warehouse = tempfile.mkdtemp(prefix="custlens-spark-") if local else None
    mode = {name: os.environ.get(name) for name in CONNECT_MODE}
    try:
        session = _start(spec, warehouse)
        try:
            yield session
        finally:
            session.stop()
    finally:
        if warehouse:
            shutil.rmtree(warehouse, ignore_errors=True)
        if is_remote(spec.master):
            _restore(mode)


def _restore(variables: dict[str, str | None]) -> None:
    """Put environment variables back as they were (None: unset)."""
    for name, value in variables.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _require_connect_client(master: str) -> None:
    """Spark Connect's client libraries (grpcio, ...), or one message naming the extra."""
    try:
        import pyspark.sql.connect.session  # noqa: F401 - checks grpcio and friends
    except ImportError as exc:
        version = require_pyspark().__version__
        raise CustlensError(
            f"{master} needs Spark Connect's client (grpcio and friends, in the spark extra): "
            f"pip install '.[spark]' or 'pyspark[connect]=={version}' ({exc})"
        ) from None


def _check_one_mode(remote: bool) -> None:
    """pyspark runs one mode per process: refuse to mix classic and Connect sessions, clearly."""
    from pyspark import SparkContext

    other = None
    if remote and SparkContext._active_spark_context is not None:
        other = "a classic Spark session"
    elif not remote and os.environ.get("SPARK_CONNECT_MODE_ENABLED"):
        other = "a Spark Connect session"
    if other:
        raise CustlensError(
            f"{other} is open in this process: pyspark runs either classic or Spark Connect "
            "(sc://) sessions in one process, not both; stop it first, or use another process"
        )


def _start(spec: EngineSpec, warehouse: str | None) -> Any:
    """Build the session; a local one (with a warehouse folder) on loopback only."""
    from pyspark.sql import SparkSession

    remote = is_remote(spec.master)
    if remote:
        _require_connect_client(spec.master)
    _check_one_mode(remote)
    builder = SparkSession.builder.appName(spec.app_name)
    builder = builder.remote(spec.master) if remote else builder.master(spec.master)
    conf = dict(COMMON_CONF) if remote else {**COMMON_CONF, **DRIVER_CONF}
    if warehouse:
        # Read by the JVM and the Python workers when they start, so set before the session.
        os.environ["SPARK_LOCAL_IP"] = LOOPBACK
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        conf.update(local_conf(warehouse))
    conf.update(spec.conf)
    if not remote:
        for key, variable in PYTHON_CONF.items():
            if key in conf:  # executors' Python: a path on the nodes, e.g. ./env/bin/python
                os.environ[variable] = conf[key]
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not remote:  # Connect sessions have no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # one INFO line per gateway call
    return session


def is_connect(session: Any) -> bool:
    """A Spark Connect session: a client whose plans the server analyses on every call."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def backend(session: Any) -> ibis.BaseBackend:
    """The Ibis backend over a Spark session (over Connect, one that releases caches safely)."""
    if is_connect(session):
        return _connect_backend_class()().connect(session)
    return ibis.pyspark.connect(session)


@functools.cache
def _connect_backend_class() -> type:
    """Ibis's PySpark backend, releasing a cached table through its view, then the view.

    Ibis drops the view first and then unpersists the DataFrame it cached. Over Connect the
    server analyses that DataFrame's plan again to find the cache, which fails when the plan
    reads another cached table already released (TABLE_OR_VIEW_NOT_FOUND): a cache built on
    another one, released first. The view holds an analysed plan, so it still resolves.
    """
    from ibis.backends.pyspark import Backend

    _ = ibis.pyspark  # the first use registers the backend's options (ibis.options.pyspark)

    class ConnectBackend(Backend):
        def _drop_cached_table(self, name: str) -> None:
            self._session.table(name).unpersist()
            self._session.catalog.dropTempView(name)
            self._cached_dataframes.pop(name, None)

    return ConnectBackend
