"""RFM scores, ABC value tiers, lifecycle stages and segment naming rules, on hand examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.errors import CustlensError
from custlens.models.estimators.segment_names import name_segments, rule_name, signals
from custlens.models.rules import (
    RFM_GRID,
    apply_value_tiers,
    lifecycle_stage,
    rfm_edges,
    rfm_scores,
    rfm_segment,
    value_tiers,
)

NAN = np.nan


@pytest.fixture
def ten() -> pd.DataFrame:
    """Ten buyers from best to worst, and one registered customer without a purchase."""
    return pd.DataFrame(
        {
            "has_purchase": [True] * 10 + [False],
            "recency_days": [1, 5, 10, 20, 40, 60, 100, 200, 300, 400, NAN],
            "frequency": [20, 10, 8, 5, 3, 2, 1, 1, 1, 1, 0],
            "monetary_total": [2000, 900, 500, 300, 200, 100, 50, 40, 30, 10, 0.0],
        },
        index=[f"c{i}" for i in range(11)],
    )


def test_rfm_edges_are_quintiles_of_buyers(ten: pd.DataFrame) -> None:
    edges = rfm_edges(ten)
    assert edges["recency_days"] == pytest.approx([9, 32, 76, 220])
    assert edges["frequency"] == pytest.approx([1, 1.6, 3.8, 8.4])  # four 1s: a repeated edge
    assert edges["monetary_total"] == pytest.approx([38, 80, 240, 580])


def test_rfm_scores_cells_and_segments(ten: pd.DataFrame) -> None:
    scores = rfm_scores(ten)
    assert list(scores.columns) == ["r_score", "f_score", "m_score", "rfm_cell", "rfm_segment"]
    assert scores.index.equals(ten.index)
    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0]
    # one order is the bottom fifth; two orders beat 40% of buyers: F jumps from 1 to 3
    assert scores["f_score"].tolist() == [5, 5, 4, 4, 3, 3, 1, 1, 1, 1, 0]
    assert scores["m_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0]
    assert scores["rfm_cell"].tolist()[::2] == ["555", "444", "333", "212", "111", "000"]
    assert scores["rfm_segment"].tolist()[::2] == [
        "Champions",
        "Loyal Customers",
        "Need Attention",
        "Hibernating",  # FM = (1 + 2) / 2 rounds half up to 2
        "Lost",
        "No purchase yet",
    ]


def test_rfm_scores_new_customers_against_stored_edges(ten: pd.DataFrame) -> None:
    edges = rfm_edges(ten)
    new = pd.DataFrame(
        {
            "has_purchase": [True, True, True, False],
            "recency_days": [500, 2, 50, NAN],
            "frequency": [30, 1, 4, 0],
            "monetary_total": [5000, 20, 600, 0.0],
        }
    )
    by_edges = rfm_scores(new, edges)
    pd.testing.assert_frame_equal(by_edges, rfm_scores(new, reference=ten))
    assert by_edges["rfm_cell"].tolist() == ["155", "511", "345", "000"]
    assert by_edges["rfm_segment"].tolist() == [
        "Can't Lose Them",
        "Recent Customers (New)",
        "Loyal Customers",
        "No purchase yet",
    ]


def test_rfm_grid_has_every_usual_segment() -> None:
    names = {name for row in RFM_GRID for name in row}
    assert len(names) == 11
    assert rfm_segment(5, 1) == "Recent Customers (New)"
    assert rfm_segment(4, 1) == "Promising"
    assert rfm_segment(3, 2) == "About to Sleep"
    assert rfm_segment(5, 3) == "Potential Loyalists"


def test_value_tiers_hand_example() -> None:
    values = pd.Series([3, 50, 2, 10, 30, 5], index=list("fabdce"), dtype=float)
    tiers, thresholds = value_tiers(values)
    # 50 + 30 reach 80%: the customer on (or crossing) the line is A; 10 + 5 the next 15%
    assert tiers.to_dict() == {"f": "C", "a": "A", "b": "C", "d": "B", "c": "A", "e": "B"}
    assert thresholds == {"A": 30.0, "B": 5.0}
    assert apply_value_tiers(values, thresholds).equals(tiers)
    assert value_tiers([1.0, 31.0, 100.0], thresholds)[0].tolist() == ["C", "A", "A"]


def test_value_tiers_crossing_customer_ties_and_edge_cases() -> None:
    tiers, _ = value_tiers([60.0, 30.0, 10.0])  # 30 crosses 80% (60% -> 90%)
    assert tiers.tolist() == ["A", "A", "B"]
    tiers, _ = value_tiers([40.0, 40.0, 20.0, 0.0, -5.0])  # 20 starts at 80%: not A
    assert tiers.tolist() == ["A", "A", "B", "C", "C"]
    tiers, _ = value_tiers([40.0, 20.0, 20.0, 20.0])  # the last 20 starts at 80%, tied with A
    assert tiers.tolist() == ["A"] * 4
    tiers, thresholds = value_tiers([0.0, 0.0])
    assert tiers.tolist() == ["C", "C"] and thresholds["A"] == np.inf
    tiers, _ = value_tiers([50.0, 30.0, 20.0], shares=(0.5, 0.3))
    assert tiers.tolist() == ["A", "B", "C"]
    with pytest.raises(CustlensError, match="finite"):
        value_tiers([1.0, NAN])
    with pytest.raises(CustlensError, match="shares"):
        value_tiers([1.0], shares=(0.9, 0.2))


def test_apply_value_tiers_reproduces_tiers_on_the_same_data() -> None:
    values = pd.Series(np.random.default_rng(3).lognormal(3, 1.5, 500))
    tiers, thresholds = value_tiers(values)
    assert apply_value_tiers(values, thresholds).equals(tiers)
    share = values.groupby(tiers).sum() / values.sum()
    assert share["A"] >= 0.8 and share["A"] + share["B"] >= 0.95


def _row(**columns: float) -> dict:
    defaults = {
        "has_purchase": True,
        "recency_days": 20.0,
        "gap_median": 30.0,
        "tenure_days": 700.0,
        "frequency": 10,
        "trend_orders_90_365d": 1.0,
        "overdue_ratio": 0.7,
    }
    return defaults | columns


def test_lifecycle_stage_hand_rows() -> None:
    rows = {
        "prospect": _row(has_purchase=False, recency_days=NAN, frequency=0, tenure_days=NAN),
        "lapsed_one_off": _row(recency_days=200, gap_median=NAN, frequency=1, tenure_days=200),
        "slow_rhythm_not_lapsed": _row(recency_days=200, gap_median=100, overdue_ratio=2.0),
        "lapsed_after_a_year": _row(recency_days=400, gap_median=200, overdue_ratio=2.0),
        "new": _row(recency_days=10, tenure_days=60, frequency=3),
        "new_one_off": _row(recency_days=150, gap_median=NAN, tenure_days=150, frequency=1),
        "declining_trend": _row(recency_days=100, trend_orders_90_365d=0.5, overdue_ratio=1.5),
        "declining_overdue": _row(recency_days=75, overdue_ratio=2.5),
        "growing": _row(trend_orders_90_365d=2.0),
        "mature": _row(),
        "mature_no_trend": _row(trend_orders_90_365d=NAN, overdue_ratio=NAN),
    }
    stages = lifecycle_stage(pd.DataFrame.from_dict(rows, orient="index"))
    assert stages.to_dict() == {
        "prospect": "prospect",
        "lapsed_one_off": "lapsed",
        "slow_rhythm_not_lapsed": "mature",
        "lapsed_after_a_year": "lapsed",
        "new": "new",
        "new_one_off": "new",
        "declining_trend": "declining",
        "declining_overdue": "declining",
        "growing": "growing",
        "mature": "mature",
        "mature_no_trend": "mature",
    }


def test_missing_columns_raise_custlens_error(ten: pd.DataFrame) -> None:
    with pytest.raises(CustlensError, match="frequency"):
        rfm_scores(ten.drop(columns="frequency"))
    with pytest.raises(CustlensError, match="recency_days"):
        rfm_edges(ten.drop(columns="recency_days"))
    with pytest.raises(CustlensError, match="gap_median, tenure_days"):
        lifecycle_stage(pd.DataFrame([_row()]).drop(columns=["gap_median", "tenure_days"]))
    with pytest.raises(CustlensError, match="DataFrame"):
        lifecycle_stage([_row()])


REFERENCE = pd.DataFrame(
    {
        "recency_days": [50.0, 200.0, 400.0],
        "frequency": [1.0, 2.0, 5.0],
        "monetary_total": [30.0, 80.0, 250.0],
        "tenure_days": [250.0, 450.0, 700.0],
        "trend_orders_90_365d": [0.0, 0.0, 1.6],
    },
    index=[0.25, 0.5, 0.75],
)


@pytest.mark.parametrize(
    ("recency", "frequency", "value", "tenure", "trend", "name"),
    [
        (20, 12, 2000, 800, 1.0, "Champions"),
        (300, 9, 1500, 800, 0.5, "Big spenders slipping away"),
        (60, 8, 200, 600, 1.0, "Loyal"),
        (30, 1, 60, 40, 4.0, "Promising newcomers"),
        (600, 1, 20, 650, NAN, "Lost"),
        (250, 1, 50, 500, 0.0, "Hibernating"),
        (300, 3, 150, 700, 0.0, "At risk"),
        (100, 2, 120, 500, 1.0, "Occasional buyers"),
    ],
)
def test_segment_rules(
    recency: float, frequency: float, value: float, tenure: float, trend: float, name: str
) -> None:
    median = pd.Series(
        {
            "recency_days": recency,
            "frequency": frequency,
            "monetary_total": value,
            "tenure_days": tenure,
            "trend_orders_90_365d": trend,
        }
    )
    assert rule_name(signals(median, REFERENCE)) == name


def _profile(rows: dict[int, tuple[float, float, float, float, float, int]]) -> pd.DataFrame:
    columns = [
        "recency_days",
        "frequency",
        "monetary_total",
        "tenure_days",
        "trend_orders_90_365d",
    ]
    profile = pd.DataFrame.from_dict(
        {k: v[:5] for k, v in rows.items()}, orient="index", columns=columns
    ).add_suffix("_median")
    profile["monetary_total_mean"] = profile["monetary_total_median"] * 1.2
    profile.insert(0, "size", [v[5] for v in rows.values()])
    profile.insert(1, "share", profile["size"] / profile["size"].sum())
    return profile


def test_same_rule_names_get_descriptive_qualifiers() -> None:
    profile = _profile(
        {
            0: (20, 12, 2000, 800, 1.0, 100),
            1: (700, 1, 25, 750, NAN, 300),
            2: (690, 1, 2, 700, NAN, 1200),
            -1: (NAN, 0, 0, NAN, NAN, 40),
        }
    )
    segments = name_segments(profile, REFERENCE)
    assert segments["name"].to_dict() == {
        0: "Champions",
        1: "Lost (higher value)",
        2: "Lost (lower value)",
        -1: "Prospects",
    }
    assert segments.at[2, "description"] == (
        "1,200 customers (73%): typically bought once, last 690 days ago; 2 spent on average"
    )
    assert segments.at[-1, "description"] == "40 customers (2%): registered, no purchase yet"
    assert segments.at[1, "action"] == segments.at[2, "action"] == "Suppress or last-chance offer"
    assert list(segments.columns[:3]) == ["name", "description", "action"]
