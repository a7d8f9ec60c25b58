"""Lifetime value: net revenue over the horizon, with an interval that means what it says, the
chance of bringing nothing, a value tier and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from custlens.models import rules
from custlens.models.estimators.gbm import Matrix
from custlens.models.estimators.training import ModelSettings, ValueRegressor, value_settings
from custlens.models.evaluation import baselines, metrics
from custlens.models.levels import Constants
from custlens.models.rules import ScoringSettings
from custlens.models.tasks.base import Context, Output, Scored, ValueTask, best


def hurdle_interval(
    zero: np.ndarray, mean_positive: np.ndarray, sigma: float, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """A `level` interval of a value that is 0 with probability `zero` and otherwise lognormal
    with mean `mean_positive` and log-sd `sigma`, exact under that model: lower-anchored
    [0, U] with P(value <= U) = level (U = 0 when zero >= level) where the chance of nothing
    reaches the lower tail; equal-tailed, both bounds positive, for near-certain buyers."""
    p0 = np.clip(np.asarray(zero, float), 0.0, 1.0)
    mu = np.log(np.maximum(np.asarray(mean_positive, float), 1e-9)) - sigma**2 / 2
    tail = (1 - level) / 2

    def quantile(tau: float) -> np.ndarray:
        share = np.clip((tau - p0) / np.maximum(1 - p0, 1e-12), 1e-9, 1 - 1e-9)
        return np.exp(mu + sigma * norm.ppf(share))

    both = p0 < tail
    low = np.where(both, quantile(tail), 0.0)
    high = np.where(both, quantile(1 - tail), np.where(p0 >= level, 0.0, quantile(level)))
    return low, high


class Value(ValueTask):
    name = "clv"
    label = "future_value"
    columns = ("clv", "clv_low", "clv_high", "value_zero_probability", "value_tier")
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
            "last_year": Scored(np.maximum(test["revenue_last_season"].to_numpy(float), 0), False),
            "total_spend": Scored(np.maximum(test["monetary_total"].to_numpy(float), 0), False),
        }

    def monitor_baseline(self, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
        return features["btyd_expected_value"].fillna(0).to_numpy(float)

    def output_settings(
        self, model: ValueRegressor, today: pd.DataFrame, scoring: ScoringSettings,
        constants: Constants,
    ) -> dict:  # fmt: skip
        # Tiers on the model's own values: a day's level scales every value alike.
        _, thresholds = rules.value_tiers(model.predict(today), shares=tuple(scoring.tier_shares))
        return {
            "tier_thresholds": thresholds,
            "interval_level": scoring.interval_level,
            "positive_share": constants.positive_share,
        }

    def score(
        self,
        model: ValueRegressor,
        features: pd.DataFrame,
        matrix: Matrix,
        settings: dict | None,
        context: Context,
    ) -> Output:
        value, contributions = self.value(model, features, matrix, context)
        columns = {"clv": value}
        if settings is not None:
            factor = context.levels.value_factor if context.levels is not None else 1.0
            columns |= self.interval(value, context, model.sigma_, settings)
            tiers = rules.apply_value_tiers(value / factor, settings["tier_thresholds"])
            columns["value_tier"] = tiers.to_numpy()
        return Output(columns, contributions)

    def interval(
        self, value: np.ndarray, context: Context, sigma: float, settings: dict
    ) -> dict[str, np.ndarray]:
        """The chance of nothing (no order, or a net value of zero), and the interval, which
        always holds the expected value."""
        churn = context.columns.get("churn_probability")
        ordered = 1 - churn if churn is not None else np.ones(len(value))
        zero = 1 - ordered * settings["positive_share"]
        mean_positive = value / np.maximum(1 - zero, 1e-9)
        low, high = hurdle_interval(zero, mean_positive, sigma, settings["interval_level"])
        return {
            "clv_low": np.minimum(low, value),
            "clv_high": np.maximum(high, value),
            "value_zero_probability": zero,
        }

    def judged(self, output: Output) -> Scored:
        scored = super().judged(output)
        if "clv_low" in output.columns:
            bounds = np.column_stack([output.columns["clv_low"], output.columns["clv_high"]])
            scored.extra[metrics.INTERVAL_COVERAGE.name] = bounds
        return scored

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        ours = board.loc[(board["task"] == self.name) & (board["scorer"] == "custlens")].iloc[0]
        name, capture = best(board, self.name, self.metric("top_decile_capture"))
        gini_name, gini = best(board, self.name, self.headline)
        out = [
            f"The top 10% of customers by predicted value brought "
            f"{ours['top_decile_capture']:.0%} of the next {horizon_days} days' revenue "
            f"(best simple alternative, {baselines.title(name)}: {capture:.0%}).",
            f"Ranking customers by predicted value recovers {ours['gini']:.0%} of the best "
            f"possible ordering by what they actually spent (normalized Gini; "
            f"{baselines.title(gini_name)}: {gini:.0%}).",
        ]
        if np.isfinite(ours.get("value_bias", np.nan)):
            out.append(
                f"The predicted total came within {abs(ours['value_bias']):.0%} of what the "
                f"customers actually spent ({'over' if ours['value_bias'] > 0 else 'under'})."
            )
        return out
