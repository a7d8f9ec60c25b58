"""What the report needs of the scored customers, gathered block by block.

The report quotes sums over the whole customer base (per segment, per value tier and risk
band), the few most valuable customers at high risk, and explains a fixed random sample of the
buyers. `ScoredBase.add` takes one block of scores and their feature rows at a time and keeps
only those, so a report on millions of customers needs no more memory than a block; the result
does not depend on how the customers were split into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.plan import Outline, PlanSettings, outline

EXAMPLES = 5  # most valuable customers at high risk quoted by the report
EXAMPLE_COLUMNS = (
    "customer_id",
    "segment_name",
    "churn_probability",
    "clv",
    "top_reasons",
    "value_reasons",
)


def recent_revenue(features: pd.DataFrame) -> pd.Series:
    """Each customer's net revenue over the last year (to date, if the window is missing)."""
    column = "revenue_365d" if "revenue_365d" in features else "monetary_total"
    return features[column].astype("float64").fillna(0.0)


def sample_positions(buyers: int, rows: int, seed: int) -> np.ndarray:
    """Positions, among `buyers` buyers in customer order, of the SHAP sample: all of them, or
    `rows` drawn at random without replacement, ascending."""
    if rows < 1:
        raise CustlensError(f"the SHAP sample needs at least one row, not {rows}")
    if buyers <= rows:
        return np.arange(buyers)
    return np.sort(np.random.default_rng(seed).choice(buyers, rows, replace=False))


def shap_sample(features: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """The buyers of a whole feature table at `sample_positions` (the rows `ScoredBase` keeps
    when it sees the same table in blocks)."""
    buyers = features.loc[features["has_purchase"].astype(bool)]
    return buyers.iloc[sample_positions(len(buyers), rows, seed)]


@dataclass
class ScoredBase:
    """Sums over the scored customers, the report's example rows and (with `sample_rows`) the
    SHAP sample, from blocks of customers in order (a `scoring.blocks.BlockObserver`)."""

    sample_rows: int = 0
    seed: int = 0
    plan: PlanSettings | None = None  # the retention plan the report outlines
    sample_from: np.ndarray | None = None
    as_of: pd.Timestamp | None = None
    customers: int = 0
    _buyers_seen: int = 0
    _segments: list[pd.DataFrame] = field(default_factory=list)
    _cells: list[pd.DataFrame] = field(default_factory=list)
    _glance: np.ndarray = field(default_factory=lambda: np.zeros(4))
    _examples: pd.DataFrame | None = None
    _sample: list[pd.DataFrame] = field(default_factory=list)
    _planned: list[pd.DataFrame] = field(default_factory=list)

    def begin(self, customers: int, buyers: int, levels: Any = None) -> None:
        """Before the first block: the SHAP sample's positions among the `buyers`."""
        if self.sample_rows:
            self.sample_from = sample_positions(buyers, self.sample_rows, self.seed)

    def add(self, scores: pd.DataFrame, features: pd.DataFrame) -> None:
        """Take one block: the scores and the feature rows they were computed from."""
        if (
            len(scores) != len(features)
            or not (
                scores["customer_id"].astype(str).to_numpy()
                == features["customer_id"].astype(str).to_numpy()
            ).all()
        ):
            raise ValueError("scores and features must describe the same customers in order")
        if scores.empty:
            return
        self.as_of = pd.Timestamp(scores["as_of"].iloc[0])
        self.customers += len(scores)
        value = scores["clv"].to_numpy(float)
        revenue = recent_revenue(features).to_numpy()
        high = (scores["churn_risk"] == "high").to_numpy(bool)
        self._glance += [revenue.sum(), value.sum(), high.sum(), value[high].sum()]
        frame = pd.DataFrame(
            {
                "segment_id": scores["segment_id"].to_numpy(),
                "revenue": revenue,
                "clv": value,
                "churn": scores["churn_probability"].to_numpy(float),
                "value_tier": scores["value_tier"].astype(str).to_numpy(),
                "churn_risk": scores["churn_risk"].astype(str).to_numpy(),
            }
        )
        self._segments.append(
            frame.groupby("segment_id").agg(
                customers=("clv", "size"),
                revenue=("revenue", "sum"),
                clv=("clv", "sum"),
                churn=("churn", "sum"),
            )  # fmt: skip
        )
        self._cells.append(
            frame.groupby(["value_tier", "churn_risk"]).agg(
                value=("clv", "sum"), customers=("clv", "size")
            )
        )
        risky = scores.loc[high, list(EXAMPLE_COLUMNS)].nlargest(EXAMPLES, "clv")
        parts = [p for p in (self._examples, risky) if p is not None and len(p)]
        self._examples = pd.concat(parts).nlargest(EXAMPLES, "clv") if parts else risky
        self._keep_sample(features)
        if self.plan is not None:
            self._planned.append(
                pd.DataFrame(
                    {
                        "churn": frame["churn"].to_numpy(),
                        "at_risk": scores["value_at_risk"].to_numpy(float),
                        "segment": scores["segment_name"].astype("category").to_numpy(),
                    }
                )
            )

    def _keep_sample(self, features: pd.DataFrame) -> None:
        if self.sample_from is None:
            return
        bought = features["has_purchase"].astype(bool).to_numpy()
        positions = self._buyers_seen + np.cumsum(bought) - 1
        self._buyers_seen += int(bought.sum())
        chosen = bought & np.isin(positions, self.sample_from)
        if chosen.any():
            self._sample.append(features.loc[chosen])

    @property
    def revenue(self) -> float:
        """Net revenue of the last year over every customer."""
        return float(self._glance[0])

    @property
    def value(self) -> float:
        """Predicted value over every customer."""
        return float(self._glance[1])

    @property
    def high_risk(self) -> int:
        """Customers at high churn risk."""
        return int(self._glance[2])

    @property
    def high_risk_value(self) -> float:
        """Predicted value of the customers at high churn risk."""
        return float(self._glance[3])

    def segments(self) -> pd.DataFrame:
        """Per segment id: customers, revenue, and the sums of predicted value and churn risk."""
        return pd.concat(self._segments).groupby(level=0).sum()

    def cells(self) -> pd.DataFrame:
        """Per (value tier, churn risk): predicted value and customers."""
        return pd.concat(self._cells).groupby(level=[0, 1]).sum()

    def examples(self) -> pd.DataFrame:
        """The most valuable customers at high churn risk, most valuable first."""
        if self._examples is None:
            return pd.DataFrame(columns=list(EXAMPLE_COLUMNS))
        return self._examples

    def plan_outline(self) -> Outline | None:
        """The retention plan's totals, summary by segment and budget curve (None without
        plan settings)."""
        if self.plan is None or not self._planned:
            return None
        rows = pd.concat(self._planned, ignore_index=True)
        segments = rows["segment"].astype(str).to_numpy()
        return outline(rows["churn"].to_numpy(), rows["at_risk"].to_numpy(), segments, self.plan)

    def sample(self) -> pd.DataFrame:
        """The SHAP sample's feature rows (empty without `sample_from`)."""
        return pd.concat(self._sample) if self._sample else pd.DataFrame()
