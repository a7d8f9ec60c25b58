"""Property-based: malformed frames and files either load correctly or raise DataError."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings

from custlens.data.load import load_canonical
from custlens.data.spec import ColumnMap, DataSpec
from custlens.data.validate import to_canonical
from custlens.errors import DataError

NAMES = ["customer_id", "timestamp", "amount", "order_id", "quantity", "country", "extra"]
CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "12",
            "-3.5",
            "1e3",
            "nan",
            "2024-01-01",
            "2024-02-30",
            "2024-01-01T10:00+01:00",
            "2024-01-01 10:00",
            "NaT",
            "inf",
            "0x10",
        ]
    ),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=8),
)


def check_contract(frame: pd.DataFrame) -> None:
    assert list(frame.columns[:2]) == ["customer_id", "order_id"]
    assert frame["timestamp"].dtype == "datetime64[ns]"
    assert not frame["timestamp"].isna().any()
    assert frame["amount"].dtype == "float64" and np.isfinite(frame["amount"]).all()
    assert str(frame["customer_id"].dtype) == "string"


VALID = {
    "customer_id": st.text(min_size=1, max_size=5) | st.integers(0, 99).map(str),
    "timestamp": st.datetimes(
        min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2030-01-01").to_pydatetime(),
    ).map(str),
    "amount": st.floats(-1e6, 1e6).map(str) | st.integers(-100, 100).map(str),
    "quantity": st.integers(-5, 50).map(str),
}


def cells(column: str) -> st.SearchStrategy:
    """Mostly valid values of the column, sometimes junk."""
    valid = VALID.get(column, st.text(max_size=5))
    return st.integers(0, 9).flatmap(lambda i: CELLS if i == 0 else valid)


@st.composite
def raw_frames(draw: st.DrawFn) -> pd.DataFrame:
    required = [c for c in ("customer_id", "timestamp", "amount") if draw(st.integers(0, 9))]
    optional = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
    columns = list(dict.fromkeys(required + optional))
    rows = draw(st.integers(1, 6))
    return pd.DataFrame(
        {c: draw(st.lists(cells(c), min_size=rows, max_size=rows)) for c in columns}
    )


@settings(max_examples=300, deadline=None)
@given(raw_frames())
def test_frames_load_or_raise_data_error(raw: pd.DataFrame) -> None:
    try:
        frame = to_canonical(raw, ColumnMap())
    except DataError:
        return
    check_contract(frame)
    assert len(frame) == len(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    st.sampled_from(["log.csv", "log.parquet", "log.tsv"]),
)
def test_files_load_or_raise_data_error(content: bytes, name: str) -> None:
    header = b"customer_id,timestamp,amount\n" if name.endswith(".csv") else b""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(header + content)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            frame = load_canonical(DataSpec(path=str(path)))
        except DataError:
            frame = None
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    if frame is not None:
        check_contract(frame)
