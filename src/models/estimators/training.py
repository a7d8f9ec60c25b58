"""Training on a stacked frame of cutoffs, and the folds its out-of-sample choices use.

With cutoffs c_1 < ... < c_n (all labelled) and horizon H, the final model fits every row. A
few things are chosen on rows the model that chooses them has not seen: the CLV blend weight,
a calibrator when asked, and with `early_stopping_rounds` the number of rounds. `plan_folds`
picks those rows from the frame's own length:
- out of time, when the frame spans more than a horizon: the calibration fold is c_n, fitted
  from the cutoffs whose labels end by c_n (c <= c_n - H); early stopping validates on the
  latest of those and fits on the cutoffs whose labels end by it;
- on held-out customers, when it does not (a short history): a stable fifth of the customers,
  chosen by a hash of their id, at every cutoff, against the others.
The leaderboard says which design was used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from custlens.errors import CustlensError
from custlens.models.estimators.calibration import Calibrator
from custlens.models.estimators.encoding import model_features
from custlens.models.estimators.gbm import GradientBoostedModel, Matrix, SeedBaggedModel
from custlens.models.estimators.seasons import scoring_day, season_weights
from custlens.sampling import stable_unit

OUT_OF_TIME, HELD_OUT = "out of time", "held-out customers"
HOLDOUT_SHARE = 0.2  # customers held out when the history is too short for time folds


@dataclass(frozen=True)
class Folds:
    """Row masks (over the frame) of each role, and the design that chose them."""

    design: str
    fit: np.ndarray  # fits the model whose predictions choose the blend or calibrator
    calibration: np.ndarray
    validation_fit: np.ndarray  # with early stopping: fits, and stops on `validation`
    validation: np.ndarray


def out_of_time(
    as_of: pd.Series, cutoff: pd.Timestamp, horizon_days: int
) -> tuple[np.ndarray, ...]:
    """The one out-of-time split of a stacked frame: the rows known at `cutoff` (their label
    windows end by it: as_of + horizon <= cutoff) and the rows at `cutoff` itself. Training,
    calibration, early stopping, tuning and the backtests all split this way."""
    as_of = pd.to_datetime(as_of)
    cutoff = pd.Timestamp(cutoff)
    known = (as_of + pd.Timedelta(days=horizon_days) <= cutoff).to_numpy()
    return known, (as_of == cutoff).to_numpy()


def plan_folds(frame: pd.DataFrame, horizon_days: int) -> Folds:
    """The folds of `frame`: out of time when it spans more than a horizon, else held-out
    customers. No label window of a fitting row reaches into its out-of-time fold."""
    latest = pd.to_datetime(frame["as_of"]).max()
    known, calibration = out_of_time(frame["as_of"], latest, horizon_days)
    if not known.any():
        held = stable_unit(frame["customer_id"]) < HOLDOUT_SHARE
        if held.all() or not held.any():  # too few customers to hold a fifth out
            held = np.arange(len(frame)) % 5 == 0
        return Folds(HELD_OUT, ~held, held, ~held, held)
    validation_day = pd.to_datetime(frame["as_of"])[known].max()
    validation_fit, validation = out_of_time(frame["as_of"], validation_day, horizon_days)
    if not validation_fit.any():  # one labelled period before the calibration fold
        held = stable_unit(frame["customer_id"]) < HOLDOUT_SHARE
        validation, validation_fit = known & held, known & ~held
    return Folds(OUT_OF_TIME, known, calibration, validation_fit, validation)


def classifier_params() -> dict[str, Any]:
    """LightGBM parameters of the churn and repurchase models: depth-3 trees, whose exact SHAP
    values stay cheap (docs/results.md, "Model size")."""
    return {
        "learning_rate": 0.1,
        "num_leaves": 7,
        "max_depth": 3,
        "min_child_samples": 40,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
    }


@dataclass
class ModelSettings:
    """Hyperparameters of one LightGBM model and how it is trained.

    The one source of the models' defaults: the Python API and the commands (`models.<task>`
    in the config, see custlens.config) train the same models. The defaults are the churn
    and repurchase models'; `value_settings()` gives the CLV model's. `random_state` and
    `n_jobs` come from the run's `seed` and `threads` in the commands.
    """

    objective: str | None = None
    params: dict[str, Any] = field(default_factory=classifier_params)
    n_estimators: int = 150
    early_stopping_rounds: int | None = None  # None: fixed rounds, no validation stage
    min_rounds: int = 0  # with early stopping: floor on the chosen rounds
    calibration: str = "none"  # none | auto | isotonic | sigmoid
    blend_btyd: bool = False  # value models: blend with BG/NBD-Gamma-Gamma (weight chosen OOT)
    n_seeds: int = 1  # > 1: average that many LightGBM models seeded random_state, +1, ...
    season_boost: float = 1.0  # extra weight of cutoffs at the scoring day's time of year
    season_width_days: float = 30.0  # how far in days of year that extra weight reaches
    random_state: int = 0
    n_jobs: int = 1

    def __post_init__(self) -> None:
        whole = {
            "n_estimators": (self.n_estimators, 1),
            "n_seeds": (self.n_seeds, 1),
            "min_rounds": (self.min_rounds, 0),
        }
        if self.early_stopping_rounds is not None:
            whole["early_stopping_rounds"] = (self.early_stopping_rounds, 1)
        for name, (value, least) in whole.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise CustlensError(
                    f"{name} must be a whole number of at least {least}, not {value!r}"
                )
        if self.calibration not in CALIBRATIONS:
            raise CustlensError(
                f"calibration must be one of {', '.join(CALIBRATIONS)}, not {self.calibration!r}"
            )
        if self.season_boost < 0 or self.season_width_days <= 0:
            raise CustlensError(
                "season_boost must be at least 0 and season_width_days above 0, not "
                f"{self.season_boost} and {self.season_width_days}"
            )


CALIBRATIONS = ("none", "auto", "isotonic", "sigmoid")


def value_settings() -> ModelSettings:
    """The CLV model's defaults: Tweedie, 100 trees of 15 leaves, blended with BG/NBD x
    Gamma-Gamma."""
    params = {**classifier_params(), "num_leaves": 15}
    del params["max_depth"]
    return ModelSettings(
        objective="tweedie",
        params=params,
        n_estimators=100,
        blend_btyd=True,
    )


Boosted = GradientBoostedModel | SeedBaggedModel


def boosted_model(
    task: str,
    s: ModelSettings,
    objective: str | None,
    rounds: int,
    features: tuple[str, ...] | None = None,
) -> Boosted:
    """The unfitted model `s` describes, reading only `features`: one LightGBM model, or a
    bag of `n_seeds`."""
    common = {
        "task": task,
        "features": features,
        "objective": objective,
        "params": dict(s.params),
        "n_estimators": rounds,
        "early_stopping_rounds": s.early_stopping_rounds,
        "random_state": s.random_state,
        "n_jobs": s.n_jobs,
    }
    if s.n_seeds > 1:
        return SeedBaggedModel(**common, n_seeds=s.n_seeds)
    return GradientBoostedModel(**common)


def sample_weights(
    part: pd.DataFrame, frame: pd.DataFrame, horizon_days: int, s: ModelSettings
) -> np.ndarray | None:
    """Weights of `part`'s rows for a model trained on `frame` (None: unweighted): its cutoffs
    lean towards the time of year the model will score, where `frame`'s last labels end
    (`custlens.models.estimators.seasons`)."""
    target = scoring_day(frame["as_of"], horizon_days)
    return season_weights(part["as_of"], target, s.season_boost, s.season_width_days)


# Read by `fit` (folds, season weights, held-out customers), never model inputs.
DESIGN_COLUMNS = ("customer_id", "as_of")


@dataclass(frozen=True)
class Recipe:
    """How one LightGBM model of an estimator is fitted on a stacked frame: its settings,
    objective and feature allow-list, the frame's folds, and the horizon of its labels."""

    frame: pd.DataFrame
    y: np.ndarray
    folds: Folds
    kind: str  # classification | regression
    settings: ModelSettings
    objective: str | None
    horizon_days: int
    features: tuple[str, ...] | None

    def model(self, rounds: int) -> Boosted:
        """The unfitted model of `rounds` rounds."""
        return boosted_model(self.kind, self.settings, self.objective, rounds, self.features)

    def rounds(self) -> int:
        """`n_estimators`, or with early stopping the round where the validation fold's loss
        was lowest, floored at `min_rounds` (a validation fold from another season can stop
        boosting far too early)."""
        s, folds = self.settings, self.folds
        if not s.early_stopping_rounds:
            return s.n_estimators
        fit, val = self.frame.loc[folds.validation_fit], self.frame.loc[folds.validation]
        stopped = self.model(s.n_estimators).fit(
            fit,
            self.y[folds.validation_fit],
            validation=(val, self.y[folds.validation]),
            sample_weight=sample_weights(fit, self.frame, self.horizon_days, s),
        )
        return max(stopped.best_iteration_, s.min_rounds)

    def fit(self, rows: np.ndarray | None = None, rounds: int | None = None) -> Boosted:
        """A model fitted on the `rows` of the frame (all: None), weighted by
        `sample_weights`."""
        part, y = (self.frame, self.y) if rows is None else (self.frame.loc[rows], self.y[rows])
        weights = sample_weights(part, self.frame, self.horizon_days, self.settings)
        model = self.model(self.rounds() if rounds is None else rounds)
        return model.fit(part, y, sample_weight=weights)


