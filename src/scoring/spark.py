"""Scoring on Spark without collecting the customers: the executors finish, score and write.

The feature table stays on Spark (`features_on_engine`): the driver holds the BTYD fit sample
(about FIT_SAMPLE buyers, chosen by a hash of their id), a few rows to check the features and
learn the output schema, and aggregates. Each executor applies the `BlockFinisher` (BTYD
columns, dtypes) and the `Scorer` to its own Arrow batches (`mapInPandas`); both travel with
the job, so the executors need custlens and its requirements importable (as a Python UDF
needs its code), not a copy of the model files.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
from ibis.expr.types import Table

from custlens.engines.backend import register_memtables
from custlens.errors import CustlensError
from custlens.features.blocks import BlockFinisher
from custlens.features.build import PANDAS_TYPES
from custlens.models.levels import Levels
from custlens.monitoring.ledger import ledger_rows
from custlens.scoring.batch import SUMMARY_GROUPS, combine_summaries
from custlens.scoring.scorer import Scorer

PARTITION_COLUMN = "as_of"
SCHEMA_ROWS = 50  # rows scored on the driver: the features checked, the output schema learned

_SPARK_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double", "M": "timestamp"}


def spark_frame(con: ibis.BaseBackend, table: Table) -> Any:
    """An Ibis table of a PySpark backend as a Spark DataFrame, unexecuted."""
    register_memtables(con, table)
    return con._session.sql(con.compile(table))


def spark_type(dtype: Any) -> str:
    """The Spark SQL type of a pandas column dtype the scorer writes."""
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        return "string"
    if isinstance(dtype, pd.BooleanDtype):
        return "boolean"
    kind = getattr(dtype, "kind", "")
    if kind not in _SPARK_TYPES:
        raise CustlensError(f"no Spark type for the output dtype {dtype}")
    return _SPARK_TYPES[kind]


def output_schema(scores: pd.DataFrame) -> str:
    """The DDL schema of a scored table, its columns in order."""
    return ", ".join(f"`{c}` {spark_type(scores[c].dtype)}" for c in scores.columns)


def finished_schema(sample: pd.DataFrame, source: Any) -> str:
    """The DDL schema of finished feature rows: the source's Spark type where pandas holds a
    column as objects (booleans with nulls), else the type of the pandas dtype."""
    given = {f.name: f.dataType.simpleString() for f in source.schema.fields}
    types = {
        c: given[c] if c in given and pd.api.types.is_object_dtype(d) else spark_type(d)
        for c, d in sample.dtypes.items()
    }
    return ", ".join(f"`{c}` {t}" for c, t in types.items())


def _text_columns(frame: Any) -> list[str]:
    from pyspark.sql.types import StringType

    return [f.name for f in frame.schema.fields if isinstance(f.dataType, StringType)]


def finish_on_executors(features: Any, finisher: BlockFinisher, schema: str) -> Any:
    """`build_features` rows (BTYD columns, dtypes) computed where the rows are."""
    text = _text_columns(features)

    def finish_batches(batches: Any) -> Any:
        for batch in batches:
            if not batch.empty:
                yield _finished(batch, text, finisher)

    return features.mapInPandas(finish_batches, schema)


def driver_sample(table: Table, finisher: BlockFinisher) -> pd.DataFrame:
    """A few finished feature rows, taken on the driver (feature checks, output schemas)."""
    head = table.limit(SCHEMA_ROWS).to_pyarrow().to_pandas(types_mapper=PANDAS_TYPES.get)
    return finisher(head)


def _finished(batch: pd.DataFrame, text: list[str], finisher: BlockFinisher) -> pd.DataFrame:
    """An executor's Arrow batch as `build_features` rows (Arrow gives text as objects;
    build_features gives pandas strings)."""
    return finisher(batch.astype({c: "string" for c in text}))


def score_on_executors(
    features: Any,
    finisher: BlockFinisher,
    scorer: Scorer,
    day: pd.Timestamp,
    schema: str,
    levels: Levels | None = None,
) -> Any:
    """One output row per feature row at the day's `levels`, computed where the rows are;
    `as_of` a date, first
    (the partition column), the other columns as the scorer's `output_columns`, then the
    ledger's baseline columns (`custlens.monitoring.ledger.ledger_rows`)."""
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    text = _text_columns(features)

    def score_batches(batches: Any) -> Any:
        for batch in batches:
            if batch.empty:
                continue
            rows = _finished(batch, text, finisher)
            rows.insert(1, PARTITION_COLUMN, day)
            yield ledger_rows(scorer.score_features(rows, levels), rows, scorer.horizon_days)

    scored = features.mapInPandas(score_batches, schema)
    rest = [c for c in scorer.output_columns if c != PARTITION_COLUMN]
    rest += [c for c in scored.columns if c not in scorer.output_columns]
    return scored.select(F.col(PARTITION_COLUMN).cast("date").alias(PARTITION_COLUMN), *rest)


def summary_on_spark(scored: Any) -> dict[str, pd.DataFrame]:
    """Counts by segment, risk band and value tier with predicted value, as the DuckDB path
    gives them (`combine_summaries`), aggregated by Spark (one small table per group)."""
    from pyspark.sql import functions as F  # noqa: N812

    sums = {}
    for column in SUMMARY_GROUPS:
        table = (
            scored.groupBy(column)
            .agg(
                F.count("*").alias("customers"),
                F.sum("clv").alias("predicted_value"),
                F.sum("churn_probability").alias("churn_probability"),
            )
            .toPandas()
        )
        sums[column] = table.set_index(column)
    return combine_summaries([sums])


def summarise_on_spark(features: Any) -> pd.DataFrame:
    """`custlens.features.summary.summarise` computed by Spark in one pass; on Spark the
    distinct counts and quartiles are approximate (HyperLogLog, percentile_approx)."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import BooleanType, NumericType

    fields = features.schema.fields
    numeric = {f.name for f in fields if isinstance(f.dataType, NumericType)}
    aggregates = [F.count("*").alias("rows")]
    for f in fields:
        c = F.col(f"`{f.name}`")
        aggregates += [
            F.sum(c.isNull().cast("long")).alias(f"{f.name}|nulls"),
            F.approx_count_distinct(c).alias(f"{f.name}|distinct"),
        ]
        if f.name in numeric and not isinstance(f.dataType, BooleanType):
            x = c.cast("double")
            aggregates += [
                F.mean(x).alias(f"{f.name}|mean"),
                F.stddev(x).alias(f"{f.name}|std"),
                F.min(x).alias(f"{f.name}|min"),
                F.percentile_approx(x, [0.25, 0.5, 0.75], 10000).alias(f"{f.name}|q"),
                F.max(x).alias(f"{f.name}|max"),
            ]
    got = features.agg(*aggregates).collect()[0].asDict()
    rows = []
    for f in fields:
        row: dict[str, object] = {
            "feature": f.name,
            "dtype": f.dataType.simpleString(),
            "null_rate": got[f"{f.name}|nulls"] / got["rows"] if got["rows"] else float("nan"),
            "distinct": int(got[f"{f.name}|distinct"]),
        }
        if f"{f.name}|mean" in got:
            q = got[f"{f.name}|q"] or [None] * 3
            values = (got[f"{f.name}|{k}"] for k in ("mean", "std", "min"))
            row |= dict(zip(("mean", "std", "min"), values, strict=True))
            row |= {"25%": q[0], "50%": q[1], "75%": q[2], "max": got[f"{f.name}|max"]}
        rows.append(row)
    return pd.DataFrame(rows)
