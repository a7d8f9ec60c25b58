"""Bad input files: one clear DataError each, and the file is never modified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from custlens.data.load import load_canonical
from custlens.data.read import read_files, read_table
from custlens.data.spec import ColumnMap, CsvOptions, DataSpec, FileSpec
from custlens.errors import DataError

GOOD = "customer_id,timestamp,amount\nc1,2024-01-02 10:00:00,12.5\nc2,2024-01-03,3\n"


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def load_file(path: Path, **csv: str) -> pd.DataFrame:
    return load_canonical(DataSpec(path=str(path), csv=CsvOptions(**csv)))


def write(tmp_path: Path, content: str | bytes, name: str = "log.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_good_csv_loads(tmp_path: Path) -> None:
    frame = load_file(write(tmp_path, GOOD))
    assert list(frame["customer_id"]) == ["c1", "c2"]
    assert list(frame["amount"]) == [12.5, 3.0]
    assert frame["timestamp"].iloc[1] == pd.Timestamp("2024-01-03")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "log.csv", "data file is empty"),
        ("customer_id,timestamp,amount\n", "log.csv", "header but no data rows"),
        ("\n\n", "log.csv", "no header row"),
        ("customer_id,amount\nc1,3\n", "log.csv", "missing required column(s): timestamp"),
        (
            "customer_id,timestamp,amount\nc1,2024-01-01,1\nc2,yesterday,2\nc3,2024-13-45,3\n",
            "log.csv",
            "unparseable timestamps in column 'timestamp': 2 of 3 rows, first row 2: "
            "'yesterday', row 3: '2024-13-45'",
        ),
        (
            "customer_id,timestamp,amount\nc1,2024-01-01,1\nc2,2024-01-02,ten\n",
            "log.csv",
            "non-numeric values in column 'amount': 1 of 2 rows, first row 2: 'ten'",
        ),
        ("customer_id;timestamp;amount\nc1;2024-01-01;1\n", "log.csv", "delimiter=';'"),
        (
            "customer_id,timestamp,amount,amount\nc1,2024-01-01,1,2\n",
            "log.csv",
            "duplicate column names: 'amount'",
        ),
        (
            "customer_id,timestamp,amount\nc1,2024-01-01T10:00+00:00,1\n"
            "c2,2024-06-01T10:00+02:00,2\n",
            "log.csv",
            "mixes time zones (+0000, +0200)",
        ),
        (
            "customer_id,timestamp,amount\nc1,2024-01-01T10:00+00:00,1\nc2,2024-06-01 10:00,2\n",
            "log.csv",
            "mixes timestamps with and without a time zone",
        ),
        ("customer_id,timestamp,amount\nc1,,1\n", "log.csv", "missing timestamps"),
        ("customer_id,timestamp,amount\nc1,2024-01-01,\n", "log.csv", "missing values"),
        ("a,b\n1,2\n", "log.xlsx", "cannot tell the format"),
        (b"PAR1 this is not parquet", "log.parquet", "not a readable Parquet file"),
    ],
)
def test_bad_input_is_one_clear_error(
    tmp_path: Path, content: str | bytes, name: str, message: str
) -> None:
    path = write(tmp_path, content, name)
    before = digest(path)
    with pytest.raises(DataError) as caught:
        load_file(path)
    assert message in str(caught.value)
    assert digest(path) == before


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, "client,timestamp,amount\nc1,2024-01-01,1\n")
    with pytest.raises(DataError, match=r"customer_id \(looked for 'customer_id'\).*'client'"):
        load_file(path)


def test_wrong_encoding_names_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,timestamp,amount\nc\xe9,2024-01-01,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="data.csv.encoding"):
        load_file(path)
    assert list(load_file(path, encoding="latin-1")["customer_id"]) == ["c\xe9"]


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found: .*nowhere.csv"):
        read_table(tmp_path / "nowhere.csv")


def test_no_files_configured() -> None:
    with pytest.raises(DataError, match="lists no files"):
        read_files([], CsvOptions(), "timestamp")


def test_mixed_offsets_convert_to_utc_when_asked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customer_id,timestamp,amount\nc1,2024-01-01T10:00+00:00,1\nc2,2024-06-01T10:00+02:00,2\n",
    )
    from custlens.data.spec import TimestampOptions

    frame = load_canonical(DataSpec(path=str(path), timestamps=TimestampOptions(to_utc=True)))
    assert list(frame["timestamp"]) == [
        pd.Timestamp("2024-01-01 10:00"),
        pd.Timestamp("2024-06-01 08:00"),
    ]


def test_before_cut_and_rename_stack_files(tmp_path: Path) -> None:
    first = write(tmp_path, "cid,when,amount\na,2024-01-01,1\na,2024-02-01,2\n", "one.csv")
    second = write(tmp_path, "client,when,amount\nb,2024-02-01,5\n", "two.csv")
    spec = DataSpec(
        files=[
            FileSpec(str(first), before="2024-02-01"),
            FileSpec(str(second), rename={"client": "cid"}),
        ],
        columns=ColumnMap(customer_id="cid", timestamp="when"),
    )
    frame = load_canonical(spec)
    assert list(frame["customer_id"]) == ["a", "b"]
    assert list(frame["amount"]) == [1.0, 5.0]
