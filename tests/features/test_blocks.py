"""Features in blocks of customers equal the whole table, whatever the block size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from custlens.errors import DataError
from custlens.features import probabilistic
from custlens.features.blocks import features_on_engine
from custlens.features.build import build_features

AS_OF = "2023-03-01"


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    frame, _ = generate_transactions(900, start="2021-01-01", end="2023-06-30", seed=5)
    return frame


@pytest.fixture(scope="module")
def customers(log: pd.DataFrame) -> pd.DataFrame:
    """Half the buyers plus 25 prospects; an integer, a boolean and a text attribute."""
    ids = [*sorted(log["customer_id"].unique())[::2], *(f"zz-prospect-{i}" for i in range(25))]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "age": np.arange(len(ids)),
            "member": [i % 3 == 0 for i in range(len(ids))],
            "store": [f"s{i % 4}" for i in range(len(ids))],
        }
    )


def in_blocks(log: pd.DataFrame, size: int, customers: pd.DataFrame | None = None) -> list:
    with features_on_engine(log, AS_OF, customers=customers) as built:
        return list(built.blocks(size))


@pytest.mark.parametrize("size", [97, 400, 10_000])
def test_blocks_concatenate_to_the_whole_table(log: pd.DataFrame, size: int) -> None:
    whole = build_features(log, AS_OF)
    blocks = in_blocks(log, size)
    assert [len(b) for b in blocks[:-1]] == [size] * (len(blocks) - 1)
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole, check_exact=True)


def test_blocks_of_one_customer(log: pd.DataFrame) -> None:
    small = log[log["customer_id"].isin(sorted(log["customer_id"].unique())[:40])]
    blocks = in_blocks(small, 1)
    assert {len(b) for b in blocks} == {1}
    whole = build_features(small, AS_OF)
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole, check_exact=True)


def test_btyd_fit_on_the_same_sample_when_sampling(log: pd.DataFrame, monkeypatch) -> None:
    """With fewer fit rows than buyers, the blocks still get the whole table's BTYD columns
    (the sample is chosen by a hash of the customer id, not per block)."""
    monkeypatch.setattr(probabilistic, "FIT_SAMPLE", 300)
    sampled = build_features(log, AS_OF)
    assert sampled["has_purchase"].sum() > 300
    blocks = pd.concat(in_blocks(log, 250), ignore_index=True)
    pd.testing.assert_frame_equal(blocks, sampled, check_exact=True)
    monkeypatch.undo()  # and the sample did change the fit
    full = build_features(log, AS_OF)
    assert not np.array_equal(sampled["btyd_p_alive"], full["btyd_p_alive"])


def test_customer_table_attributes_keep_one_dtype_per_column(
    log: pd.DataFrame, customers: pd.DataFrame
) -> None:
    whole = build_features(log, AS_OF, customers=customers)
    blocks = in_blocks(log, 25, customers)  # 900 buyers, then the 25 prospects
    for block in blocks:  # a block without missing attributes is typed like one with them
        pd.testing.assert_series_equal(block.dtypes, whole.dtypes)
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole, check_exact=True)
    assert not blocks[-1]["has_purchase"].any()  # the prospects sort last: a block of no buyers


def test_no_customer_on_as_of_is_refused(log: pd.DataFrame) -> None:
    with (
        pytest.raises(DataError, match="no customer has a transaction on or before as_of"),
        features_on_engine(log, "2019-01-01"),
    ):
        pass
