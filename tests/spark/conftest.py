"""One local[2] Spark session per test process, and a log with hand-made edge cases.

Skipped with the reason only when Java is absent; a missing pyspark is an error (make setup
installs the `spark` extra).
"""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from tests.features.handlog import ROWS, hand_log
from tests.features.test_labels_frames import LATER
from tests.helpers import java_available

AS_OF = "2024-03-01"


@pytest.fixture(scope="session")
def spark():
    """A local[2] session with the project's safe settings (loopback, temporary warehouse)."""
    if not java_available():
        pytest.skip("Spark tests need Java 17: no java on PATH and no JAVA_HOME")
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
