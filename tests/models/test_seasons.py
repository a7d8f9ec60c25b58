"""Season weights: their shape, and that the models and the training folds honour them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.models.estimators.gbm import GradientBoostedModel, SeedBaggedModel
from custlens.models.estimators.seasons import days_apart_in_year, scoring_day, season_weights
from custlens.models.estimators.training import CalibratedClassifier, ModelSettings

HORIZON = 30


def test_scoring_day_is_where_the_last_labels_end() -> None:
    as_of = pd.Series(pd.to_datetime(["2011-03-01", "2011-06-11", "2011-01-01"]))
    assert scoring_day(as_of, 90) == pd.Timestamp("2011-09-09")


def test_weights_peak_at_the_target_time_of_year_in_any_year() -> None:
    target = pd.Timestamp("2011-09-10")
    days = pd.Series(pd.to_datetime(["2010-09-10", "2009-09-10", "2011-03-10", "2010-10-10"]))
    weights = season_weights(days, target, boost=2.0, width_days=30.0)
    assert weights[0] == pytest.approx(3.0) and weights[1] == pytest.approx(3.0)
    assert weights[2] == pytest.approx(1.0, abs=1e-6)  # half a year away
    assert weights[3] == pytest.approx(1.0 + 2.0 * np.exp(-0.5), rel=0.02)  # about one width


def test_distance_wraps_around_the_end_of_the_year() -> None:
    gap = days_apart_in_year(pd.Series(pd.to_datetime(["2010-01-02"])), pd.Timestamp("2011-12-30"))
    assert gap[0] == pytest.approx(3.25)


def test_no_boost_means_no_weights_and_bad_settings_are_refused() -> None:
    days = pd.Series(pd.to_datetime(["2010-09-10"]))
    assert season_weights(days, pd.Timestamp("2011-01-01"), 0.0, 30.0) is None
    with pytest.raises(ValueError, match="boost >= 0"):
        season_weights(days, pd.Timestamp("2011-01-01"), -1.0, 30.0)
    with pytest.raises(ValueError, match="width_days > 0"):
        season_weights(days, pd.Timestamp("2011-01-01"), 1.0, 0.0)


def _indistinct_rows(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows no feature tells apart, half labelled 1: only weights can move the prediction."""
    rows = pd.DataFrame({"customer_id": [str(i) for i in range(n)], "x": np.zeros(n)})
    return rows, np.arange(n) % 2


@pytest.mark.parametrize("bagged", [False, True])
def test_models_fit_the_weighted_rate(bagged: bool) -> None:
    rows, y = _indistinct_rows(400)
    weights = np.where(y == 1, 3.0, 1.0)  # positives count three times: rate 0.75

    def model() -> GradientBoostedModel | SeedBaggedModel:
        kind = SeedBaggedModel(n_seeds=2) if bagged else GradientBoostedModel()
        return kind.set_params(n_estimators=50, features=("x",))

    weighted = model().fit(rows, y, sample_weight=weights)
    assert weighted.predict_response(rows).mean() == pytest.approx(0.75, abs=0.02)
    assert model().fit(rows, y).predict_response(rows).mean() == pytest.approx(0.5, abs=0.02)


def _seasonal_frame() -> pd.DataFrame:
    """Two years of fortnightly cutoffs: churn 80% for cutoffs in Aug-Oct, 20% otherwise."""
    rng = np.random.default_rng(3)
    parts = []
    for cutoff in pd.date_range("2019-09-07", "2021-08-10", freq="14D"):
        rate = 0.8 if cutoff.month in (8, 9, 10) else 0.2
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{i}" for i in range(200)],
                    "as_of": cutoff,
                    "noise": rng.normal(size=200),
                    "churned": rng.random(200) < rate,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_training_leans_towards_the_scoring_season() -> None:
    frame = _seasonal_frame()
    # Labels of the last cutoff end in early September: the scoring season has 80% churn.
    assert scoring_day(frame["as_of"], HORIZON).month == 9
    fast = {"n_estimators": 60, "early_stopping_rounds": 20, "min_rounds": 20}
    test = frame.loc[frame["as_of"] == frame["as_of"].max()]

    def mean_prediction(boost: float) -> float:
        settings = ModelSettings(**fast, season_boost=boost, season_width_days=20.0)
        model = CalibratedClassifier(HORIZON, settings, features=("noise",))
        model.fit(frame, frame["churned"])
        return float(model.positive_probability(test).mean())

    plain, leaning = mean_prediction(0.0), mean_prediction(20.0)
    assert plain < 0.45  # the year's mix: a quarter of the cutoffs churn at 80%
    assert leaning > plain + 0.2