def _training_inputs(X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:  # noqa: N803
    """The stacked frame and its labels as an array aligned by position."""
    if not isinstance(X, pd.DataFrame) or "as_of" not in X:
        raise CustlensError("X must be a training frame: feature rows with their `as_of` cutoff")
    target = np.asarray(y)
    if target.shape != (len(X),):
        raise CustlensError(f"y must hold one label per row of X ({len(X)}), not {target.shape}")
    return X, target


class CalibratedClassifier(ClassifierMixin, BaseEstimator):
    """A LightGBM classifier trained on every cutoff of a stacked training frame, and the
    calibration map fitted out of time.

    `fit(X, y)`: X the training frame (feature rows with `as_of`, and `customer_id` for a
    short history's held-out fold), y the 0/1 labels. Only the `features` columns (default:
    the feature catalogue's) are model inputs, whatever else X holds. `settings` default to
    `ModelSettings()`.
    """

    def __init__(
        self,
        horizon_days: int = 90,
        settings: ModelSettings | None = None,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.horizon_days = horizon_days
        self.settings = settings
        self.features = features

    def fit(self, X: pd.DataFrame, y: Any) -> CalibratedClassifier:  # noqa: N803
        """Fit on every row; with a calibrator, calibrate out of time on the calibration fold,
        from a model fitted only on what was known before it."""
        frame, target = _training_inputs(X, y)
        s = self.settings or ModelSettings()
        folds = plan_folds(frame, self.horizon_days)
        recipe = Recipe(
            frame, target.astype(int), folds, "classification", s, s.objective,
            self.horizon_days, model_features(self.features),
        )  # fmt: skip
        rounds = recipe.rounds()
        self.model_ = recipe.fit(rounds=rounds)
        self.calibrator_ = None
        if s.calibration != "none":
            staged = recipe.fit(folds.fit, rounds)
            cal = frame.loc[folds.calibration]
            self.calibrator_ = Calibrator(s.calibration, random_state=s.random_state).fit(
                staged.predict_response(cal), recipe.y[folds.calibration]
            )
        self.classes_ = np.array([0, 1])
        self.design_ = folds.design
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Both classes' calibrated probabilities, one row per feature row (scikit-learn's
        shape; `positive_probability` gives the positive class alone)."""
        p = self.positive_probability(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """1 where the calibrated probability is at least a half."""
        return (self.positive_probability(X) >= 0.5).astype(int)

    def positive_probability(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """Calibrated probability of the positive class (LightGBM's own without a calibrator);
        `matrix`: the model matrix of `X`, when computed already."""
        check_is_fitted(self)
        return self._probability(self.model_.predict_margin(X, matrix))

    def explain(self, X: pd.DataFrame, matrix: Matrix = None) -> tuple[np.ndarray, pd.DataFrame]:  # noqa: N803
        """The probability of each row and the exact tree SHAP values of its raw score (log-odds,
        last column the bias), in one pass over the trees."""
        check_is_fitted(self)
        margin, contributions = self.model_.explain(X, matrix)
        return self._probability(margin), contributions

    def boosters(self) -> list[Boosted]:
        """The LightGBM models inside (shared model matrix, prediction threads)."""
        check_is_fitted(self)
        return [self.model_]

    def _probability(self, margin: np.ndarray) -> np.ndarray:
        raw = self.model_.link(margin)
        return raw if self.calibrator_ is None else self.calibrator_.transform(raw)


BLEND_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
BTYD_VALUE = "btyd_expected_value"


def blend(model_value: np.ndarray, features: pd.DataFrame, weight: float) -> np.ndarray:
    """weight x LightGBM + (1 - weight) x BG/NBD-Gamma-Gamma value (LightGBM where that is NaN)."""
    if BTYD_VALUE not in features:
        return model_value
    btyd = features[BTYD_VALUE].to_numpy(float)
    mixed = weight * model_value + (1 - weight) * btyd
    return np.where(np.isfinite(btyd), mixed, model_value)


def choose_blend(y: np.ndarray, model_value: np.ndarray, features: pd.DataFrame) -> float:
    """The weight with the best normalized Gini on the calibration fold (ties: more LightGBM)."""
    from custlens.models.evaluation.metrics import normalized_gini

    if BTYD_VALUE not in features or y.sum() <= 0:
        return 1.0
    gains = {w: normalized_gini(y, blend(model_value, features, w)) for w in BLEND_GRID}
    return max(BLEND_GRID, key=lambda w: (round(gains[w], 6), w))


class ValueRegressor(RegressorMixin, BaseEstimator):
    """Expected value over the horizon (Tweedie LightGBM by default) trained on every cutoff,
    and with `intervals` the spread of a positive value around its mean (`sigma_`, for the
    interval of `custlens.models.tasks.clv`).

    The expected value blends LightGBM with the BG/NBD-Gamma-Gamma value at a weight chosen
    out of time on the calibration fold, where the spread is measured too: the log-sd (robust:
    interquartile range / 1.349) of the positive values around their mean given positive, from
    a model fitted only on what was known before the fold. `fit(X, y)` and `features` as
    `CalibratedClassifier`'s, y the value; `settings` default to `value_settings()`.
    """

    def __init__(
        self,
        horizon_days: int = 90,
        settings: ModelSettings | None = None,
        intervals: bool = True,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.horizon_days = horizon_days
        self.settings = settings
        self.intervals = intervals
        self.features = features

    def fit(self, X: pd.DataFrame, y: Any) -> ValueRegressor:  # noqa: N803
        """Fit the value model, and out of time its blend weight and spread."""
        frame, target = _training_inputs(X, y)
        s = self.settings or value_settings()
        folds = plan_folds(frame, self.horizon_days)
        recipe = Recipe(
            frame, target.astype(float), folds, "regression", s, s.objective or "tweedie",
            self.horizon_days, model_features(self.features),
        )  # fmt: skip
        rounds = recipe.rounds()
        self.model_ = recipe.fit(rounds=rounds)
        self.weight_, self.sigma_ = 1.0, float("nan")
        if s.blend_btyd or self.intervals:
            staged = recipe.fit(folds.fit, rounds)
            cal, y_cal = frame.loc[folds.calibration], recipe.y[folds.calibration]
            predicted = np.maximum(staged.predict_response(cal), 0.0)
            if s.blend_btyd:
                self.weight_ = choose_blend(y_cal, predicted, cal)
            if self.intervals:
                self.sigma_ = spread(y_cal, blend(predicted, cal, self.weight_))
        self.design_ = folds.design
        return self

    def predict(self, X: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:  # noqa: N803
        """Expected value, never negative."""
        check_is_fitted(self)
        return self._value(self.model_.predict_margin(X, matrix), X)

    def explain(self, X: pd.DataFrame, matrix: Matrix = None) -> tuple[np.ndarray, pd.DataFrame]:  # noqa: N803
        """The expected value of each row and the exact tree SHAP values of the LightGBM part's
        raw score (log of value, last column the bias), in one pass over the trees."""
        check_is_fitted(self)
        margin, contributions = self.model_.explain(X, matrix)
        return self._value(margin, X), contributions

    def _value(self, margin: np.ndarray, features: pd.DataFrame) -> np.ndarray:
        value = np.maximum(self.model_.link(margin), 0.0)
        return np.maximum(blend(value, features, self.weight_), 0.0)

    def boosters(self) -> list[Boosted]:
        """The LightGBM model inside."""
        check_is_fitted(self)
        return [self.model_]


SPREAD_FALLBACK = 1.0  # log-sd when the calibration fold has too few positive values


def spread(y: np.ndarray, predicted: np.ndarray) -> float:
    """The log-sd of the positive values around their mean given positive: the mean given
    positive is the prediction over the chance of a positive value, which an isotonic fit of
    (value > 0) on the prediction gives; robust (interquartile range / 1.349)."""
    from sklearn.isotonic import IsotonicRegression

    positive = y > 0
    if positive.sum() < 20 or positive.all():
        return SPREAD_FALLBACK
    chance = IsotonicRegression(y_min=1e-3, y_max=1.0, out_of_bounds="clip")
    chance.fit(predicted, positive.astype(float))
    mean = predicted / chance.predict(predicted)
    keep = positive & (mean > 0)
    residual = np.log(y[keep]) - np.log(mean[keep])
    q1, q3 = np.percentile(residual, [25, 75])
    return float((q3 - q1) / 1.349)
