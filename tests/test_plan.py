"""The retention plan: the budget in its three units, the customers most worth a contact
first, a contact-by date from the timing curve, and the targeting judged by the value lost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens import plan
from custlens.errors import CustlensError
from custlens.plan import PlanSettings


def scored(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    churn = rng.uniform(0.05, 0.95, n)
    later = 1 - churn
    curve = {d: later * min(1.0, (d / 90) ** 0.7) for d in (7, 14, 30, 60)}
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "as_of": pd.Timestamp("2024-03-01"),
            "segment_name": rng.choice(["Loyal", "At risk", "New"], n),
            "segment_action": "Call",
            "churn_probability": churn,
            "value_at_risk": churn * rng.gamma(2.0, 50.0, n),
            "clv": rng.gamma(2.0, 50.0, n) * later,
            "top_reasons": "few orders lately",
            **{f"order_chance_{d}d": p for d, p in curve.items()},
            "order_chance_90d": later,
            "order_chance_180d": np.minimum(1, later * 1.3),
        }
    )


def test_the_budget_in_contacts_money_or_a_share_of_the_base() -> None:
    assert PlanSettings(budget=0.1).contacts(1234) == 123
    assert PlanSettings(budget=40, unit="contacts").contacts(1234) == 40
    assert PlanSettings(budget=100, unit="amount", cost_per_contact=3).contacts(1234) == 33
    for bad, message in [
        ({"unit": "calls"}, "plan.unit must be one of"),
        ({"budget": 1.5}, "plan.budget must be above 0"),
        ({"unit": "amount", "budget": 100}, "needs plan.cost_per_contact"),
        ({"save_rate": 0}, "plan.save_rate must lie in"),
        ({"cost_per_contact": -1}, "plan.cost_per_contact must be at least 0"),
    ]:
        with pytest.raises(CustlensError, match=message):
            PlanSettings(**bad)


def test_the_plan_contacts_the_most_worth_it_first_within_the_budget() -> None:
    scores = scored()
    settings = PlanSettings(budget=50, unit="contacts", cost_per_contact=2.0, save_rate=0.25)
    made = plan.make_plan(scores, settings, plan.horizon_of(scores))
    rows = made.rows
    assert len(rows) == 50 and list(rows.columns) == list(plan.PLAN_COLUMNS)
    kept = 0.25 * scores["value_at_risk"]
    assert rows["expected_value_kept"].to_numpy() == pytest.approx(kept.nlargest(50).to_numpy())
    assert rows["net_value"].to_numpy() == pytest.approx(rows["expected_value_kept"] - 2.0)
    assert made.outline.totals["cost"] == 100.0
    assert made.outline.by_segment["contacts"].sum() == 50
    assert (rows["contact_by"] > scores["as_of"].iloc[0]).all()
    assert (rows["contact_by"] <= scores["as_of"].iloc[0] + pd.Timedelta(days=90)).all()
    # A contact that costs more than it keeps is never made, whatever the budget.
    dear = PlanSettings(budget=1.0, cost_per_contact=float(kept.quantile(0.9)), save_rate=0.25)
    assert len(plan.make_plan(scores, dear, 90).rows) == pytest.approx(100, abs=1)


def test_the_curve_and_the_contact_date_come_from_the_timing_columns() -> None:
    scores = scored(10)
    assert plan.horizon_of(scores) == 90
    with pytest.raises(CustlensError, match="timing curve"):
        plan.horizon_of(scores.drop(columns="order_chance_90d"))
    curve = plan.budget_curve(np.array([3.0, 1.0, 2.0]), cost=0.5)
    assert curve["value_kept"].tolist() == [0.0, 3.0, 5.0, 6.0]
    assert curve["net_value"].tolist() == [0.0, 2.5, 4.0, 4.5]


def test_capture_counts_the_value_lost_and_its_bootstrap_form_agrees() -> None:
    lost = np.array([0.0, 10.0, 0.0, 30.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    score = np.arange(10.0)
    metric = plan.CAPTURES[2]  # 20% of the base: the two highest scores
    assert metric(lost, score) == 0.0
    assert metric(lost, -score) == pytest.approx(10 / 100)
    assert metric.weighted(lost, -score, np.ones((1, 10)))[0] == pytest.approx(10 / 100)
    with pytest.raises(CustlensError, match="no value was lost"):
        metric(np.zeros(10), score)


def test_a_plan_that_ranks_by_the_value_at_risk_beats_either_score_alone() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    churn = rng.uniform(0.05, 0.95, n)
    spend = rng.gamma(1.0, 100.0, n)
    clv = (1 - churn) * spend
    lost = plan.lost_value(rng.random(n) < churn, spend)
    rankings = plan.targeting_scores(churn, clv, churn * spend)
    table = plan.compare_targeting(lost, rankings, seed=1)
    leads = table.dropna(subset=["plan_lead"])
    assert len(leads) == 3 * len(plan.SHARES)  # churn only, value only, recent spend only
    assert (leads["lead_low"] > 0).all()  # ahead of both, the interval above zero
