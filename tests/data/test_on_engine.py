"""A canonical Parquet log read where it lies: checked up front, counted by the engine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custlens.data import DataSpec, load, load_for_scoring
from custlens.errors import DataError

LOG = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "c"],
        "order_id": ["o1", "o2", "o3", "o3"],
        "timestamp": pd.to_datetime(
            ["2023-01-01 10:00", "2023-01-05 00:00", "2023-02-01 00:00", "2023-02-01 00:00"]
        ),
        "amount": [10.0, -2.5, 7.0, 1.0],
    }
)


def spec(path: Path | str) -> DataSpec:
    return DataSpec(name="parquet_log", path=str(path), on_engine=True)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False, coerce_timestamps="us")
    return path


def test_the_log_stays_a_path_and_is_counted(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    write(LOG.iloc[:2], folder / "part-0.parquet")
    write(LOG.iloc[2:], folder / "part-1.parquet")
    loaded = load_for_scoring(spec(folder))
    assert isinstance(loaded.transactions, str) and loaded.transactions.endswith("*.parquet")
    report = loaded.report
    assert (report.rows_out, report.customers_out, report.orders_out) == (4, 3, 4)
    assert report.revenue_kept == pytest.approx(15.5) and report.effects == ()
    assert report.first_timestamp == "2023-01-01 10:00:00"
    assert load_for_scoring(spec(folder / "part-*.parquet")).report.rows_in == 4


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (LOG.drop(columns="amount"), "no column 'amount'"),
        (LOG.assign(timestamp=LOG["timestamp"].astype(str)), "'timestamp' is string"),
        (LOG.assign(customer_id=[1, 1, 2, 3]), "'customer_id' is int64, not text"),
        (LOG.assign(customer_id=["a", None, "b", "c"]), "1 lines without a customer id"),
    ],
)
def test_a_log_that_is_not_canonical_is_refused(
    tmp_path: Path, frame: pd.DataFrame, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load_for_scoring(spec(write(frame, tmp_path / "log.parquet")))


def test_paths_that_cannot_be_read_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="set data.path=PATH"):
        load_for_scoring(DataSpec(name="parquet_log", on_engine=True))
    with pytest.raises(DataError, match="matches no file"):
        load_for_scoring(spec(tmp_path / "nothing*.parquet"))
    LOG.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(DataError, match="Parquet only"):
        load_for_scoring(spec(tmp_path / "log.*"))


def test_loading_into_memory_refuses_an_on_engine_source(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="only scripts/score.py and scripts/build_features.py"):
        load(spec(write(LOG, tmp_path / "log.parquet")))
