"""scripts/protocol.py: the evaluation protocol's population, truth and judging."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custlens.config import to_spec
from custlens.data import DataSpec
from custlens.errors import CustlensError
from tests.helpers import compose_config, load_script

protocol = load_script("protocol", "tools")


def lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "d"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-02",
                    "2024-01-05",
                    "2024-01-09",
                    "2024-02-03",
                    "2024-02-05",
                ]
            ),
            "amount": [10.0, 30.0, 5.0, -4.0, 8.0, 7.0],
        }
    )


def test_truth_and_judge_on_a_hand_log() -> None:
    truth = protocol.truth(lines(), pd.Timestamp("2024-02-01"), 30).set_index("customer_id")
    assert list(truth.index) == ["a", "b"]  # c has no positive line before; d is new
    assert truth["churned"].to_dict() == {"a": False, "b": True}
    assert truth["value"].to_dict() == {"a": 30.0, "b": 0.0}
    assert truth["next_order_days"].fillna(-1).to_dict() == {"a": 2, "b": -1}  # from 01-31
    assert truth["previous_value"].to_dict() == {"a": 0.0, "b": 5.0}  # the 30 days before
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "as_of": pd.Timestamp("2024-01-31"),
            "churn_probability": [0.2, 0.9],
            "value_at_risk": [2.0, 4.5],
            "clv": [25.0, 1.0],
            "clv_low": [0.0, 0.0],
            "clv_high": [20.0, 2.0],
            "next_order_date": pd.to_datetime(["2024-02-03", None]),
            "order_chance_7d": [0.6, 0.05],
            "order_chance_30d": [0.8, 0.1],
        }
    )
    figures = protocol.judge(truth.reset_index(), scores, horizon_days=30)
    assert figures["churn_roc_auc"] == 1.0 and figures["population"] == 2
    assert figures["value_interval_coverage"] == 0.5  # 30 is above a's 20; b's 0 is within
    assert figures["timing_date_precision"] == 1.0 and figures["timing_date_error_days"] == 1
    assert figures["timing_order_gap_7d"] == pytest.approx(0.325 - 0.5)
    assert figures["timing_incoherent_customers"] == 0
    with pytest.raises(CustlensError, match="1 customers of the population have no score"):
        protocol.judge(truth.reset_index(), scores.iloc[:1])


def test_online_retail_population_matches_the_protocol(shared_data: Path) -> None:
    spec = to_spec(compose_config("protocol").data, DataSpec)
    history = protocol.protocol_lines(spec)
    assert list(history.columns) == [  # the canonical columns of shared/EVALUATION.md
        *("customer_id", "order_id", "timestamp", "amount", "quantity", "unit_price"),
        *("product_id", "country"),
    ]
    truth = protocol.truth(history, pd.Timestamp("2011-09-11"), 90)
    assert len(truth) == 5_281  # shared/EVALUATION.md
    assert round(truth["churned"].mean(), 3) == 0.566
