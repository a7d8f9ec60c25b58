"""Scoring feature rows on Spark with the exported scorer's UDF, in the output's column order.

Only the UDF call is distributed: each executor loads the logged model once and scores its
partitions in Arrow batches. The feature rows come from `build_features` on any engine.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from custlens.scoring.scorer import OUTPUT_COLUMNS

PARTITION_COLUMN = "as_of"


def to_spark(session: Any, features: pd.DataFrame, partitions: int) -> Any:
    """Feature rows (with `as_of`) as a Spark DataFrame in `partitions` slices (via Arrow)."""
    return session.createDataFrame(features).repartition(partitions, "customer_id")


def apply_scorer(frame: Any, udf: Any, inputs: list[str], model_version: str) -> Any:
    """One output row per feature row: the UDF's struct expanded, `as_of` carried through.

    `model_version` is the registry version the driver resolved (the pickled scorer inside the
    model cannot know it), as `registry.load_scorer` sets it for in-process scoring.
    """
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    scored = frame.select(
        F.col(PARTITION_COLUMN).cast("date").alias(PARTITION_COLUMN),
        udf(*inputs).alias("scores"),
    )
    fields = {c: F.col(f"scores.{c}") for c in OUTPUT_COLUMNS if c != PARTITION_COLUMN}
    fields["model_version"] = F.lit(model_version)
    return scored.select(PARTITION_COLUMN, *(value.alias(c) for c, value in fields.items()))


def read_scores(session: Any, path: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Written scores back as pandas, columns as OUTPUT_COLUMNS (`as_of` from the partition)."""
    from pyspark.sql import functions as F  # noqa: N812

    frame = session.read.parquet(path)
    frame = frame.withColumn(PARTITION_COLUMN, F.col(PARTITION_COLUMN).cast("timestamp"))
    out = frame.select(*(columns or OUTPUT_COLUMNS)).toPandas()
    types = {c: "string" for c in out.columns if out[c].dtype == object}
    if PARTITION_COLUMN in out:
        types[PARTITION_COLUMN] = "datetime64[ns]"
    return out.astype(types)
