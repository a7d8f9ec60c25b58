"""Drift of the newest scored entry from its model's reference: the PSI of every feature
(rebuilt from the log at the entry's as_of, block by block on the engine) and every score (the
entry's own rows), the share of customers new since training, and the segments' shares.

A column's alarm thresholds start at the configured PSI (0.1 watch, 0.25 act) and rise with
the drift the column showed in the training history over the same lag (`natural_margin` times
it): a feature that grows with time by construction (tenure, counts to date) drifts there too,
and is not an alarm. The scoring date's own calendar features are left out altogether.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from custlens.features.blocks import FeatureBlocks, FrameBlocks, features_on_engine
from custlens.features.source import Transactions
from custlens.features.spec import FeatureSpec
from custlens.monitoring.ledger import Entry
from custlens.monitoring.reference import ColumnReference, Reference, psi

OK, WATCH, ACT = "ok", "watch", "act"
BLOCK = 100_000  # customers a block while counting


@dataclass(frozen=True)
class Thresholds:
    """PSI from which a column is watched and acted on, before the natural-drift margin."""

    watch: float = 0.1
    act: float = 0.25
    natural_margin: float = 2.0

    def of(self, column: ColumnReference, lag_days: int) -> tuple[float, float]:
        """A column's (watch, act) thresholds at a lag from its reference day."""
        natural = self.natural_margin * column.natural_drift(lag_days)
        return max(self.watch, natural), max(self.act, natural * self.act / self.watch)


def _counts(reference: Reference, blocks: object, known: set[str]) -> dict[str, np.ndarray]:
    totals: dict[str, np.ndarray] = {}
    for block in blocks:
        for name in known & set(block.columns):
            counts = reference.columns[name].counts(block[name])
            totals[name] = totals.get(name, 0) + counts
    return totals


@contextmanager
def _features(
    entry: Entry,
    transactions: Transactions,
    customers: pd.DataFrame | None,
    con: ibis.BaseBackend,
    features: pd.DataFrame | None,
) -> Iterator[FeatureBlocks | FrameBlocks]:
    if features is not None:  # built already by the caller, as of the entry's day
        yield FrameBlocks(features)
        return
    spec = FeatureSpec(**entry.features) if entry.features else FeatureSpec()
    with features_on_engine(transactions, entry.day.date(), spec, customers, con) as built:
        yield built


def drift(
    entry: Entry,
    transactions: Transactions,
    customers: pd.DataFrame | None,
    con: ibis.BaseBackend,
    thresholds: Thresholds,
    features: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The drift table of an entry (as_of, column, kind, psi, watch, act, status) and its
    summary: the share of customers new since the reference day, and the segments' PSI.
    `features`: the feature rows of the entry's day when the caller holds them already."""
    reference = Reference.from_dict(entry.reference)
    lag = (entry.day - pd.Timestamp(reference.as_of)).days
    names = set(reference.columns)
    new = buyers = 0
    with _features(entry, transactions, customers, con, features) as built:

        def bought(blocks: object) -> object:
            nonlocal new, buyers
            for block in blocks:
                has = block["has_purchase"].astype(bool).to_numpy()
                buyers += int(has.sum())
                new += int((has & (block["tenure_days"].to_numpy(float) <= lag)).sum())
                yield block.loc[has]

        counts = _counts(reference, bought(built.blocks(BLOCK)), names)
    rows = con.read_parquet(entry.files)
    scored = rows.filter(rows.lifecycle_stage != "prospect")
    score_columns = [c for c in names if c in scored.columns]
    batches = (
        b.to_pandas() for b in scored.select(*score_columns).to_pyarrow_batches(chunk_size=BLOCK)
    )
    counts |= _counts(reference, batches, set(score_columns))
    segments = rows.group_by("segment_name").aggregate(n=rows.count()).to_pandas()
    table = []
    for name, column in reference.columns.items():
        if name not in counts:
            continue
        value = psi(np.asarray(column.shares), counts[name])
        watch, act = thresholds.of(column, lag)
        kind = "score" if name in score_columns else "feature"
        state = ACT if value >= act else WATCH if value >= watch else OK
        table.append({"as_of": entry.as_of, "column": name, "kind": kind, "psi": value,
                      "watch": watch, "act": act, "status": state})  # fmt: skip
    shares = dict(zip(segments["segment_name"].astype(str), segments["n"], strict=True))
    names_all = sorted(set(shares) | set(reference.segments))
    expected = np.array([reference.segments.get(n, 0.0) for n in names_all])
    actual = np.array([shares.get(n, 0) for n in names_all], float)
    summary = {
        "lag_days": float(lag),
        "new_share": new / buyers if buyers else float("nan"),
        "segment_psi": psi(expected, actual) if names_all else 0.0,
    }
    frame = pd.DataFrame(table).sort_values("psi", ascending=False, ignore_index=True)
    return frame, summary
