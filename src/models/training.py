"""Out-of-time training: which cutoffs fit, stop, calibrate and test, and the fitted models.

With cutoffs c_1 < ... < c_n (all labelled) and horizon H:
- calibration fold: c_n; validation fold: the latest cutoff whose labels end by c_n's start
  (c <= c_n - H); fitting rows: cutoffs whose labels end by the validation cutoff.
- boosting runs a fixed number of rounds, or (with `early_stopping_rounds`) as many as the
  validation fold's loss chose; the final model fits every cutoff with that many rounds;
- where something is chosen out of time (a calibrator, the CLV blend weight), a model with the
  same rounds fitted on every cutoff up to c_n - H scores the calibration fold, which chooses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.calibration import Calibrator
from custlens.models.gbm import GradientBoostedModel, Matrix, SeedBaggedModel
from custlens.models.seasons import scoring_day, season_weights


@dataclass(frozen=True)
class Folds:
    """Cutoffs of each chronological role."""

    fit: list[pd.Timestamp]
    validation: pd.Timestamp
    calibration: pd.Timestamp


def plan_folds(cutoffs: list[pd.Timestamp] | pd.Series, horizon_days: int) -> Folds:
    """Fitting, validation and calibration cutoffs; no label window overlaps a later fold."""
    ordered = sorted(pd.Timestamp(c) for c in set(cutoffs))
    gap = pd.Timedelta(days=horizon_days)
    calibration = ordered[-1]
    earlier = [c for c in ordered if c + gap <= calibration]
    if not earlier:
        raise CustlensError(_too_short(ordered, horizon_days))
    validation = earlier[-1]
    fit = [c for c in ordered if c + gap <= validation]
    if not fit:
        raise CustlensError(_too_short(ordered, horizon_days))
    return Folds(fit, validation, calibration)


def _too_short(cutoffs: list[pd.Timestamp], horizon_days: int) -> str:
    return (
        f"{len(cutoffs)} labelled cutoffs ({cutoffs[0].date()}..{cutoffs[-1].date()}) are too "
        f"few to fit, validate and calibrate out of time with a {horizon_days}-day horizon: "
        f"use more history, a shorter horizon or a smaller frames.step_days"
    )


def rows(frame: pd.DataFrame, cutoffs: list[pd.Timestamp] | pd.Timestamp) -> pd.DataFrame:
    """The rows of the given cutoff(s)."""
    wanted = [cutoffs] if isinstance(cutoffs, pd.Timestamp) else cutoffs
    return frame.loc[frame["as_of"].isin(wanted)]


@dataclass
class ModelSettings:
    """Hyperparameters of one LightGBM model and how it is trained."""

    objective: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    n_estimators: int = 150
    early_stopping_rounds: int | None = None  # None: fixed rounds, no validation stage
    min_rounds: int = 0
    calibration: str = "none"
    quantiles: list[float] = field(default_factory=list)
    blend_btyd: bool = False  # value models: blend with BG/NBD-Gamma-Gamma (weight chosen OOT)
    n_seeds: int = 1  # > 1: average that many LightGBM models seeded random_state, +1, ...
    quantile_seeds: int = 1  # the same for the quantile (interval) models
    season_boost: float = 0.0  # extra weight of cutoffs at the scoring day's time of year
    season_width_days: float = 30.0  # how far in days of year that extra weight reaches
    random_state: int = 0
    n_jobs: int = 1


Boosted = GradientBoostedModel | SeedBaggedModel


def _gbm(task: str, s: ModelSettings, objective: str | None, rounds: int) -> Boosted:
    common = {
        "task": task,
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
    (`custlens.models.seasons`)."""
    target = scoring_day(frame["as_of"], horizon_days)
    return season_weights(part["as_of"], target, s.season_boost, s.season_width_days)


def _boosting_rounds(
    frame: pd.DataFrame,
    label: str,
    folds: Folds,
    task: str,
    s: ModelSettings,
    objective: str | None,
    horizon_days: int,
) -> int:
    """`n_estimators`, or with early stopping the round where the validation fold's loss was
    lowest, floored at `min_rounds` (a validation fold from another season can stop boosting
    far too early)."""
    if not s.early_stopping_rounds:
        return s.n_estimators
    fit, val = rows(frame, folds.fit), rows(frame, folds.validation)
    stopped = _gbm(task, s, objective, s.n_estimators).fit(
        fit,
        fit[label],
        validation=(val, val[label]),
        sample_weight=sample_weights(fit, frame, horizon_days, s),
    )
    return max(stopped.best_iteration_, s.min_rounds)


