"""The classic baselines' building blocks, scored on the same rows as the models.

Each task (custlens.models.tasks) names its baselines and says whether their scores are
probabilities (then judged on calibration too) or rankings only (days since the last purchase,
past spend).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

S = TypeVar("S")

TITLES = {
    "custlens": "custlens",
    "recency": "days since last purchase",
    "rfm_logistic": "RFM logistic regression",
    "bgnbd": "BG/NBD",
    "bgnbd_gg": "BG/NBD + Gamma-Gamma",
    "past_spend": "spend in the last period",
    "total_spend": "spend to date",
}


def title(name: str) -> str:
    """A scorer's name in plain words."""
    return TITLES.get(name, name)


def recency(frame: pd.DataFrame) -> np.ndarray:
    """Days since the last purchase; a missing recency counts as the oldest."""
    return frame["recency_days"].fillna(frame["recency_days"].max()).to_numpy(float)


def _rfm_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Recency, log frequency and signed log spend."""
    frequency = np.log1p(frame["frequency"].to_numpy(float))
    money = frame["monetary_total"].to_numpy(float)
    return np.column_stack([recency(frame), frequency, np.sign(money) * np.log1p(np.abs(money))])


def rfm_logistic(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """Logistic regression on RFM, fitted on the training rows."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(_rfm_matrix(train), train[label].astype(int))
    return model.predict_proba(_rfm_matrix(test))[:, 1]


def past_spend(test: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """Net revenue over the last horizon (the 90-day window scaled when there is none)."""
    column = f"revenue_{horizon_days}d"
    if column in test:
        return test[column].to_numpy(float)
    return test["revenue_90d"].to_numpy(float) * horizon_days / 90


def available(scores: dict[str, S]) -> dict[str, S]:
    """The baselines that could be computed: a BG/NBD fit that failed at a cutoff (too few or
    too alike buyers) leaves its column empty, and then it is left out."""
    return {name: s for name, s in scores.items() if np.isfinite(s.values).all()}
