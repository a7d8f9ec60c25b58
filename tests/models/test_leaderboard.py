"""Leaderboard helpers and the champion rule."""

from __future__ import annotations

import pandas as pd

from custlens.models.evaluation.leaderboard import baseline_gaps, headline_score, should_promote

BOARD = pd.DataFrame(
    [
        {"task": "churn", "scorer": "custlens", "roc_auc": 0.82, "ece": 0.02},
        {"task": "churn", "scorer": "bgnbd", "roc_auc": 0.80, "ece": 0.05},
        {"task": "clv", "scorer": "custlens", "gini": 0.84},
        {"task": "clv", "scorer": "bgnbd_gg", "gini": 0.86},
    ]
)


def test_gaps_respect_the_direction_of_each_metric() -> None:
    gaps = baseline_gaps(BOARD).set_index(["task", "metric"])
    assert gaps.loc[("churn", "roc_auc"), "as_good"]
    assert gaps.loc[("churn", "ece"), "as_good"]  # lower is better
    assert not gaps.loc[("clv", "gini"), "as_good"]


def test_headline_and_promotion_rule() -> None:
    score = headline_score(BOARD)
    assert score == (0.82 + 0.84) / 2
    assert should_promote(score, "fp", None) == (True, "no champion yet")
    same = {"backtest_fingerprint": "fp", "headline_score": "0.9"}
    assert not should_promote(score, "fp", same)[0]
    assert should_promote(0.95, "fp", same)[0]
    assert not should_promote(0.95, "other", same)[0]
    assert should_promote(0.1, "other", same, mode="force")[0]
    assert not should_promote(0.99, "fp", None, mode="never")[0]
