"""Lifetime value: net revenue over the horizon, with an interval, a value tier and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.models import rules
from custlens.models.estimators.gbm import Matrix
from custlens.models.estimators.training import ModelSettings, ValueRegressor, value_settings
from custlens.models.evaluation import baselines
from custlens.models.rules import ScoringSettings
from custlens.models.tasks.base import Output, Scored, ValueTask, best


class Value(ValueTask):
    name = "clv"
    label = "future_value"
    columns = ("clv", "clv_low", "clv_high", "value_tier")
    score_column = "clv"
    reasons = "value_reasons"
    outcome = "predicted value"

    def defaults(self) -> ModelSettings:
        return value_settings()

    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        return {
            "bgnbd_gg": Scored(test["btyd_expected_value"].fillna(0).to_numpy(float), False),
            "past_spend": Scored(np.maximum(baselines.past_spend(test, horizon_days), 0), False),
            "total_spend": Scored(np.maximum(test["monetary_total"].to_numpy(float), 0), False),
        }

    def monitor_baseline(self, features: pd.DataFrame) -> np.ndarray:
        return features["btyd_expected_value"].fillna(0).to_numpy(float)

    def output_settings(
        self, model: ValueRegressor, today: pd.DataFrame, scoring: ScoringSettings
    ) -> dict:
        _, thresholds = rules.value_tiers(model.predict(today), shares=tuple(scoring.tier_shares))
        quantiles = sorted(model.quantile_models_)
        interval = (quantiles[0], quantiles[-1]) if len(quantiles) >= 2 else None
        return {"tier_thresholds": thresholds, "interval": interval}

    def score(
        self, model: ValueRegressor, features: pd.DataFrame, matrix: Matrix, settings: dict
    ) -> Output:
        value, contributions = model.explain(features, matrix)
        interval = settings["interval"]
        if interval:
            low, high = (model.predict_quantile(features, q, matrix) for q in interval)
            # The interval holds the expected value, even where the quantile models disagree.
            low, high = np.minimum(low, value), np.maximum(high, value)
        else:
            low = high = np.full(len(features), np.nan)
        tiers = rules.apply_value_tiers(value, settings["tier_thresholds"]).to_numpy()
        return Output(
            {"clv": value, "clv_low": low, "clv_high": high, "value_tier": tiers}, contributions
        )

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        ours = board.loc[(board["task"] == self.name) & (board["scorer"] == "custlens")].iloc[0]
        name, capture = best(board, self.name, self.metric("top_decile_capture"))
        gini_name, gini = best(board, self.name, self.headline)
        return [
            f"The top 10% of customers by predicted value brought "
            f"{ours['top_decile_capture']:.0%} of the next {horizon_days} days' revenue "
            f"(best simple alternative, {baselines.title(name)}: {capture:.0%}).",
            f"Ranking customers by predicted value recovers {ours['gini']:.0%} of the best "
            f"possible ordering by what they actually spent (normalized Gini; "
            f"{baselines.title(gini_name)}: {gini:.0%}).",
        ]
