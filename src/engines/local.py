"""The default engine: an in-process DuckDB, and connections lent to library functions."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis

from custlens.errors import DataError
from custlens.runtime import thread_count


def connect(
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    threads: int | None = None,
) -> ibis.BaseBackend:
    """The default engine: an in-process DuckDB that spills to disk past `memory_limit`
    (DuckDB's default: 80% of RAM), into `temp_directory` (default: a private folder under the
    system's temporary directory, never the working directory), with `threads` threads (default
    `custlens.runtime.thread_count()`)."""
    con = ibis.duckdb.connect()
    con.raw_sql(f"SET threads = {thread_count(threads)}")
    try:
        con.raw_sql("SET enable_progress_bar = false")
    except duckdb.Error:  # in Jupyter without ipywidgets DuckDB refuses to touch the setting
        pass
    folder = temp_directory or str(
        Path(tempfile.gettempdir(), f"custlens-duckdb-{uuid.uuid4().hex}")
    )
    con.raw_sql(f"SET temp_directory = '{_quoted(folder)}'")
    if memory_limit:
        try:
            con.raw_sql(f"SET memory_limit = '{_quoted(memory_limit)}'")
        except duckdb.Error as exc:
            raise DataError(
                f"engine.memory_limit {memory_limit!r} is not a size like 4GB"
            ) from exc
    return con


def _quoted(text: str) -> str:
    return text.replace("'", "''")


@contextmanager
def borrowed(con: ibis.BaseBackend | None = None) -> Iterator[ibis.BaseBackend]:
    """`con` when the caller has one; else a default DuckDB connection, closed after the block."""
    if con is not None:
        yield con
        return
    own = connect()
    try:
        yield own
    finally:
        own.disconnect()
