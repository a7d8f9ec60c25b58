"""Transparent CRM views: RFM scores, ABC value tiers and lifecycle stages.

Pure functions over the feature table of `custlens.features.build.build_features` (or over a
vector of predicted values, or a segment profile), meant to be read and checked by hand next
to the models. Every rule table is a module constant documented in its function's docstring.
Customers without a purchase (``has_purchase`` false) get a "no purchase" answer everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custlens.errors import CustlensError

RFM_COLUMNS = {"r": "recency_days", "f": "frequency", "m": "monetary_total"}
RFM_QUANTILES = (0.2, 0.4, 0.6, 0.8)
NO_PURCHASE = "No purchase yet"
# The R-versus-FM grid: RFM_GRID[r - 1][fm - 1] (see `rfm_segment`).
RFM_GRID = (
    ("Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"),  # R = 1
    ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),  # R = 2
    ("About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"),
    ("Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Champions"),
    (
        "Recent Customers (New)",
        "Potential Loyalists",
        "Potential Loyalists",
        "Champions",
        "Champions",
    ),  # R = 5
)
DEFAULT_TIER_SHARES = (0.8, 0.15)
DEFAULT_RISK_BANDS = (0.4, 0.7)  # churn probability from which the risk is medium, high


@dataclass
class ScoringSettings:
    """How scores become labels in the scored table: the churn probabilities from which the
    risk is medium and high, the value shares of tiers A and B, the level of the value
    interval, and whether each scoring day sets the probabilities' and values' levels."""

    risk_bands: list[float] = field(default_factory=lambda: list(DEFAULT_RISK_BANDS))
    tier_shares: list[float] = field(default_factory=lambda: list(DEFAULT_TIER_SHARES))
    interval_level: float = 0.8  # the share of customers clv_low..clv_high should hold
    # Set each scoring day's levels from the season and BG/NBD (custlens.models.levels);
    # false: the models' own levels.
    levels: bool = True

    def __post_init__(self) -> None:
        bands = list(self.risk_bands)
        if len(bands) != 2 or not 0 < bands[0] < bands[1] < 1:
            raise CustlensError(
                f"scoring.risk_bands must be two probabilities, medium below high, not {bands}"
            )
        if not 0 < self.interval_level < 1:
            raise CustlensError(
                f"scoring.interval_level must lie between 0 and 1, not {self.interval_level}"
            )
        shares = list(self.tier_shares)
        if len(shares) != 2 or not (shares[0] > 0 and shares[1] >= 0 and sum(shares) <= 1):
            raise CustlensError(
                f"scoring.tier_shares must be two shares of value (A, B) summing to at most 1, "
                f"not {shares}"
            )


# Lifecycle thresholds (see `lifecycle_stage`).
LAPSED_MIN_DAYS = 180
LAPSED_GAP_MULTIPLE = 3.0
LAPSED_MAX_DAYS = 365
NEW_TENURE_DAYS = 90
NEW_SINGLE_TENURE_DAYS = 180
DECLINING_TREND = 0.75
DECLINING_OVERDUE = 2.0
GROWING_TREND = 1.25
LIFECYCLE_COLUMNS = (
    "has_purchase",
    "recency_days",
    "gap_median",
    "tenure_days",
    "frequency",
    "trend_orders_90_365d",
    "overdue_ratio",
)


def require_columns(frame: object, columns: Sequence[str]) -> pd.DataFrame:
    """`frame` as a DataFrame having `columns`, or a CustlensError naming the missing ones."""
    if not isinstance(frame, pd.DataFrame):
        raise CustlensError(f"expected a feature DataFrame, got {type(frame).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise CustlensError(f"feature table lacks column(s): {', '.join(missing)}")
    return frame


def has_purchase(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the customers with at least one purchase (missing counts as no)."""
    return frame["has_purchase"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def rfm_edges(features: pd.DataFrame) -> dict[str, list[float]]:
    """Quintile edges (20/40/60/80th percentiles) of R, F and M over the customers who bought.

    Store them with a model so new customers are scored against the training population.
    Repeated edges (frequency is often 1 for half the customers) are kept as they are.
    """
    frame = require_columns(features, ["has_purchase", *RFM_COLUMNS.values()])
    bought = frame.loc[has_purchase(frame), list(RFM_COLUMNS.values())].astype(float)
    if bought.empty:
        raise CustlensError("RFM edges need at least one customer with a purchase")
    quantiles = bought.quantile(list(RFM_QUANTILES))
    return {column: quantiles[column].tolist() for column in RFM_COLUMNS.values()}


def _score(values: np.ndarray, edges: Sequence[float], higher_is_better: bool) -> np.ndarray:
    # Quintile = 1 + number of edges strictly below the value: bins (-inf, e1], (e1, e2], ...
    # Equal values share a score; a quintile emptied by repeated edges is skipped, not
    # renumbered, so a score keeps meaning "k-th fifth of the reference population".
    quintile = np.searchsorted(np.asarray(edges, dtype=float), values, side="left") + 1
    return quintile if higher_is_better else 6 - quintile


def rfm_segment(r: int, fm: int) -> str:
    """The segment of an R score and an FM score (1-5, 5 best) on the usual R-vs-FM grid.

    | R \\ FM | 1              | 2              | 3              | 4         | 5          |
    |--------|----------------|----------------|----------------|-----------|------------|
    | 5      | Recent (New)   | Potential      | Potential      | Champions | Champions  |
    | 4      | Promising      | Potential      | Potential      | Loyal     | Champions  |
    | 3      | About to Sleep | About to Sleep | Need Attention | Loyal     | Loyal      |
    | 2      | Hibernating    | Hibernating    | At Risk        | At Risk   | Can't Lose |
    | 1      | Lost           | Lost           | At Risk        | At Risk   | Can't Lose |

    Recent (New) = "Recent Customers (New)", Potential = "Potential Loyalists", Loyal =
    "Loyal Customers", Can't Lose = "Can't Lose Them". High FM with a fading R needs saving
    first; a fresh R with low FM is new or promising.
    """
    return RFM_GRID[r - 1][fm - 1]


def rfm_scores(
    features: pd.DataFrame,
    reference: pd.DataFrame | Mapping[str, Sequence[float]] | None = None,
) -> pd.DataFrame:
    """R, F and M scores (1-5, 5 best), the cell ("545") and the named RFM segment.

    `reference` gives the quintile edges: a training feature table, the dict of `rfm_edges`,
    or None for the edges of `features` itself. R scores recency_days (lower is better), F
    frequency, M monetary_total. FM is the mean of F and M rounded half up. Customers without a
    purchase get scores 0, cell "000" and segment "No purchase yet". Index as `features`.

    Ties: a value's quintile is 1 + the number of edges strictly below it (bins right-closed),
    so equal values always share a score and repeated edges leave a quintile empty instead of
    renumbering: with half the customers at one order, F jumps from 1 to 3 for two orders.
    """
    frame = require_columns(features, ["has_purchase", *RFM_COLUMNS.values()])
    if reference is None or isinstance(reference, pd.DataFrame):
        edges = rfm_edges(frame if reference is None else reference)
    else:
        edges = {c: list(reference[c]) for c in RFM_COLUMNS.values()}
    buyers = has_purchase(frame)
    out = pd.DataFrame(index=frame.index)
    for letter, column in RFM_COLUMNS.items():
        values = frame[column].to_numpy(dtype=float)
        score = _score(values, edges[column], higher_is_better=letter != "r")
        out[f"{letter}_score"] = np.where(buyers, score, 0).astype(int)
    fm = np.floor((out["f_score"] + out["m_score"]) / 2 + 0.5).astype(int)
    out["rfm_cell"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    out["rfm_segment"] = [
        rfm_segment(r, m) if bought else NO_PURCHASE
        for r, m, bought in zip(out["r_score"], fm, buyers, strict=True)
    ]
    return out


def value_tiers(
    predicted_value: Sequence[float] | pd.Series,
    thresholds: Mapping[str, float] | None = None,
    shares: tuple[float, float] = DEFAULT_TIER_SHARES,
) -> tuple[pd.Series, dict[str, float]]:
    """ABC (Pareto) tiers of customers by predicted value, and the value thresholds used.

    Sorted by value, tier A holds the top customers making up the first `shares[0]` (80%) of
    the total value, *including the customer who crosses that line*; B the next `shares[1]`
    (15%), crossing customer included; C the rest. Negative values count as zero. The tiers
    are applied through the thresholds (A: value >= thresholds["A"], B: >= thresholds["B"]),
    so customers tied with the last A customer are A too, and `apply_value_tiers` gives the
    same answer on the same data. Given `thresholds`, they are applied instead.
    Example: values 50, 30, 10, 5, 3, 2 give A, A, B, B, C, C (50 + 30 reach 80%).
    """
    values = _values(predicted_value)
    if thresholds is None:
        thresholds = _thresholds(values.to_numpy(), shares)
    return apply_value_tiers(values, thresholds), dict(thresholds)


def _values(predicted_value: Sequence[float] | pd.Series) -> pd.Series:
    values = pd.Series(predicted_value, dtype=float)
    if not np.isfinite(values.to_numpy()).all():
        raise CustlensError("predicted values must be finite numbers (no NaN)")
    return values


def _thresholds(values: np.ndarray, shares: tuple[float, float]) -> dict[str, float]:
    a_share, b_share = shares
    if not (0 < a_share and 0 <= b_share and a_share + b_share <= 1):
        raise CustlensError(f"tier shares must be positive and sum to at most 1, got {shares}")
    ordered = np.sort(np.clip(values, 0, None))[::-1]
    total = ordered.sum()
    if total <= 0:  # nobody brings value: everyone is C
        return {"A": np.inf, "B": np.inf}
    before = (np.cumsum(ordered) - ordered) / total  # share reached before each customer
    in_a = _below(before, a_share)
    in_b = _below(before, a_share + b_share) & ~in_a  # positive: some value is still to come
    a_min = float(ordered[in_a].min())
    b_min = float(ordered[in_b].min()) if in_b.any() else a_min
    return {"A": a_min, "B": b_min}


def _below(share: np.ndarray, line: float) -> np.ndarray:
    # 0.8 + 0.15 is 0.9500000000000001: a share that only reaches the line is not below it
    return (share < line) & ~np.isclose(share, line, rtol=0.0, atol=1e-9)


def apply_value_tiers(
    predicted_value: Sequence[float] | pd.Series, thresholds: Mapping[str, float]
) -> pd.Series:
    """Tier "A", "B" or "C" of each value against stored `value_tiers` thresholds."""
    values = _values(predicted_value)
    tiers = np.select(
        [values >= thresholds["A"], values >= thresholds["B"]], ["A", "B"], default="C"
    )
    return pd.Series(tiers, index=values.index, name="value_tier")


def lifecycle_stage(features: pd.DataFrame) -> pd.Series:
    """Lifecycle stage of each customer; the first matching row wins.

    | stage      | rule                                                                      |
    |------------|---------------------------------------------------------------------------|
    | prospect   | no purchase yet                                                           |
    | lapsed     | recency_days > min(LAPSED_MAX_DAYS (365),                                 |
    |            |     max(LAPSED_MIN_DAYS (180), LAPSED_GAP_MULTIPLE (3) x gap_median))     |
    | new        | tenure_days <= NEW_TENURE_DAYS (90), or frequency == 1 and                |
    |            |     tenure_days <= NEW_SINGLE_TENURE_DAYS (180)                           |
    | declining  | trend_orders_90_365d < DECLINING_TREND (0.75)                             |
    |            |     or overdue_ratio > DECLINING_OVERDUE (2)                              |
    | growing    | trend_orders_90_365d > GROWING_TREND (1.25)                               |
    | mature     | otherwise                                                                 |

    A missing gap_median (one purchase day) leaves the 180-day lapse rule; missing trends or
    overdue ratios never match their rows.
    """
    frame = require_columns(features, LIFECYCLE_COLUMNS)
    data = frame[list(LIFECYCLE_COLUMNS[1:])].astype(float)
    patience = np.fmax(LAPSED_MIN_DAYS, LAPSED_GAP_MULTIPLE * data["gap_median"])
    tenure, trend = data["tenure_days"], data["trend_orders_90_365d"]
    conditions = [
        ~has_purchase(frame),
        data["recency_days"] > np.fmin(LAPSED_MAX_DAYS, patience),
        (tenure <= NEW_TENURE_DAYS)
        | ((data["frequency"] == 1) & (tenure <= NEW_SINGLE_TENURE_DAYS)),
        (trend < DECLINING_TREND) | (data["overdue_ratio"] > DECLINING_OVERDUE),
        trend > GROWING_TREND,
    ]
    stages = ["prospect", "lapsed", "new", "declining", "growing"]
    labels = np.select(conditions, stages, default="mature")
    return pd.Series(labels, index=frame.index, name="lifecycle_stage")
