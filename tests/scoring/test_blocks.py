"""Scoring in blocks: the same file for any block size, reconciled by the engine, and nothing
written when anything fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custlens.cli import score_job
from custlens.cli.output import StagedTable, write_atomically
from custlens.data import LoadedData
from custlens.engines.local import connect
from custlens.errors import CustlensError
from custlens.features.source import as_table, register_frame
from custlens.scoring.blocks import reconcile_on_engine, score_in_blocks, score_transactions
from custlens.scoring.scorer import Scorer
from tests.helpers import loaded_of, reconcile
from tests.scoring.test_batch import AS_OF, extra_customers

TABLE = pd.DataFrame({"customer_id": ["ONE", "NEWBIE"], "segment": ["web", "store"]})


def write_in_blocks(trained, log: pd.DataFrame, path: Path, size: int) -> None:
    with StagedTable(path) as staged:
        check, _ = score_in_blocks(
            loaded_of(log, TABLE), AS_OF, trained.scorer, write=staged.write, chunk_size=size
        )
        assert check.missing == check.duplicated == 0 and check.scored == check.expected
        staged.commit()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_same_file_for_any_block_size(trained, tmp_path: Path, suffix: str) -> None:
    log = extra_customers(trained.loaded.transactions)
    paths = [tmp_path / f"scores{size}{suffix}" for size in (250, 611, 100_000)]
    for path, size in zip(paths, (250, 611, 100_000), strict=True):
        write_in_blocks(trained, log, path, size)
    assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()
    scores, _ = score_transactions(loaded_of(log, TABLE), AS_OF, trained.scorer)
    whole = tmp_path / f"whole{suffix}"
    write_atomically(scores, whole)
    read = pd.read_parquet if suffix == ".parquet" else pd.read_csv
    pd.testing.assert_frame_equal(read(paths[0]), read(whole), check_exact=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_engine_reconciliation_agrees_with_pandas(trained) -> None:
    log = extra_customers(trained.loaded.transactions)
    scores, check = score_transactions(
        loaded_of(log, TABLE), AS_OF, trained.scorer, chunk_size=400
    )
    day = pd.Timestamp(AS_OF)
    assert check == reconcile(log, day, TABLE, scores)
    con = connect()
    lines = as_table(log, con)
    for written in (scores.iloc[1:], pd.concat([scores, scores.iloc[:2]])):  # short, doubled
        ids = register_frame(written[["customer_id"]].astype({"customer_id": str}), con)
        on_engine = reconcile_on_engine(lines, day, TABLE, ids, len(written))
        assert on_engine == reconcile(log, day, TABLE, written)
    assert on_engine.duplicated == 2


def test_a_failing_block_leaves_nothing(trained, tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    written = []

    def write_then_fail(frame: pd.DataFrame) -> None:
        if written:
            raise OSError("disk full")
        written.append(frame)
        staged.write(frame)

    with pytest.raises(OSError, match="disk full"), StagedTable(path) as staged:
        score_in_blocks(
            trained.loaded, AS_OF, trained.scorer, write=write_then_fail, chunk_size=300
        )
    assert list(tmp_path.iterdir()) == []


def test_scoring_job_refuses_a_result_that_misses_customers(
    trained, tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("the previous scores\n")
    score = Scorer.score_features
    monkeypatch.setattr(
        Scorer, "score_features", lambda self, block, levels: score(self, block, levels).iloc[1:]
    )
    loaded = LoadedData(trained.loaded.transactions, None, trained.loaded.report)
    with pytest.raises(CustlensError, match="reconciliation failed, nothing written"):
        score_job.run(loaded, AS_OF, trained.scorer, path, chunk_size=500)
    assert path.read_text() == "the previous scores\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_parquet_row_groups_do_not_depend_on_blocks(tmp_path: Path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setattr(StagedTable, "ROW_GROUP_ROWS", 100)
    frame = pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(1050)], "clv": range(1050)})
    frame["customer_id"] = frame["customer_id"].astype("string")
    paths = []
    for sizes in ([1050], [7, 93, 500, 450], [100] * 10 + [50]):
        path = tmp_path / f"t{len(sizes)}.parquet"
        with StagedTable(path) as staged:
            start = 0
            for size in sizes:
                staged.write(frame.iloc[start : start + size])
                start += size
            staged.commit()
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()
    assert pq.ParquetFile(paths[1]).metadata.num_row_groups == 11
    pd.testing.assert_frame_equal(pd.read_parquet(paths[1]), frame)


def test_running_out_of_engine_memory_is_one_clear_error(trained, tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    loaded = LoadedData(trained.loaded.transactions, None, trained.loaded.report)
    with pytest.raises(CustlensError, match="raise engine.memory_limit"):
        score_job.run(
            loaded, AS_OF, trained.scorer, path, chunk_size=500, con=connect(memory_limit="1MB")
        )
    assert list(tmp_path.iterdir()) == []


def test_fee_only_customers_are_scored_and_counted_apart(trained) -> None:
    log, day = trained.loaded.transactions, pd.Timestamp(AS_OF)
    fees = pd.DataFrame(
        {
            "customer_id": ["FEES", "LATER"],
            "first": [day - pd.Timedelta(days=30), day + pd.Timedelta(days=1)],
        }
    ).astype({"customer_id": "string"})
    loaded = LoadedData(log, TABLE, None, fees)
    customers = loaded.customers_as_of(AS_OF)
    parts: list[pd.DataFrame] = []
    check, _ = score_in_blocks(loaded, AS_OF, trained.scorer, write=parts.append, chunk_size=300)
    scores = pd.concat(parts, ignore_index=True)
    assert "FEES" in set(scores["customer_id"]) and "LATER" not in set(scores["customer_id"])
    assert check.non_product_only == 1 and check.missing == check.duplicated == 0
    assert check.scored == check.expected == len(scores)
    assert check == reconcile(log, day, customers, scores, fees)
    fee_row = scores.loc[scores["customer_id"] == "FEES"].iloc[0]
    assert 0 <= fee_row["churn_probability"] <= 1 and fee_row["clv"] >= 0
