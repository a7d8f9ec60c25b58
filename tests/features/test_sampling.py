"""Training frames on a stable sample of customers (frames.customer_share)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from custlens.errors import DataError
from custlens.features.frames import data_span, rolling_cutoffs, training_frame
from custlens.features.spec import FeatureSpec, FrameSpec


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    frame, _ = generate_transactions(600, start="2021-01-01", end="2022-12-31", seed=8)
    return frame


def test_sample_keeps_the_same_customers_at_every_cutoff(log: pd.DataFrame) -> None:
    first, last = data_span(log)
    cutoffs = rolling_cutoffs(first, last, 60, FrameSpec(step_days=90, min_history_days=300))
    windows = FeatureSpec(horizon_days=60)
    full = training_frame(log, cutoffs, windows)
    half = training_frame(log, cutoffs, windows, customer_share=0.5)
    again = training_frame(
        log.sample(frac=1, random_state=1), cutoffs, windows, customer_share=0.5
    )
    kept = set(half["customer_id"])
    assert 0.4 < len(kept) / full["customer_id"].nunique() < 0.6
    pd.testing.assert_frame_equal(half, again)  # stable: not the row order, only the ids
    expected = full.loc[full["customer_id"].isin(kept)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        half.drop(columns=[c for c in half if c.startswith("btyd_")]),
        expected.drop(columns=[c for c in expected if c.startswith("btyd_")]),
    )


def test_share_outside_the_unit_interval_is_refused(log: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="customer_share"):
        training_frame(log, [pd.Timestamp("2022-06-01").date()], customer_share=0)


def test_the_engine_and_python_draw_the_same_customers() -> None:
    import ibis

    from custlens.sampling import stable_mask, stable_share, stable_unit

    ids = pd.Series([f"c{i}" for i in range(5000)] + ["12347", "ü-9"])
    table = ibis.memtable({"customer_id": ids})
    for share in (0.01, 0.3, 1.0):
        on_engine = ibis.duckdb.connect().to_pandas(
            table.filter(stable_share(table.customer_id, share))
        )["customer_id"]
        mask = stable_mask(ids, share)
        assert set(on_engine) == set(ids[mask])
        np.testing.assert_array_equal(mask, stable_unit(ids) < share)
    assert 0.25 < stable_mask(ids, 0.3).mean() < 0.35
