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
    scores = pd.DataFrame(
        {"customer_id": ["a", "b"], "churn_probability": [0.2, 0.9], "clv": [25.0, 1.0]}
    )
    figures = protocol.judge(truth.reset_index(), scores)
    assert figures["churn_roc_auc"] == 1.0 and figures["population"] == 2
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
