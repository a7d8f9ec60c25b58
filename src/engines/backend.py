"""One entry point that opens the configured engine as an Ibis backend and closes it after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ibis

from custlens.engines.local import connect
from custlens.engines.spec import ENGINES, EngineSpec
from custlens.errors import CustlensError


@contextmanager
def open_engine(
    spec: EngineSpec | None = None, threads: int | None = None
) -> Iterator[ibis.BaseBackend]:
    """The engine's Ibis backend for the duration of the block (a Spark session is stopped);
    DuckDB computes with `threads` threads (default: `custlens.runtime.thread_count()`)."""
    spec = spec or EngineSpec()
    if spec.name not in ENGINES:
        raise CustlensError(f"unknown engine {spec.name!r}: choose one of {', '.join(ENGINES)}")
    if spec.name == "duckdb":
        con = connect(spec.memory_limit, spec.temp_directory, threads)
        try:
            yield con
        finally:
            con.disconnect()
        return
    from custlens.engines import spark

    with spark.spark_session(spec) as session:
        yield spark.backend(session)


def register_memtables(con: ibis.BaseBackend, table: ibis.Table) -> None:
    """Register the in-memory tables `table` reads on `con`, as executing it would: Ibis's
    Spark backend does not when it caches a query or compiles one for Spark itself."""
    con._run_pre_execute_hooks(table)  # Ibis has no public call for it


def cached(con: ibis.BaseBackend, table: ibis.Table) -> ibis.Table:
    """`table.cache()` on `con`, with its in-memory tables registered first."""
    register_memtables(con, table)
    return table.cache()
