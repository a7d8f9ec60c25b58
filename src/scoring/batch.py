"""What batch scoring checks and sums: the scoring day, the reconciliation that every
customer is scored exactly once, and the summary of the scored table by group.

Pure: the block scoring (`custlens.scoring.blocks`) computes them; the commands (or
`custlens.score`) do the reading, writing and logging.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd

from custlens.engines.local import borrowed
from custlens.errors import CustlensError
from custlens.features.build import build_features
from custlens.features.source import as_table, to_date
from custlens.models.levels import Levels, daily_orders, sample_of
from custlens.scoring.scorer import Scorer

DEFAULT_CHUNK = 50_000  # customers scored at a time


def check_chunk_size(chunk_size: int) -> int:
    """A block size of at least one customer, or one clear error."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise CustlensError(f"chunk_size must be a whole number of at least 1, not {chunk_size!r}")
    return chunk_size


@dataclass(frozen=True)
class Reconciliation:
    """Customers expected against rows written, with every exclusion and its reason."""

    with_history: int  # a kept transaction on or before as_of
    table_only: int  # in the customer table, no transaction yet
    only_after_as_of: int  # first kept transaction after as_of: not a customer yet
    scored: int
    duplicated: int
    missing: int
    non_product_only: int = 0  # only non-product lines (fees) on or before as_of

    @property
    def expected(self) -> int:
        """Customers that must appear exactly once."""
        return self.with_history + self.table_only + self.non_product_only

    def table(self) -> pd.DataFrame:
        """The reconciliation as rows of (item, customers)."""
        return pd.DataFrame(
            [
                ("customers with a transaction on or before as_of", self.with_history),
                ("customers only in the customer table", self.table_only),
                ("customers with only non-product lines (fees), scored", self.non_product_only),
                ("expected rows", self.expected),
                ("rows written", self.scored),
                ("excluded: first transaction after as_of", self.only_after_as_of),
                ("duplicated customers", self.duplicated),
                ("missing customers", self.missing),
            ],
            columns=["item", "customers"],
        )


def features_as_of(
    transactions: pd.DataFrame,
    as_of: str,
    scorer: Scorer,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """The scorer's feature rows as of `as_of` (built on the engine `con`), with the `as_of`
    column it expects."""
    day = scoring_day(as_of, scorer)
    features = build_features(transactions, day.date(), scorer.feature_spec, customers, con=con)
    features.insert(1, "as_of", day)
    return features


def levels_as_of(
    transactions: pd.DataFrame,
    features: pd.DataFrame,
    scorer: Scorer,
    con: ibis.BaseBackend | None = None,
) -> Levels | None:
    """The levels of the day of `features_as_of` rows (every customer of that day), from
    their buyers and the log's daily orders."""
    with borrowed(con) as engine:
        daily = daily_orders(as_table(transactions, engine))
    day = pd.Timestamp(features["as_of"].iloc[0])
    return scorer.levels_on(day, sample_of(features), daily)


def scoring_day(as_of: str, scorer: Scorer) -> pd.Timestamp:
    """`as_of` as a day, refused when the model's training data starts after it."""
    day = pd.Timestamp(to_date(as_of))
    if day < pd.Timestamp(scorer.data_start):
        raise CustlensError(
            f"as_of {day.date()} is before the start of the model's training data "
            f"({scorer.data_start}); nothing was known then"
        )
    return day


def check_reconciliation(check: Reconciliation) -> None:
    """Refuse a result that misses, repeats or adds customers."""
    if check.duplicated or check.missing or check.scored != check.expected:
        raise CustlensError(
            "reconciliation failed, nothing written:\n" + check.table().to_string(index=False)
        )


SUMMARY_GROUPS = ("segment_name", "churn_risk", "value_tier")


def summary_sums(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per group: customers and the sums of predicted value and churn probability (additive,
    so the summaries of blocks of customers combine exactly)."""
    return {
        column: scores.groupby(column, observed=True).agg(
            customers=("customer_id", "size"),
            predicted_value=("clv", "sum"),
            churn_probability=("churn_probability", "sum"),
        )
        for column in SUMMARY_GROUPS
    }


def combine_summaries(parts: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The summary of all customers from the sums of its blocks."""
    out = {}
    for column in SUMMARY_GROUPS:
        total = pd.concat([part[column] for part in parts]).groupby(level=0).sum()
        total["churn_probability"] = total["churn_probability"] / total["customers"]
        out[column] = total.sort_values("predicted_value", ascending=False).reset_index()
    return out