def _fit(
    part: pd.DataFrame,
    frame: pd.DataFrame,
    label: str,
    task: str,
    s: ModelSettings,
    objective: str | None,
    rounds: int,
    horizon_days: int,
) -> Boosted:
    """A model of `rounds` rounds on `part` of `frame`, weighted by `sample_weights`."""
    weights = sample_weights(part, frame, horizon_days, s)
    return _gbm(task, s, objective, rounds).fit(part, part[label], sample_weight=weights)


def _before(frame: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """The rows whose labels were known by `cutoff`."""
    return frame.loc[frame["as_of"] + pd.Timedelta(days=horizon_days) <= cutoff]


@dataclass
class CalibratedClassifier:
    """A LightGBM classifier and the calibration map fitted out of time."""

    model: Boosted
    calibrator: Calibrator | None

    def predict_proba(self, features: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:
        """Calibrated probability of the positive class (LightGBM's own without a calibrator);
        `matrix`: the model matrix of `features`, when computed already."""
        return self.probability(self.model.predict_margin(features, matrix))

    def probability(self, margin: np.ndarray) -> np.ndarray:
        """The calibrated probability of a raw score of the model."""
        raw = self.model.link(margin)
        return raw if self.calibrator is None else self.calibrator.transform(raw)


def train_classifier(
    frame: pd.DataFrame, label: str, horizon_days: int, settings: ModelSettings
) -> CalibratedClassifier:
    """Train a classifier of `label` on every cutoff; with a calibrator, calibrate it out of
    time on the calibration fold, from a model fitted only on what was known before it."""
    s, task = settings, "classification"
    folds = plan_folds(frame["as_of"], horizon_days)
    rounds = _boosting_rounds(frame, label, folds, task, s, s.objective, horizon_days)
    final = _fit(frame, frame, label, task, s, s.objective, rounds, horizon_days)
    if s.calibration == "none":
        return CalibratedClassifier(final, None)
    known = _before(frame, folds.calibration, horizon_days)
    staged = _fit(known, frame, label, task, s, s.objective, rounds, horizon_days)
    cal = rows(frame, folds.calibration)
    calibrator = Calibrator(s.calibration, random_state=s.random_state)
    calibrator.fit(staged.predict_raw(cal), cal[label].astype(int))
    return CalibratedClassifier(final, calibrator)


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
    from custlens.models.metrics import normalized_gini

    if BTYD_VALUE not in features or y.sum() <= 0:
        return 1.0
    gains = {w: normalized_gini(y, blend(model_value, features, w)) for w in BLEND_GRID}
    return max(BLEND_GRID, key=lambda w: (round(gains[w], 6), w))


@dataclass
class ValueRegressor:
    """Expected value over the horizon, and optional quantile models for an interval.

    The expected value blends LightGBM with the BG/NBD-Gamma-Gamma value at a weight chosen
    out of time on the calibration fold.
    """

    model: Boosted
    quantile_models: dict[float, Boosted] = field(default_factory=dict)
    weight: float = 1.0

    def predict(self, features: pd.DataFrame, matrix: Matrix = None) -> np.ndarray:
        """Expected value, never negative."""
        value = np.maximum(self.model.predict_raw(features, matrix), 0.0)
        return np.maximum(blend(value, features, self.weight), 0.0)

    def predict_quantile(
        self, features: pd.DataFrame, q: float, matrix: Matrix = None
    ) -> np.ndarray:
        """The q-quantile of the value."""
        return np.maximum(self.quantile_models[q].predict_raw(features, matrix), 0.0)


def train_regressor(
    frame: pd.DataFrame,
    label: str,
    horizon_days: int,
    settings: ModelSettings,
    intervals: bool = True,
) -> ValueRegressor:
    """Train the value model (Tweedie by default) on every cutoff, its blend weight out of time
    on the calibration fold, and with `intervals` its quantile models."""
    s, task = settings, "regression"
    objective = s.objective or "tweedie"
    folds = plan_folds(frame["as_of"], horizon_days)
    rounds = _boosting_rounds(frame, label, folds, task, s, objective, horizon_days)
    final = _fit(frame, frame, label, task, s, objective, rounds, horizon_days)
    weight = 1.0
    if s.blend_btyd:
        known = _before(frame, folds.calibration, horizon_days)
        staged = _fit(known, frame, label, task, s, objective, rounds, horizon_days)
        cal = rows(frame, folds.calibration)
        predicted = np.maximum(staged.predict_raw(cal), 0.0)
        weight = choose_blend(cal[label].to_numpy(float), predicted, cal)
    quantiles = {}
    for q in s.quantiles if intervals else []:
        q_settings = replace(s, params={**s.params, "alpha": q}, n_seeds=s.quantile_seeds)
        q_rounds = _boosting_rounds(
            frame, label, folds, task, q_settings, "quantile", horizon_days
        )
        quantiles[q] = _fit(
            frame, frame, label, task, q_settings, "quantile", q_rounds, horizon_days
        )
    return ValueRegressor(final, quantiles, weight)
