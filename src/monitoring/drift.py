"""Drift of the newest scored entry from its model's reference: the PSI of every feature
(rebuilt from the log at the entry's as_of, block by block on the engine) and every score (the
entry's own rows), the shift of each number's mean, the share of customers new since
training, and the segments' shares.

Two statistics, as they see different moves. The PSI weighs every bin's share, and is blind
to a rare value becoming rarer: when orders are halved, the buyers with an order in the last
30 days fall from 8% to 5% and the PSI of `orders_30d` is 0.02. The mean's shift in reference
standard deviations (the standardized mean difference) sees that move (-0.12), and a column
drifts when either passes its threshold.

A column's alarm thresholds start at the configured levels (PSI 0.1 watch, 0.25 act; shift
0.1 and 0.25) and rise with the drift the column showed in the training history over the same
lag (`natural_margin` times it): a feature that grows with time by construction (tenure,
counts to date) drifts there too, and is not an alarm. The scoring date's own calendar
features are left out altogether.
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
from custlens.monitoring.reference import ColumnReference, Reference, as_numbers, psi

OK, WATCH, ACT = "ok", "watch", "act"
BLOCK = 100_000  # customers a block while counting


@dataclass(frozen=True)
class Thresholds:
    """PSI, and mean shift in reference standard deviations, from which a column is watched
    and acted on, before the natural-drift margin."""

    watch: float = 0.1
    act: float = 0.25
    natural_margin: float = 2.0
    shift_watch: float = 0.1
    shift_act: float = 0.25

    def of(self, column: ColumnReference, lag_days: int) -> tuple[float, float]:
        """A column's PSI (watch, act) thresholds at a lag from its reference day."""
        natural = self.natural_margin * column.natural_drift(lag_days)
        return max(self.watch, natural), max(self.act, natural * self.act / self.watch)

    def of_shift(self, column: ColumnReference, lag_days: int) -> tuple[float, float]:
        """A column's mean-shift (watch, act) thresholds at a lag from its reference day."""
        natural = self.natural_margin * column.natural_mean_shift(lag_days)
        return (
            max(self.shift_watch, natural),
            max(self.shift_act, natural * self.shift_act / self.shift_watch),
        )


def level(value: float, watch: float, act: float) -> str:
    """ok, watch or act for a statistic against its thresholds (its size, for a shift)."""
    size = abs(value) if np.isfinite(value) else 0.0
    return ACT if size >= act else WATCH if size >= watch else OK


@dataclass
class _Tally:
    """Bin counts, sums and counts of the finite values of each column, over blocks."""

    counts: dict[str, np.ndarray]
    sums: dict[str, float]
    known: dict[str, int]

    def mean(self, name: str) -> float:
        return self.sums[name] / self.known[name] if self.known.get(name) else float("nan")


def _tally(reference: Reference, blocks: object, names: set[str], into: _Tally) -> _Tally:
    for block in blocks:
        for name in names & set(block.columns):
            column = reference.columns[name]
            into.counts[name] = into.counts.get(name, 0) + column.counts(block[name])
            if column.mean is None:
                continue
            x = as_numbers(block[name])
            x = x[np.isfinite(x)]
            into.sums[name] = into.sums.get(name, 0.0) + float(x.sum())
            into.known[name] = into.known.get(name, 0) + x.size
    return into


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
    """The drift table of an entry (as_of, column, kind, psi, watch, act, shift, shift_watch,
    shift_act, status) and its summary: the share of customers new since the reference day,
    and the segments' PSI. `features`: the feature rows of the entry's day when the caller
    holds them already."""
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

        tally = _tally(reference, bought(built.blocks(BLOCK)), names, _Tally({}, {}, {}))
    rows = con.read_parquet(entry.files)
    scored = rows.filter(rows.lifecycle_stage != "prospect")
    score_columns = [c for c in names if c in scored.columns]
    batches = (
        b.to_pandas() for b in scored.select(*score_columns).to_pyarrow_batches(chunk_size=BLOCK)
    )
    _tally(reference, batches, set(score_columns), tally)
    segments = rows.group_by("segment_name").aggregate(n=rows.count()).to_pandas()
    table = []
    for name, column in reference.columns.items():
        if name not in tally.counts:
            continue
        value = psi(np.asarray(column.shares), tally.counts[name])
        watch, act = thresholds.of(column, lag)
        moved = column.shift(tally.mean(name))
        shift_watch, shift_act = thresholds.of_shift(column, lag)
        kind = "score" if name in score_columns else "feature"
        by_psi, by_shift = level(value, watch, act), level(moved, shift_watch, shift_act)
        state = max(by_psi, by_shift, key=(OK, WATCH, ACT).index)
        table.append({"as_of": entry.as_of, "column": name, "kind": kind, "psi": value,
                      "watch": watch, "act": act, "shift": moved, "shift_watch": shift_watch,
                      "shift_act": shift_act, "status": state})  # fmt: skip
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
