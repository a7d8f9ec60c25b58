"""The multi-cutoff comparison: per cutoff and pooled, against the best baseline, with
bootstrap intervals that behave as they must."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from custlens.errors import CustlensError
from custlens.models.evaluation import backtest as bt
from custlens.models.evaluation.pipeline import Evaluation
from custlens.models.tasks import TASKS, Scored


def evaluation(cutoff: str, seed: int, n: int = 800) -> Evaluation:
    """custlens ranks churn and value well, `noisy` worse, `copy` exactly as custlens."""
    rng = np.random.default_rng(seed)
    churned = rng.random(n) < 0.5
    value = np.where(churned, 0.0, rng.gamma(2.0, 50.0, n))
    good = churned + rng.normal(scale=0.6, size=n)
    noisy = churned + rng.normal(scale=2.0, size=n)
    probability = 1 / (1 + np.exp(-2 * (good - 0.5)))
    scores = {
        "churn": {"custlens": Scored(probability, True),
                  "noisy": Scored(1 / (1 + np.exp(-noisy)), True),
                  "ranking": Scored(noisy, False)},
        "clv": {"custlens": Scored(value + rng.normal(scale=20, size=n), False),
                "noisy": Scored(value + rng.normal(scale=80, size=n), False)},
    }  # fmt: skip
    board = pd.DataFrame(
        [
            {"task": "churn", "scorer": "custlens", "ece": 0.1},
            {"task": "churn", "scorer": "noisy", "ece": 0.1},
            {"task": "churn", "scorer": "ranking", "ece": np.nan},
            {"task": "clv", "scorer": "custlens", "ece": np.nan},
            {"task": "clv", "scorer": "noisy", "ece": np.nan},
        ]
    )
    outcomes = {"churn": churned.astype(int), "clv": value}
    return Evaluation(pd.Timestamp(cutoff), n, board, scores, outcomes)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    evaluations = [evaluation("2023-01-01", 1), evaluation("2023-04-01", 2)]
    return bt.table(bt.compare(evaluations, resamples=200, seed=0))


def test_rows_per_cutoff_and_pooled_for_every_metric(table: pd.DataFrame) -> None:
    assert set(table["cutoff"]) == {"2023-01-01", "2023-04-01", bt.POOLED}
    churn = set(table.loc[table["task"] == "churn", "metric"])
    assert churn == {m.name for m in TASKS["churn"].metrics}
    assert "repurchase" not in set(table["task"])
    # An interval's coverage is compared only with scorers that have an interval: none here.
    value_metrics = [m for m in TASKS["clv"].metrics if not m.interval]
    assert len(table) == 3 * (len(TASKS["churn"].metrics) + len(value_metrics))


def test_a_better_scorer_wins_with_an_interval_above_zero(table: pd.DataFrame) -> None:
    auc = table.loc[(table["metric"] == "roc_auc")].set_index("cutoff")
    assert (auc["difference"] > 0.05).all() and (auc["low"] > 0).all()
    assert auc["at_least_best"].all() and auc["interval_excludes_zero"].all()
    gini = table.loc[(table["metric"] == "gini") & (table["cutoff"] == bt.POOLED)].iloc[0]
    assert gini["low"] > 0 and gini["low"] <= gini["difference"] <= gini["high"]


def test_probability_metrics_compare_only_probabilities(table: pd.DataFrame) -> None:
    ece = table.loc[table["metric"] == "ece"]
    assert set(ece["baseline"]) == {"noisy"}  # `ranking` gives no probabilities
    lift = table.loc[table["metric"] == "top_decile_lift"]
    assert set(lift["baseline"]) <= {"noisy", "ranking"}


def test_the_same_scores_tie_exactly() -> None:
    tied = evaluation("2023-01-01", 3)
    tied.scores["churn"]["noisy"] = tied.scores["churn"]["custlens"]
    rows = bt.table(bt.compare([tied], resamples=50, seed=1))
    auc = rows.loc[(rows["metric"] == "roc_auc") & (rows["cutoff"] == bt.POOLED)].iloc[0]
    assert auc["difference"] == 0 and auc["low"] == 0 and auc["high"] == 0


def test_cutoffs_are_spaced_back_from_the_latest() -> None:
    assert bt.backtest_cutoffs(date(2011, 9, 10), 3, 90) == [
        date(2011, 3, 14),
        date(2011, 6, 12),
        date(2011, 9, 10),
    ]
    with pytest.raises(CustlensError, match="at least one cutoff"):
        bt.backtest_cutoffs(date(2011, 9, 10), 0, 90)
