"""Reading raw CSV and Parquet files, with one clear error for each way a file can be wrong.

Files are only ever opened for reading. CSV cells are read as text so that parsing (and its
errors) happens in one place, `custlens.data.validate`.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custlens.data.spec import CsvOptions, FileSpec
from custlens.errors import DataError

PARQUET_SUFFIXES = {".parquet", ".pq"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_OTHER_DELIMITERS = (",", ";", "\t", "|")


def read_table(path: str | Path, options: CsvOptions | None = None) -> pd.DataFrame:
    """Read one CSV or Parquet file (or a Parquet dataset folder) into a DataFrame."""
    options = options or CsvOptions()
    file = Path(path)
    if not file.exists():
        raise DataError(f"data file not found: {file} (working directory {Path.cwd()})")
    if file.is_dir() or file.suffix.lower() in PARQUET_SUFFIXES:
        return _read_parquet(file)
    if file.suffix.lower() in CSV_SUFFIXES or file.name.lower().endswith(".csv.gz"):
        return _read_csv(file, options)
    raise DataError(
        f"cannot tell the format of {file}: expected a name ending in "
        f"{', '.join(sorted(PARQUET_SUFFIXES | CSV_SUFFIXES))} or .csv.gz"
    )


def read_files(files: list[FileSpec], options: CsvOptions, timestamp_column: str) -> pd.DataFrame:
    """Read and stack the files of one source, applying each file's rename and `before` cut."""
    if not files:
        raise DataError("the data source lists no files: set data.path=FILE or data.files")
    frames = []
    for spec in files:
        frame = read_table(spec.path, options).rename(columns=dict(spec.rename))
        if spec.before is not None:
            frame = _rows_before(frame, timestamp_column, spec.before, spec.path)
        frames.append(frame)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True, sort=False)


def _rows_before(frame: pd.DataFrame, column: str, before: str, path: str) -> pd.DataFrame:
    if column not in frame.columns:
        raise DataError(f"{path}: `before` needs the timestamp column {column!r}, not found")
    stamps = pd.to_datetime(frame[column], errors="coerce", format="ISO8601")
    return frame.loc[~(stamps >= pd.Timestamp(before))].reset_index(drop=True)


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        names = pq.read_schema(file).names if file.is_file() else None
        if names is not None:
            _check_unique_columns(names, file)
        frame = pd.read_parquet(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{file} is not a readable Parquet file: {exc}") from None
    if frame.empty:
        raise DataError(f"data file has no rows: {file}")
    return frame


def _read_csv(file: Path, options: CsvOptions) -> pd.DataFrame:
    if file.stat().st_size == 0:
        raise DataError(f"data file is empty: {file}")
    header = _csv_header(file, options)
    _check_unique_columns(header, file)
    _check_delimiter(header, file, options.delimiter)
    try:
        frame = pd.read_csv(
            file,
            sep=options.delimiter,
            encoding=options.encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except UnicodeDecodeError as exc:
        raise _encoding_error(file, options, exc) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{file} is not well-formed CSV: {exc}") from None
    if frame.empty:
        raise DataError(f"data file has a header but no data rows: {file}")
    return frame


def _csv_header(file: Path, options: CsvOptions) -> list[str]:
    try:
        with file.open(newline="", encoding=options.encoding) as handle:
            header = next(csv.reader(handle, delimiter=options.delimiter), [])
    except UnicodeDecodeError as exc:
        raise _encoding_error(file, options, exc) from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    if not any(header):
        raise DataError(f"data file has no header row: {file}")
    return header


def _encoding_error(file: Path, options: CsvOptions, exc: UnicodeDecodeError) -> DataError:
    return DataError(
        f"cannot decode {file} as {options.encoding} (byte {exc.start}: {exc.reason}); "
        "set data.csv.encoding to the file's encoding, for example data.csv.encoding=latin-1"
    )


def _check_unique_columns(names: list[str], file: Path) -> None:
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise DataError(f"{file} has duplicate column names: {', '.join(map(repr, repeated))}")


def _check_delimiter(header: list[str], file: Path, delimiter: str) -> None:
    if len(header) > 1:
        return
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header[0]:
            raise DataError(
                f"{file} has a single column {header[0][:60]!r} when read with delimiter "
                f"{delimiter!r}; it looks {other!r}-separated: set data.csv.delimiter={other!r}"
            )
