"""Out-of-time folds, the LightGBM wrapper, calibration and the trained models' contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.base import clone

from custlens.errors import CustlensError
from custlens.features.spec import FeatureSpec
from custlens.models.estimators.calibration import Calibrator
from custlens.models.estimators.encoding import FeatureEncoder, model_features
from custlens.models.estimators.gbm import GradientBoostedModel, SeedBaggedModel
from custlens.models.estimators.training import (
    HELD_OUT,
    OUT_OF_TIME,
    CalibratedClassifier,
    ModelSettings,
    ValueRegressor,
    classifier_params,
    plan_folds,
)
from custlens.models.evaluation import metrics
from custlens.models.evaluation.pipeline import backtest
from tests.models.conftest import HORIZON

FAST = ModelSettings(n_estimators=150, early_stopping_rounds=20, min_rounds=30)


def frame_of(cutoffs: list[pd.Timestamp], customers: int = 50) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for _ in cutoffs for i in range(customers)],
            "as_of": [c for c in cutoffs for _ in range(customers)],
        }
    )


def test_folds_never_let_labels_reach_a_later_fold() -> None:
    cutoffs = list(pd.date_range("2022-01-01", periods=12, freq="30D"))
    frame = frame_of(cutoffs)
    folds = plan_folds(frame, 60)
    assert folds.design == OUT_OF_TIME
    calibration = frame.loc[folds.calibration, "as_of"]
    assert set(calibration) == {cutoffs[-1]}
    assert (frame.loc[folds.fit, "as_of"] + pd.Timedelta(days=60) <= cutoffs[-1]).all()
    assert set(frame.loc[folds.validation, "as_of"]) == {cutoffs[-3]}  # 60 days back
    assert (frame.loc[folds.validation_fit, "as_of"] + pd.Timedelta(days=60) <= cutoffs[-3]).all()


def test_short_frames_hold_out_a_stable_fifth_of_the_customers() -> None:
    cutoffs = list(pd.date_range("2022-01-01", periods=3, freq="14D"))
    frame = frame_of(cutoffs, customers=400)
    folds = plan_folds(frame, 60)
    assert folds.design == HELD_OUT
    held = set(frame.loc[folds.calibration, "customer_id"])
    assert held.isdisjoint(frame.loc[folds.fit, "customer_id"])
    assert 0.12 < len(held) / 400 < 0.28  # about a fifth
    reversed_frame = frame.iloc[::-1]
    again = reversed_frame.loc[plan_folds(reversed_frame, 60).calibration, "customer_id"]
    assert held == set(again)  # by customer, whatever the row order


def test_encoder_fixes_columns_and_categories(synthetic_frame: pd.DataFrame) -> None:
    encoder = FeatureEncoder().fit(synthetic_frame)
    assert "customer_id" not in encoder.columns_ and "churned" not in encoder.columns_
    assert encoder.columns_ == [c for c in synthetic_frame if c in set(model_features())]
    assert "country" in encoder.categories_
    changed = synthetic_frame.head(3).copy()
    changed["country"] = pd.array(["Atlantis"] * 3, dtype="string")
    assert encoder.transform(changed)["country"].isna().all()
    with pytest.raises(CustlensError, match="lack column"):
        encoder.transform(synthetic_frame.drop(columns=["recency_days"]))


def test_gbm_contract_and_exact_contributions(synthetic_frame: pd.DataFrame) -> None:
    train = synthetic_frame[synthetic_frame["as_of"] < synthetic_frame["as_of"].max()]
    test = synthetic_frame[synthetic_frame["as_of"] == synthetic_frame["as_of"].max()]
    model = GradientBoostedModel(n_estimators=300, early_stopping_rounds=10)
    model.fit(train, train["churned"], validation=(test, test["churned"]))
    assert 1 <= model.best_iteration_ <= 300
    p = model.predict_response(test)
    assert ((p > 0) & (p < 1)).all()
    assert metrics.roc_auc(test["churned"].astype(int), p) > 0.7
    contributions = model.contributions(test)
    log_odds = np.log(p / (1 - p))
    np.testing.assert_allclose(contributions.sum(axis=1), log_odds, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.predict_margin(test), log_odds, rtol=1e-6, atol=1e-6)
    assert model.importance().index[0] in model.encoder_.columns_


def test_contributions_equal_shap_tree_explainer(synthetic_frame: pd.DataFrame) -> None:
    # Without early stopping the booster holds exactly the rounds used, as shap reads them all.
    model = GradientBoostedModel(n_estimators=60).fit(synthetic_frame, synthetic_frame["churned"])
    rows = synthetic_frame.tail(300)
    assert model.model_.booster_.num_trees() == model.best_iteration_ == 60
    expected = shap.TreeExplainer(model.model_.booster_)(model.encoder_.transform(rows)).values
    got = model.contributions(rows).drop(columns="bias").to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-8)


@pytest.mark.parametrize(
    ("task", "objective", "label"),
    [("classification", None, "churned"), ("regression", "tweedie", "future_value")],
)
def test_seed_bag_keeps_the_contract(
    synthetic_frame: pd.DataFrame, task: str, objective: str | None, label: str
) -> None:
    train = synthetic_frame[synthetic_frame["as_of"] < synthetic_frame["as_of"].max()]
    test = synthetic_frame[synthetic_frame["as_of"] == synthetic_frame["as_of"].max()]
    kwargs = {"task": task, "objective": objective, "n_estimators": 80, "random_state": 7}
    kwargs["params"] = classifier_params()  # row and column subsampling: seeds matter
    bag = SeedBaggedModel(**kwargs, n_seeds=3).fit(train, train[label])
    members = [GradientBoostedModel(**{**kwargs, "random_state": 7 + i}) for i in range(3)]
    margins = [m.fit(train, train[label]).predict_margin(test) for m in members]
    # The members are the single models of seeds 7, 8 and 9; the bag averages their raw scores.
    np.testing.assert_allclose(bag.predict_margin(test), np.mean(margins, axis=0), atol=1e-12)
    assert not np.allclose(margins[0], margins[1])  # the seeds do differ
    raw = bag.predict_response(test)
    if task == "classification":
        assert ((raw > 0) & (raw < 1)).all()
        np.testing.assert_allclose(raw, 1 / (1 + np.exp(-bag.predict_margin(test))))
    else:
        assert (raw > 0).all()
        np.testing.assert_allclose(raw, np.exp(bag.predict_margin(test)))
    contributions = bag.contributions(test)
    assert list(contributions.columns) == [*bag.encoder_.columns_, "bias"]
    np.testing.assert_allclose(
        contributions.sum(axis=1), bag.predict_margin(test), rtol=1e-6, atol=1e-6
    )
    assert set(bag.importance().index) == set(bag.encoder_.columns_)
    assert bag.best_iteration_ == 80
    bag.use_threads(2)
    np.testing.assert_allclose(bag.predict_response(test), raw)


def test_seed_bag_early_stops_each_member(synthetic_frame: pd.DataFrame) -> None:
    train = synthetic_frame[synthetic_frame["as_of"] < synthetic_frame["as_of"].max()]
    test = synthetic_frame[synthetic_frame["as_of"] == synthetic_frame["as_of"].max()]
    bag = SeedBaggedModel(n_estimators=300, early_stopping_rounds=10, n_seeds=2)
    bag.fit(train, train["churned"], validation=(test, test["churned"]))
    rounds = [m.best_iteration_ for m in bag.members_]
    assert bag.best_iteration_ == round(np.mean(rounds)) and all(1 <= r <= 300 for r in rounds)
    with pytest.raises(ValueError, match="n_seeds"):
        SeedBaggedModel(n_seeds=0).fit(train, train["churned"])


def test_settings_choose_a_bag_or_a_single_model(synthetic_frame: pd.DataFrame) -> None:
    settings = ModelSettings(**{**vars(FAST), "n_seeds": 2})
    classifier = CalibratedClassifier(HORIZON, settings).fit(
        synthetic_frame, synthetic_frame["churned"]
    )
    assert isinstance(classifier.model_, SeedBaggedModel) and len(classifier.model_.members_) == 2
    regressor = ValueRegressor(HORIZON, settings).fit(
        synthetic_frame, synthetic_frame["future_value"]
    )
    assert isinstance(regressor.model_, SeedBaggedModel)
    assert isinstance(
        CalibratedClassifier(HORIZON, FAST)
        .fit(synthetic_frame, synthetic_frame["churned"])
        .model_,
        GradientBoostedModel,
    )


def test_calibrator_repairs_distorted_probabilities() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.05, 0.95, 6000)
    y = (rng.uniform(size=truth.size) < truth).astype(int)
    distorted = truth**3  # far too low
    calibrator = Calibrator("auto").fit(distorted[:3000], y[:3000])
    assert calibrator.method_ in ("isotonic", "sigmoid")
    before = metrics.expected_calibration_error(y[3000:], distorted[3000:])
    after = metrics.expected_calibration_error(y[3000:], calibrator.transform(distorted[3000:]))
    assert after < 0.03 < before
    with pytest.raises(CustlensError, match="one outcome class"):
        Calibrator().fit(distorted[:10], np.ones(10))


def test_classifier_with_and_without_calibration(synthetic_frame: pd.DataFrame) -> None:
    plain = CalibratedClassifier(HORIZON, FAST).fit(synthetic_frame, synthetic_frame["churned"])
    assert plain.calibrator_ is None
    calibrated = CalibratedClassifier(
        HORIZON, ModelSettings(**{**vars(FAST), "calibration": "auto"})
    ).fit(synthetic_frame, synthetic_frame["churned"])
    assert calibrated.calibrator_.method_ in ("isotonic", "sigmoid")
    p = calibrated.positive_probability(synthetic_frame.head(50))
    assert ((p >= 0) & (p <= 1)).all()


def test_regressor_measures_the_spread_of_positive_values_out_of_time(
    synthetic_frame: pd.DataFrame,
) -> None:
    model = ValueRegressor(HORIZON, FAST).fit(synthetic_frame, synthetic_frame["future_value"])
    assert (model.predict(synthetic_frame.tail(200)) >= 0).all()
    assert 0.1 < model.sigma_ < 3  # a log-sd of what buyers spend around their mean
    plain = ValueRegressor(HORIZON, FAST, intervals=False)
    assert np.isnan(plain.fit(synthetic_frame, synthetic_frame["future_value"]).sigma_)


def test_backtest_beats_chance_and_reports_every_baseline(synthetic_frame: pd.DataFrame) -> None:
    settings = {t: FAST for t in ("churn", "repurchase", "clv")}
    windows = FeatureSpec(horizon_days=HORIZON)
    evaluation = backtest(synthetic_frame, windows, settings, ["churn", "repurchase", "clv"])
    board = evaluation.leaderboard.set_index(["task", "scorer"])
    assert evaluation.cutoff == synthetic_frame["as_of"].max()
    assert {"recency", "rfm_logistic", "bgnbd"} <= {s for t, s in board.index if t == "churn"}
    assert {"bgnbd_gg", "past_spend"} <= {s for t, s in board.index if t == "clv"}
    assert board.loc[("churn", "custlens"), "roc_auc"] > 0.75
    assert board.loc[("clv", "custlens"), "gini"] > 0.5


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_labels_never_reach_a_model(synthetic_frame: pd.DataFrame, kind: str) -> None:
    """Models read the feature catalogue's columns only: a label column, a copy of the label
    under a new name, or anything else in the frame changes nothing."""
    label = "churned" if kind == "classifier" else "future_value"
    estimator = (
        CalibratedClassifier(HORIZON, FAST)
        if kind == "classifier"
        else ValueRegressor(HORIZON, FAST, intervals=False)
    )
    y = synthetic_frame[label]
    leaky = synthetic_frame.assign(outcome_copy=y, days_to_next_order=y * 3.0)
    plain = clone(estimator).fit(synthetic_frame, y)
    fitted = clone(estimator).fit(leaky, y)
    columns = fitted.model_.encoder_.columns_
    assert not {"churned", "repurchased", "future_value", "future_orders"} & set(columns)
    assert not {"outcome_copy", "days_to_next_order", "customer_id", "as_of"} & set(columns)
    assert set(columns) <= set(model_features())
    rows = synthetic_frame.tail(100)
    predict = (
        (lambda m: m.positive_probability(rows))
        if kind == "classifier"
        else (lambda m: m.predict(rows))
    )
    np.testing.assert_array_equal(predict(plain), predict(fitted))


def test_blend_weight_is_chosen_out_of_time() -> None:
    from custlens.models.estimators.training import blend, choose_blend

    rng = np.random.default_rng(1)
    y = rng.gamma(1.0, 100.0, 2000)
    features = pd.DataFrame({"btyd_expected_value": y + rng.normal(0, 5, y.size)})
    noisy_model = y + rng.normal(0, 200, y.size)
    assert choose_blend(y, noisy_model, features) == 0.0  # BG/NBD is the better ranker here
    assert choose_blend(y, y, features.assign(btyd_expected_value=rng.permutation(y))) == 1.0
    features.loc[0, "btyd_expected_value"] = np.nan
    assert blend(noisy_model, features, 0.5)[0] == noisy_model[0]


def test_estimators_follow_the_scikit_learn_contract(synthetic_frame: pd.DataFrame) -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.model_selection import GroupKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    unfitted = CalibratedClassifier(HORIZON, FAST)
    assert clone(unfitted).get_params() == {
        "horizon_days": HORIZON,
        "settings": FAST,
        "features": None,
    }
    with pytest.raises(NotFittedError):
        unfitted.predict_proba(synthetic_frame.head(5))
    # In a Pipeline, cross-validated on customer groups with scikit-learn's own scorers.
    pipeline = make_pipeline(FunctionTransformer(), unfitted)
    y = synthetic_frame["churned"].astype(int)
    scores = cross_validate(
        pipeline,
        synthetic_frame,
        y,
        cv=GroupKFold(3),
        groups=synthetic_frame["customer_id"],
        scoring="roc_auc",
    )
    assert (scores["test_score"] > 0.7).all()
    fitted = clone(unfitted).fit(synthetic_frame, y)
    proba = fitted.predict_proba(synthetic_frame.head(50))
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert list(fitted.classes_) == [0, 1] and set(fitted.predict(synthetic_frame)) <= {0, 1}
    value = ValueRegressor(HORIZON, FAST, intervals=False)
    r2 = cross_validate(
        value,
        synthetic_frame,
        synthetic_frame["future_value"],
        cv=GroupKFold(3),
        groups=synthetic_frame["customer_id"],
    )["test_score"]
    assert np.isfinite(r2).all()
    with pytest.raises(CustlensError, match="as_of"):
        CalibratedClassifier().fit(synthetic_frame.drop(columns="as_of"), y)
    with pytest.raises(CustlensError, match="one label per row"):
        CalibratedClassifier().fit(synthetic_frame, y.head(3))


def test_the_backtest_judges_at_the_days_levels_without_touching_the_ranking(
    synthetic_frame: pd.DataFrame,
) -> None:
    from custlens.models.rules import ScoringSettings

    settings = {t: FAST for t in ("churn", "clv")}
    windows = FeatureSpec(horizon_days=HORIZON)
    on = backtest(synthetic_frame, windows, settings, ["churn", "clv"])
    off = backtest(
        synthetic_frame, windows, settings, ["churn", "clv"], scoring=ScoringSettings(levels=False)
    )
    assert off.levels is None and on.levels is not None and "churn" in on.levels.shifts
    churn_on, churn_off = on.scores["churn"]["custlens"].values, off.scores["churn"]["custlens"]
    assert (
        np.argsort(churn_on, kind="stable") == np.argsort(churn_off.values, kind="stable")
    ).all()
    value_on, value_off = on.scores["clv"]["custlens"].values, off.scores["clv"]["custlens"].values
    assert value_on.sum() == pytest.approx(value_off.sum() * on.levels.value_factor)
