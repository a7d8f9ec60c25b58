"""A canonical, already-clean Parquet log read where it lies, for scoring logs larger than
memory: the schema is checked and the report counted by DuckDB, the lines never enter pandas."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from custlens.data.quality import QualityReport
from custlens.data.spec import DataSpec
from custlens.errors import DataError

REQUIRED = {
    "customer_id": "text",
    "timestamp": "a timestamp",
    "amount": "a number",
}


def parquet_log(spec: DataSpec) -> tuple[str, QualityReport]:
    """The log's path (a file, folder or glob) once checked, and its report (no rule runs)."""
    path = _path(spec)
    files = sorted(glob.glob(path, recursive=True))
    for file in files:  # each footer read: a truncated or damaged file is named here
        try:
            pq.ParquetFile(file).metadata  # noqa: B018 - reading it is the check
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{file} is not a readable Parquet file: {_first_line(exc)}") from None
    schema = ds.dataset(files, format="parquet").schema
    _check_schema(schema, path)
    return path, _report(spec.name, path, "order_id" in schema.names)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _path(spec: DataSpec) -> str:
    """`data.path` as a glob of Parquet files (a folder stands for every Parquet file in it)."""
    if spec.files or not spec.path:
        raise DataError(
            "data.on_engine reads one Parquet path (a file, a folder or a glob such as "
            "/data/log/*.parquet): set data.path=PATH"
        )
    path = str(Path(spec.path, "**", "*.parquet")) if Path(spec.path).is_dir() else spec.path
    files = [f for f in glob.glob(path, recursive=True) if Path(f).is_file()]
    if not files:
        raise DataError(f"data.path {spec.path} matches no file")
    others = [f for f in files if not f.endswith(".parquet")]
    if others:
        raise DataError(f"data.on_engine reads Parquet only, and {others[0]} is not")
    return path


def _check_schema(schema: pa.Schema, path: str) -> None:
    problems = []
    for column, kind in REQUIRED.items():
        if column not in schema.names:
            problems.append(f"no column {column!r}")
            continue
        arrow = schema.field(column).type
        fits = {
            "customer_id": pa.types.is_string(arrow) or pa.types.is_large_string(arrow),
            "timestamp": pa.types.is_timestamp(arrow),
            "amount": pa.types.is_floating(arrow) or pa.types.is_integer(arrow),
        }[column]
        if not fits:
            problems.append(f"{column!r} is {arrow}, not {kind}")
    if problems:
        raise DataError(
            f"{path} is not a canonical log ({'; '.join(problems)}); data.on_engine needs "
            "customer_id, timestamp and amount in canonical form"
        )


def _report(source: str, path: str, has_orders: bool) -> QualityReport:
    order = "order_id" if has_orders else "timestamp"
    try:
        row = (
            duckdb.connect()
            .execute(
                f"""SELECT count(*), count(DISTINCT customer_id), sum(amount),
                       count(DISTINCT (customer_id, {order})), min(timestamp), max(timestamp),
                       count(*) FILTER (WHERE customer_id IS NULL)
                FROM read_parquet(?)""",  # noqa: S608 - a column name, not input
                [path],
            )
            .fetchone()
        )
    except duckdb.Error as exc:  # damaged pages inside a file whose footer reads
        raise DataError(f"{path} cannot be read: {_first_line(exc)}") from None
    rows, customers, revenue, orders, first, last, anonymous = row
    if anonymous:
        raise DataError(
            f"{path} has {anonymous:,} lines without a customer id: data.on_engine reads a "
            "clean log (remove them, or load it without on_engine to clean it)"
        )
    revenue = float(revenue or 0.0)
    return QualityReport(
        source=source,
        rows_in=rows,
        customers_in=customers,
        revenue_in=revenue,
        effects=(),
        rows_out=rows,
        customers_out=customers,
        orders_out=orders,
        revenue_kept=revenue,
        first_timestamp=str(first) if first is not None else None,
        last_timestamp=str(last) if last is not None else None,
    )
