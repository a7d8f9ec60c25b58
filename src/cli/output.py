"""Writing results: atomically, never over an existing file unless asked, even when two runs
race for it, and with no staging left behind by a run that was killed (`custlens.storage`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custlens import storage
from custlens.errors import CustlensError

SUFFIXES = (".parquet", ".csv")


def check_output(
    path: str | Path | None, overwrite: bool, suffixes: tuple[str, ...] = SUFFIXES
) -> Path:
    """Refuse a missing path, an unknown suffix or an existing file (before any work is done)."""
    allowed = " or ".join(suffixes)
    if not path:
        raise CustlensError(f"no output file given: set output=FILE ({allowed})")
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CustlensError(f"output must end in {allowed}, not {out.name!r}")
    if out.exists() and not overwrite:
        raise CustlensError(f"{out} exists; pass overwrite=true to replace it")
    if not out.parent.exists():
        raise CustlensError(f"the output folder {out.parent} does not exist")
    return out


def _atomically(path: Path, write: Callable[[str], None], overwrite: bool = True) -> None:
    """Write to a staging file beside `path`, then move it there in one step: readers never see
    half a file, and without `overwrite` an existing file is never replaced."""
    with storage.staged(path) as staging:
        write(str(staging))
        storage.commit_file(staging, path, overwrite)


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
    """A table as Parquet or CSV (by suffix), atomically."""
    if path.suffix.lower() == ".parquet":
        _atomically(path, lambda name: frame.to_parquet(name, index=False))
    else:
        _atomically(path, lambda name: frame.to_csv(name, index=False))


class StagedTable:
    """A table written in blocks to a staging file beside `path`, moved into place only by
    `commit` (refusing an existing file unless `overwrite`); leaving the `with` block without
    committing deletes it, so readers see the whole table or nothing. Parquet or CSV by
    suffix. Parquet row groups hold ROW_GROUP_ROWS rows whatever the blocks, so the file is
    the same for any block size."""

    ROW_GROUP_ROWS = 131_072

    def __init__(self, path: Path, overwrite: bool = True) -> None:
        self.path = path
        self.overwrite = overwrite
        self.parquet = path.suffix.lower() == ".parquet"
        self._stack = ExitStack()
        self.staging = self._stack.enter_context(storage.staged(path))
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._blocks = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append a block (same columns and dtypes as the first)."""
        if self.parquet:
            schema = self._writer.schema if self._writer else None
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.staging, table.schema)
            self._pending.append(table)
            self._flush(final=False)
        else:
            frame.to_csv(self.staging, mode="a", header=self._blocks == 0, index=False)
        self._blocks += 1

    def _flush(self, final: bool) -> None:
        """Write every full row group held (and, when final, the rest)."""
        pending = pa.concat_tables(self._pending) if self._pending else None
        if pending is None:
            return
        full = len(pending) - len(pending) % self.ROW_GROUP_ROWS
        stop = len(pending) if final else full
        if stop:
            self._writer.write_table(pending.slice(0, stop), row_group_size=self.ROW_GROUP_ROWS)
        self._pending = [pending.slice(stop)] if stop < len(pending) else []

    def commit(self) -> None:
        """Put the finished table in place."""
        if self._writer is not None:
            self._flush(final=True)
        self._close()
        storage.commit_file(self.staging, self.path, self.overwrite)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> StagedTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()
        self._stack.close()


def write_text_atomically(text: str, path: Path) -> None:
    """A text file (an HTML report), atomically."""
    _atomically(path, lambda name: Path(name).write_text(text, encoding="utf-8"))


def save_figure_atomically(figure: object, path: Path) -> None:
    """A matplotlib figure, in the format its suffix names, atomically."""
    fmt = path.suffix.lstrip(".").lower()
    _atomically(path, lambda name: figure.savefig(name, format=fmt))


def is_uri(output: object) -> bool:
    """A Hadoop file-system address (s3a://, hdfs://, file://...), written by Spark itself."""
    return "://" in str(output)


def check_spark_output(output: str | None, overwrite: bool) -> str:
    """Spark writes a Parquet folder: a local path is checked here, an address by Spark when
    it writes."""
    if not output:
        raise CustlensError("no output given: set output=FOLDER.parquet")
    if not str(output).lower().rstrip("/").endswith(".parquet"):
        raise CustlensError(
            f"engine=spark writes a Parquet folder: output must end in .parquet, "
            f"not {str(output)!r}"
        )
    return str(output) if is_uri(output) else str(check_output(output, overwrite))


def write_on_spark(frame: Any, output: str, overwrite: bool, partition: str | None = None) -> None:
    """A Spark DataFrame as a Parquet folder (partitioned by `partition`), written by the
    executors: a local path staged beside it and renamed into place, an address committed by
    Spark's output committer."""
    writer = frame.write.partitionBy(partition) if partition else frame.write
    if is_uri(output):
        from pyspark.errors import AnalysisException

        try:
            writer.mode("overwrite" if overwrite else "errorifexists").parquet(output)
        except AnalysisException as exc:
            if "already exists" not in str(exc).lower():
                raise
            raise CustlensError(f"{output} exists; pass overwrite=true to replace it") from None
        return
    target = Path(output)
    with storage.staged(target, folder=True) as staging:
        storage.remove(staging)  # Spark creates the folder itself
        writer.parquet(str(staging.resolve()))
        storage.commit_folder(staging, target, overwrite)


def check_engine_output(output: str | None, overwrite: bool, engine: str) -> str | Path:
    """The checked output of a command on `engine`: a Parquet folder (or address) on Spark,
    a file otherwise."""
    if engine == "spark":
        return check_spark_output(output, overwrite)
    return check_output(output, overwrite)
