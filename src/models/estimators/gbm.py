"""LightGBM models on feature rows, with early stopping on a later period."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custlens.models.estimators import trees
from custlens.models.estimators.encoding import FeatureEncoder

Matrix = np.ndarray | None  # a model matrix computed already (`FeatureEncoder.matrix`)


class GradientBoostedModel(BaseEstimator):
    """A LightGBM classifier or regressor that encodes feature rows itself, reading only the
    `features` columns (default: the feature catalogue's; see FeatureEncoder).

    Its defaults are LightGBM's own; the models custlens trains are described by
    `custlens.models.estimators.training.ModelSettings`.

    With a validation set, boosting stops once the validation loss has not improved for
    `early_stopping_rounds` rounds and `best_iteration_` records the best round; without one,
    exactly `n_estimators` rounds are fitted.
    """

    def __init__(
        self,
        task: str = "classification",
        objective: str | None = None,
        params: dict[str, Any] | None = None,
        n_estimators: int = 100,
        early_stopping_rounds: int | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.task = task
        self.objective = objective
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.features = features

    def _estimator(self) -> lgb.LGBMModel:
        kind = lgb.LGBMClassifier if self.task == "classification" else lgb.LGBMRegressor
        settings = dict(self.params or {})  # LightGBM's own defaults for the rest
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
        """Fit on feature rows `X` (weighted when given); with `validation` rows, stop early
        when `early_stopping_rounds` is set (callbacks see the validation loss either way)."""
        self.encoder_ = FeatureEncoder(self.features).fit(X)
        self.model_ = self._estimator()
        columns = self.encoder_.columns_
        fit_args: dict[str, Any] = {
            "callbacks": list(callbacks or []),
            "feature_name": columns,
            "categorical_feature": [columns.index(c) for c in self.encoder_.categories_],
        }
        if sample_weight is not None:
            fit_args["sample_weight"] = np.asarray(sample_weight, float)
        stops = validation is not None and bool(self.early_stopping_rounds)
        if validation is not None:
            X_val, y_val = validation  # noqa: N806
            fit_args["eval_X"] = (self.encoder_.matrix(X_val),)
            fit_args["eval_y"] = (np.asarray(y_val),)
        if stops:
            fit_args["callbacks"].append(
                lgb.early_stopping(self.early_stopping_rounds, verbose=False)
            )
        self.model_.fit(self.encoder_.matrix(X), np.asarray(y), **fit_args)
        best = getattr(self.model_, "best_iteration_", None) if stops else None
        self.best_iteration_ = int(best or self.n_estimators)
        self._compiled = None
        return self

    def predict_margin(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """LightGBM's raw score: log-odds, or the predicted value before the objective's link.

        `matrix`, when given, is `encoder_.matrix(X)` computed already (shared by models)."""
        return self._predict(X, matrix, raw_score=True)

    def predict_response(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """The prediction on the response scale (the raw score through the objective's link):
        probability of the positive class, or the predicted value."""
        return self.link(self.predict_margin(X, matrix))

    def link(self, margin: np.ndarray) -> np.ndarray:
        """The objective's inverse link: raw score to probability or value."""
        return inverse_link(self.task, self.objective, margin)

    def _predict(self, X: pd.DataFrame, matrix: Matrix, raw_score: bool) -> np.ndarray:  # noqa: N803
        check_is_fitted(self)
        return self.model_.booster_.predict(
            self.encoder_.matrix(X) if matrix is None else matrix,
            num_iteration=self.best_iteration_,
            raw_score=raw_score,
            num_threads=self.model_.n_jobs,
        )

    def explain(self, X: pd.DataFrame, matrix: Matrix = None) -> tuple[np.ndarray, pd.DataFrame]:  # noqa: N803
        """The raw score and the exact tree SHAP values (raw score units) of each row, in one
        pass; the last column of the values is the bias.

        Equal to LightGBM's raw score and `pred_contrib` (`custlens.models.estimators.trees`), at a
        fraction of the latter's cost per row.
        """
        check_is_fitted(self)
        matrix = self.encoder_.matrix(X) if matrix is None else matrix
        margin, values = trees.contributions(self.compiled_trees(), matrix)
        columns = [*self.encoder_.columns_, "bias"]
        return margin, pd.DataFrame(values, index=X.index, columns=columns)

    def contributions(self, X: pd.DataFrame, matrix: Matrix = None) -> pd.DataFrame:  # noqa: N803
        """Exact tree SHAP values (raw score units) per feature; the last column is the bias."""
        return self.explain(X, matrix)[1]

    def compiled_trees(self) -> trees.CompiledTrees:
        """The trees compiled by `custlens.models.estimators.trees` on first use and kept (not
        pickled)."""
        check_is_fitted(self)
        if getattr(self, "_compiled", None) is None:
            dump = self.model_.booster_.dump_model(num_iteration=self.best_iteration_)
            self._compiled = trees.compile_booster(dump)
        return self._compiled

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_compiled", None)  # derived from the booster, rebuilt where it is needed
        return state

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


def inverse_link(task: str, objective: str | None, margin: np.ndarray) -> np.ndarray:
    """Raw score to probability (classification) or value (exp for log-link objectives)."""
    if task == "classification":
        return 1.0 / (1.0 + np.exp(-margin))
    return np.exp(margin) if (objective or "regression") in _LOG_LINK else margin


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
        n_estimators: int = 100,
        early_stopping_rounds: int | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
        features: tuple[str, ...] | None = None,
        n_seeds: int = 3,
    ) -> None:
        self.task = task
        self.objective = objective
        self.params = params
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.features = features
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
        shared = {k: v for k, v in self.get_params().items() if k != "n_seeds"}
        self.members_ = [
            GradientBoostedModel(**{**shared, "random_state": self.random_state + i}).fit(
                X, y, validation=validation, callbacks=callbacks, sample_weight=sample_weight
            )
            for i in range(self.n_seeds)
        ]
        self.encoder_ = self.members_[0].encoder_
        self.best_iteration_ = int(round(np.mean([m.best_iteration_ for m in self.members_])))
        return self

    def predict_margin(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """The members' mean raw score (the members share one encoder, hence one matrix)."""
        check_is_fitted(self)
        matrix = self.encoder_.matrix(X) if matrix is None else matrix
        return np.mean([m.predict_margin(X, matrix) for m in self.members_], axis=0)

    def predict_response(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """Probability of the positive class, or the predicted value, of the mean raw score."""
        return self.link(self.predict_margin(X, matrix))

    def link(self, margin: np.ndarray) -> np.ndarray:
        """The objective's inverse link: raw score to probability or value."""
        return inverse_link(self.task, self.objective, margin)

    def explain(self, X: pd.DataFrame, matrix: Matrix = None) -> tuple[np.ndarray, pd.DataFrame]:  # noqa: N803
        """The members' mean raw score and mean tree SHAP values (which add up to it)."""
        check_is_fitted(self)
        matrix = self.encoder_.matrix(X) if matrix is None else matrix
        parts = [m.explain(X, matrix) for m in self.members_]
        margin = np.mean([margin for margin, _ in parts], axis=0)
        values = [v for _, v in parts]
        return margin, sum(values[1:], values[0]) / len(values)

    def contributions(self, X: pd.DataFrame, matrix: Matrix = None) -> pd.DataFrame:  # noqa: N803
        """The members' mean tree SHAP values: they add up to the bag's raw score."""
        return self.explain(X, matrix)[1]

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
