"""Probability calibration chosen on its own chronological fold: isotonic or sigmoid."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from custlens.errors import CustlensError

_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p)).reshape(-1, 1)


def _fit(method: str, p: np.ndarray, y: np.ndarray) -> IsotonicRegression | LogisticRegression:
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=_EPS, y_max=1 - _EPS).fit(p, y)
    return LogisticRegression(C=1e6).fit(_logit(p), y)


def _apply(model: IsotonicRegression | LogisticRegression, p: np.ndarray) -> np.ndarray:
    if isinstance(model, IsotonicRegression):
        return np.clip(model.predict(p), _EPS, 1 - _EPS)
    return model.predict_proba(_logit(p))[:, 1]


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class Calibrator(BaseEstimator):
    """Maps raw scores to calibrated probabilities.

    `method="auto"` compares isotonic and sigmoid (Platt) calibration by cross-validated log
    loss within the calibration fold, then refits the winner on the whole fold.
    """

    def __init__(self, method: str = "auto", folds: int = 5, random_state: int = 0) -> None:
        self.method = method
        self.folds = folds
        self.random_state = random_state

    def fit(self, scores: np.ndarray, y: np.ndarray) -> Calibrator:
        """Choose and fit the calibration map on one fold's scores and outcomes."""
        p, y = np.asarray(scores, dtype=float), np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            raise CustlensError("the calibration fold has only one outcome class")
        options = ("isotonic", "sigmoid") if self.method == "auto" else (self.method,)
        if any(m not in ("isotonic", "sigmoid") for m in options):
            raise CustlensError(f"calibration must be auto, isotonic or sigmoid: {self.method}")
        self.losses_ = {m: self._cv_loss(m, p, y) for m in options}
        self.method_ = min(options, key=lambda m: (self.losses_[m], m))
        self.model_ = _fit(self.method_, p, y)
        return self

    def _cv_loss(self, method: str, p: np.ndarray, y: np.ndarray) -> float:
        splits = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        out = np.empty_like(p)
        for train, test in splits.split(p.reshape(-1, 1), y):
            out[test] = _apply(_fit(method, p[train], y[train]), p[test])
        return _log_loss(y, out)

    def transform(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        check_is_fitted(self)
        return _apply(self.model_, np.asarray(scores, dtype=float))
