"""Rolling-origin training frames: cutoffs over a history, labelled snapshots, stacked."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pandas as pd
from ibis.expr.types import Table

from custlens.engines.local import borrowed
from custlens.errors import DataError
from custlens.features.build import build_features
from custlens.features.labels import build_labels, eligible
from custlens.features.source import Transactions, as_table, to_date
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from custlens.sampling import stable_share


def data_span(
    transactions: Transactions, con: ibis.BaseBackend | None = None
) -> tuple[date, date]:
    """First and last calendar day with a transaction."""
    with borrowed(con) as engine:
        t = as_table(transactions, engine)
        span = engine.to_pandas(t.aggregate(first=t.timestamp.min(), last=t.timestamp.max()))
    return span["first"].iloc[0].date(), span["last"].iloc[0].date()


def rolling_cutoffs(first: date, last: date, horizon_days: int, spec: FrameSpec) -> list[date]:
    """Cutoffs `step_days` apart (by default from the history's length, `auto_step`),
    ascending, the latest one's label window ending on `last`.

    Refused, with what the history lacks, when it is too short for one labelled cutoff after
    `min_history_days` of features."""
    span = (last - first).days
    needed = spec.min_history_days + horizon_days
    if span < needed:
        raise DataError(
            f"the history covers {span} days ({first}..{last}); training needs at least "
            f"{needed} ({spec.min_history_days} days of feature history, frames."
            f"min_history_days, then a {horizon_days}-day horizon) and judging the model out "
            f"of time {needed + horizon_days}: use a longer history or a shorter horizon "
            f"(horizon_days=...)"
        )
    step = spec.step_days or auto_step(span, horizon_days, spec.min_history_days)
    latest = last - timedelta(days=horizon_days)
    earliest = first + timedelta(days=spec.min_history_days)
    cutoffs = []
    day = latest
    while day >= earliest:
        cutoffs.append(day)
        day -= timedelta(days=step)
    cutoffs.reverse()
    return cutoffs[-spec.max_cutoffs :] if spec.max_cutoffs else cutoffs


AUTO_CUTOFFS = 12  # training cutoffs the automatic step aims for, from 7 to 14 days apart


def auto_step(span_days: int, horizon_days: int, min_history_days: int) -> int:
    """14 days between cutoffs, or down to 7 when a short history leaves room for fewer than
    AUTO_CUTOFFS of them."""
    room = span_days - min_history_days - horizon_days
    return int(min(14, max(7, room // AUTO_CUTOFFS)))


def can_judge(cutoffs: list[date], horizon_days: int) -> bool:
    """Whether a model can be trained on some cutoffs and tested on a later one, out of time:
    some cutoff's labels end by the latest cutoff."""
    return bool(cutoffs) and cutoffs[0] + timedelta(days=horizon_days) <= cutoffs[-1]


def labelled_snapshot(
    transactions: Transactions,
    as_of: date,
    features: FeatureSpec,
    labels: LabelSpec,
    con: ibis.BaseBackend,
    last_day: date | None = None,
) -> pd.DataFrame:
    """Features of the eligible customers at `as_of`, their labels, `as_of` as a column, and
    `observed_days`: the days of history after as_of up to `last_day` (the data's last day),
    beyond which `next_order_days` is unknown."""
    table = build_features(transactions, as_of, features, con=con)
    table = table.loc[eligible(table, labels)].reset_index(drop=True)
    outcome = build_labels(transactions, as_of, table["customer_id"], features, con=con)
    table.insert(1, "as_of", pd.Timestamp(as_of))
    out = pd.concat([table, outcome.drop(columns="customer_id")], axis=1)
    observed = (last_day - as_of).days if last_day is not None else max(features.curve_days)
    out["observed_days"] = observed
    hidden = out["next_order_days"] > observed
    out.loc[hidden, "next_order_days"] = float("nan")  # not knowable on that last day
    return out


def sample_customers(table: Table, share: float) -> Table:
    """The lines of a stable share of the customers, chosen on the engine by a hash of their
    id (`custlens.sampling.stable_share`): nothing travels to this process, and the same
    customers are kept on any engine."""
    if not 0 < share <= 1:
        raise DataError(f"frames.customer_share must be in (0, 1], not {share}")
    return table.filter(stable_share(table.customer_id, share))


def training_frame(
    transactions: Transactions,
    cutoffs: list[date],
    features: FeatureSpec | None = None,
    labels: LabelSpec | None = None,
    con: ibis.BaseBackend | None = None,
    customer_share: float | None = None,
) -> pd.DataFrame:
    """Labelled snapshots at every cutoff, stacked; `as_of` tells them apart.

    Each snapshot is one row per customer, computed on the engine `con` and collected here
    (training is single-node); `customer_share` samples customers before collecting.
    """
    features, labels = features or FeatureSpec(), labels or LabelSpec()
    with borrowed(con) as engine:
        table = as_table(transactions, engine)
        _, last = data_span(table, engine)
        if customer_share is not None:
            table = sample_customers(table, customer_share)
        parts = [
            labelled_snapshot(table, to_date(c), features, labels, engine, last) for c in cutoffs
        ]
    return pd.concat(parts, ignore_index=True)
