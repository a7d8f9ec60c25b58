"""Classic baselines scored on the same rows as the models.

Each returns {name: (scores, are_probabilities)}: ranking-only scores (days since the last
purchase, past spend) are judged on ranking metrics; probabilities on calibration too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

Scores = dict[str, tuple[np.ndarray, bool]]


def _rfm_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Recency, log frequency and signed log spend; a missing recency counts as very old."""
    recency = frame["recency_days"].fillna(frame["recency_days"].max()).to_numpy(float)
    frequency = np.log1p(frame["frequency"].to_numpy(float))
    money = frame["monetary_total"].to_numpy(float)
    return np.column_stack([recency, frequency, np.sign(money) * np.log1p(np.abs(money))])


def rfm_logistic(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """Logistic regression on RFM, fitted on the training rows."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(_rfm_matrix(train), train[label].astype(int))
    return model.predict_proba(_rfm_matrix(test))[:, 1]


def _past_spend(test: pd.DataFrame, horizon_days: int) -> np.ndarray:
    column = f"revenue_{horizon_days}d"
    if column in test:
        return test[column].to_numpy(float)
    return test["revenue_90d"].to_numpy(float) * horizon_days / 90


def _fitted(scores: Scores) -> Scores:
    """The baselines that could be computed: a BG/NBD fit that failed at a cutoff (too few
    or too alike buyers) leaves its column empty, and then it is left out."""
    return {name: (s, p) for name, (s, p) in scores.items() if np.isfinite(s).all()}


def churn_baselines(train: pd.DataFrame, test: pd.DataFrame, horizon_days: int) -> Scores:
    """Scores where higher means more likely to churn."""
    recency = test["recency_days"].fillna(test["recency_days"].max()).to_numpy(float)
    return _fitted(
        {
            "recency": (recency, False),
            "rfm_logistic": (rfm_logistic(train, test, "churned"), True),
            "bgnbd": (1 - test["btyd_p_order"].to_numpy(float), True),
            "past_spend": (-_past_spend(test, horizon_days), False),
            "total_spend": (-test["monetary_total"].to_numpy(float), False),
        }
    )


def repurchase_baselines(train: pd.DataFrame, test: pd.DataFrame) -> Scores:
    """Scores where higher means more likely to buy again within the short window."""
    recency = test["recency_days"].fillna(test["recency_days"].max()).to_numpy(float)
    return _fitted(
        {
            "recency": (-recency, False),
            "rfm_logistic": (rfm_logistic(train, test, "repurchased"), True),
            "bgnbd": (test["btyd_p_repurchase"].to_numpy(float), True),
        }
    )


def value_baselines(test: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray]:
    """Predicted value over the horizon."""
    return {
        "bgnbd_gg": test["btyd_expected_value"].fillna(0).to_numpy(float),
        "past_spend": np.maximum(_past_spend(test, horizon_days), 0),
        "total_spend": np.maximum(test["monetary_total"].to_numpy(float), 0),
    }
