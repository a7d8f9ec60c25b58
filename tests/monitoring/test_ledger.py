"""The ledger: entries replaced whole, others untouched, leftovers of a failed write removed,
and an unreadable entry named and left out while the rest stays usable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custlens.errors import CustlensWarning
from custlens.monitoring import ledger


def entry(as_of: str = "2024-03-01", model: str = "custlens-x/3") -> ledger.Entry:
    return ledger.Entry(as_of=as_of, model_version=model, horizon_days=90, repurchase_days=30)


def rows(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"{tag}{i}" for i in range(n)], "clv": range(n)})


def write(root: Path, e: ledger.Entry, frame: pd.DataFrame) -> ledger.Entry:
    with ledger.EntryWriter(root, e) as writer:
        writer.write(frame.iloc[: len(frame) // 2])
        writer.write(frame.iloc[len(frame) // 2 :])
        return writer.commit()


def read(e: ledger.Entry) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in e.files], ignore_index=True)


def test_entries_are_partitioned_by_as_of_and_model(tmp_path: Path) -> None:
    write(tmp_path, entry("2024-03-01"), rows(10, "a"))
    write(tmp_path, entry("2024-04-01", "other/1"), rows(4, "b"))
    found = ledger.entries(tmp_path)
    assert [(e.as_of, e.model_version, e.rows) for e in found] == [
        ("2024-03-01", "custlens-x/3", 10),
        ("2024-04-01", "other/1", 4),
    ]
    folder = ledger.entry_folder(tmp_path, "2024-03-01", "custlens-x/3")
    assert folder.parent.name == "as_of=2024-03-01" and folder.name == "model=custlens-x%2F3"
    assert ledger.model_of(folder.name) == "custlens-x/3"
    pd.testing.assert_frame_equal(read(found[0]), rows(10, "a"))


def test_scoring_again_replaces_the_entry_whole_and_touches_no_other(tmp_path: Path) -> None:
    write(tmp_path, entry("2024-03-01"), rows(10, "a"))
    write(tmp_path, entry("2024-04-01"), rows(6, "b"))
    other = ledger.entry_folder(tmp_path, "2024-04-01", "custlens-x/3")
    before = {p: p.stat().st_mtime_ns for p in other.rglob("*")}
    write(tmp_path, entry("2024-03-01"), rows(3, "new"))
    found = ledger.entries(tmp_path)
    assert [e.rows for e in found] == [3, 6]
    pd.testing.assert_frame_equal(read(found[0]), rows(3, "new"))
    assert {p: p.stat().st_mtime_ns for p in other.rglob("*")} == before
    folder = ledger.entry_folder(tmp_path, "2024-03-01", "custlens-x/3")
    assert len([p for p in folder.iterdir() if p.name.startswith("w-")]) == 1  # old one gone


def test_a_write_that_fails_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    write(tmp_path, entry(), rows(5, "a"))
    with pytest.raises(RuntimeError), ledger.EntryWriter(tmp_path, entry()) as writer:
        writer.write(rows(99, "half"))
        raise RuntimeError("killed")
    (found,) = ledger.entries(tmp_path)
    pd.testing.assert_frame_equal(read(found), rows(5, "a"))
    folder = ledger.entry_folder(tmp_path, entry().as_of, entry().model_version)
    assert len([p for p in folder.iterdir() if p.name.startswith("w-")]) == 1


def test_leftovers_of_a_killed_writer_are_removed_by_the_next(tmp_path: Path) -> None:
    write(tmp_path, entry(), rows(5, "a"))
    folder = ledger.entry_folder(tmp_path, entry().as_of, entry().model_version)
    stale = folder / "w-deadbeef0000"  # what a killed writer leaves: files, no pointer to them
    stale.mkdir()
    rows(7, "z").to_parquet(stale / "part-0000.parquet")
    assert [e.rows for e in ledger.entries(tmp_path)] == [5]  # readers never see it
    ledger.clean(tmp_path)
    assert not stale.exists() and [e.rows for e in ledger.entries(tmp_path)] == [5]


def test_an_unreadable_entry_is_named_and_left_out(tmp_path: Path) -> None:
    good = write(tmp_path, entry("2024-03-01"), rows(10, "a"))
    bad = write(tmp_path, entry("2024-04-01"), rows(10, "b"))
    part = Path(bad.files[0])
    part.write_bytes(part.read_bytes()[:-40])  # truncated
    with pytest.warns(CustlensWarning, match="as_of=2024-04-01.*cannot be read"):
        found = ledger.entries(tmp_path)
    assert [e.as_of for e in found] == [good.as_of]


def test_an_unusable_ledger_path_is_one_clear_error(tmp_path: Path) -> None:
    from custlens.errors import CustlensError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CustlensError, match="ledger.path"):
        ledger.check_root(blocker / "ledger")
