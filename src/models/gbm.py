"""LightGBM models on feature rows, with early stopping on a later period."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custlens.models.encoding import FeatureEncoder

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 40,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
}


class GradientBoostedModel(BaseEstimator):
    """A LightGBM classifier or regressor that encodes feature rows itself.

    With a validation set, boosting stops once the validation loss has not improved for
    `early_stopping_rounds` rounds and `best_iteration_` records the best round; without one,
    exactly `n_estimators` rounds are fitted.
    """

    def __init__(
        self,
        task: str = "classification",
        objective: str | None = None,
        params: dict[str, Any] | None = None,
        n_estimators: int = 2000,
        early_stopping_rounds: int = 100,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.task = task
        self.objective = objective
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _estimator(self) -> lgb.LGBMModel:
        kind = lgb.LGBMClassifier if self.task == "classification" else lgb.LGBMRegressor
        settings = {**DEFAULT_PARAMS, **(self.params or {})}
        if self.objective:
            settings["objective"] = self.objective
        return kind(
            n_estimators=self.n_estimators,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
            **settings,
        )

    def fit(
        self,
        X: pd.DataFrame,  # noqa: N803
        y: np.ndarray | pd.Series,
        validation: tuple[pd.DataFrame, np.ndarray | pd.Series] | None = None,
        callbacks: list[Any] | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> GradientBoostedModel:
        """Fit on feature rows `X` (weighted when given); stop early on `validation` rows."""
        self.encoder_ = FeatureEncoder().fit(X)
        self.model_ = self._estimator()
        fit_args: dict[str, Any] = {"callbacks": list(callbacks or [])}
        if sample_weight is not None:
            fit_args["sample_weight"] = np.asarray(sample_weight, float)
        if validation is not None:
            X_val, y_val = validation  # noqa: N806
            fit_args["eval_X"] = (self.encoder_.transform(X_val),)
            fit_args["eval_y"] = (np.asarray(y_val),)
            fit_args["callbacks"].append(
                lgb.early_stopping(self.early_stopping_rounds, verbose=False)
            )
        self.model_.fit(self.encoder_.transform(X), np.asarray(y), **fit_args)
        best = getattr(self.model_, "best_iteration_", None) if validation is not None else None
        self.best_iteration_ = int(best or self.n_estimators)
        return self

    def predict_margin(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """LightGBM's raw score: log-odds, or the predicted value before the objective's link."""
        check_is_fitted(self)
        return self.model_.predict(
            self.encoder_.transform(X), num_iteration=self.best_iteration_, raw_score=True
        )

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Probability of the positive class, or the predicted value."""
        check_is_fitted(self)
        matrix = self.encoder_.transform(X)
        if self.task == "classification":
            return self.model_.predict_proba(matrix, num_iteration=self.best_iteration_)[:, 1]
        return self.model_.predict(matrix, num_iteration=self.best_iteration_)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """Exact tree SHAP values (raw score units) per feature; the last column is the bias."""
        check_is_fitted(self)
        values = self.model_.booster_.predict(
            self.encoder_.transform(X),
            num_iteration=self.best_iteration_,
            pred_contrib=True,
            num_threads=self.model_.n_jobs,
        )
        return pd.DataFrame(values, index=X.index, columns=[*self.encoder_.columns_, "bias"])

    def importance(self) -> pd.Series:
        """Total gain per feature, largest first."""
        check_is_fitted(self)
        gains = self.model_.booster_.feature_importance(importance_type="gain")
        return pd.Series(gains, index=self.encoder_.columns_).sort_values(ascending=False)

    def use_threads(self, n_jobs: int) -> None:
        """Threads for prediction (training may have used fewer); -1 uses every core."""
        check_is_fitted(self)
        self.model_.set_params(n_jobs=n_jobs)


# The inverse link of LightGBM's objectives whose raw score is not the prediction itself.
_LOG_LINK = frozenset({"poisson", "tweedie", "gamma"})


class SeedBaggedModel(BaseEstimator):
    """The average of `n_seeds` GradientBoostedModels that differ only in their random seed.

    Members are seeded `random_state`, `random_state + 1`, ... (row and column subsampling
    differ). The bag averages the members' raw scores (log-odds, or log-means for Tweedie)
    and applies the link once, so `contributions` (the members' mean SHAP values) add up to
    the bag's raw score exactly. `best_iteration_` is the members' mean early-stopped round.
    """

    def __init__(
        self,
        task: str = "classification",
        objective: str | None = None,
        params: dict[str, Any] | None = None,
        n_estimators: int = 2000,
        early_stopping_rounds: int = 100,
        random_state: int = 0,
        n_jobs: int = 1,
        n_seeds: int = 3,
    ) -> None:
        self.task = task
        self.objective = objective
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.n_seeds = n_seeds

    def fit(
        self,
        X: pd.DataFrame,  # noqa: N803
        y: np.ndarray | pd.Series,
        validation: tuple[pd.DataFrame, np.ndarray | pd.Series] | None = None,
        callbacks: list[Any] | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> SeedBaggedModel:
        """Fit every member on the same rows (see GradientBoostedModel.fit)."""
        if self.n_seeds < 1:
            raise ValueError(f"n_seeds must be at least 1, not {self.n_seeds}")
        self.members_ = [
            GradientBoostedModel(
                task=self.task,
                objective=self.objective,
                params=self.params,
                n_estimators=self.n_estimators,
                early_stopping_rounds=self.early_stopping_rounds,
                random_state=self.random_state + i,
                n_jobs=self.n_jobs,
            ).fit(X, y, validation=validation, callbacks=callbacks, sample_weight=sample_weight)
            for i in range(self.n_seeds)
        ]
        self.encoder_ = self.members_[0].encoder_
        self.best_iteration_ = int(round(np.mean([m.best_iteration_ for m in self.members_])))
        return self

    def predict_margin(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The members' mean raw score."""
        check_is_fitted(self)
        return np.mean([m.predict_margin(X) for m in self.members_], axis=0)

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Probability of the positive class, or the predicted value, of the mean raw score."""
        margin = self.predict_margin(X)
        if self.task == "classification":
            return 1.0 / (1.0 + np.exp(-margin))
        objective = self.objective or "regression"
        return np.exp(margin) if objective in _LOG_LINK else margin

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """The members' mean tree SHAP values: they add up to the bag's raw score."""
        check_is_fitted(self)
        parts = [m.contributions(X) for m in self.members_]
        return sum(parts[1:], parts[0]) / len(parts)

    def importance(self) -> pd.Series:
        """Mean total gain per feature over the members, largest first."""
        check_is_fitted(self)
        gains = pd.concat([m.importance() for m in self.members_], axis=1).mean(axis=1)
        return gains.sort_values(ascending=False)

    def use_threads(self, n_jobs: int) -> None:
        """Threads for prediction of every member."""
        check_is_fitted(self)
        for member in self.members_:
            member.use_threads(n_jobs)
