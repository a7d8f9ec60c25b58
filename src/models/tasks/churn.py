"""Churn: no purchase in the `horizon_days` after as_of, as a probability, with its reasons, and
the value at risk: what leaves with the customer if they lapse."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from custlens.models.estimators.gbm import Matrix
from custlens.models.evaluation import baselines
from custlens.models.rules import ScoringSettings
from custlens.models.tasks.base import Context, Output, ProbabilityTask, Scored, best


def value_at_risk(
    probability: np.ndarray, features: pd.DataFrame, horizon_days: int
) -> np.ndarray:
    """The churn probability times the net revenue of the last horizon (at least 0): the pace
    of spending that stops if the customer lapses, weighted by the chance that they do."""
    recent = np.maximum(np.nan_to_num(baselines.past_spend(features, horizon_days)), 0.0)
    return np.asarray(probability, float) * recent


def risk_band(probability: np.ndarray, bands: tuple[float, float]) -> np.ndarray:
    """low, medium or high by the probabilities from which the risk is medium and high."""
    medium, high = bands
    return np.where(probability >= high, "high", np.where(probability >= medium, "medium", "low"))


class Churn(ProbabilityTask):
    name = "churn"
    label = "churned"
    columns = ("churn_probability", "churn_risk", "value_at_risk")
    score_column = "churn_probability"
    reasons = "top_reasons"
    outcome = "churn risk"

    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        return baselines.available(
            {
                "recency": Scored(baselines.recency(test), False),
                "rfm_logistic": Scored(baselines.rfm_logistic(train, test, self.label), True),
                "bgnbd": Scored(1 - test["btyd_p_order"].to_numpy(float), True),
                "past_spend": Scored(-baselines.past_spend(test, horizon_days), False),
                "total_spend": Scored(-test["monetary_total"].to_numpy(float), False),
            }
        )

    def monitor_baseline(self, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
        return 1 - features["btyd_p_order"].to_numpy(float)

    def order_chance(self, probability: np.ndarray) -> np.ndarray:
        return 1 - probability

    def output_settings(
        self, model: Any, today: pd.DataFrame, scoring: ScoringSettings, constants: Any
    ) -> dict:
        return {"risk_bands": tuple(scoring.risk_bands)}

    def score(
        self,
        model: Any,
        features: pd.DataFrame,
        matrix: Matrix,
        settings: dict[str, Any] | None,
        context: Context,
    ) -> Output:
        probability, contributions = self.probability(model, features, matrix, context)
        columns = {
            "churn_probability": probability,
            "value_at_risk": value_at_risk(probability, features, model.horizon_days),
        }
        if settings is not None:
            columns["churn_risk"] = risk_band(probability, settings["risk_bands"])
        return Output(columns, contributions)

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        ours = board.loc[(board["task"] == self.name) & (board["scorer"] == "custlens")].iloc[0]
        name, auc = best(board, self.name, self.headline)
        out = [
            f"Given one customer who went on to lapse and one who kept buying, the churn model "
            f"ranks the lapsing one as riskier {ours['roc_auc']:.0%} of the time "
            f"(best simple alternative, {baselines.title(name)}: {auc:.0%})."
        ]
        table = summary.get("reliability")
        if table is not None:
            rate = float((table["n"] * table["observed_rate"]).sum() / table["n"].sum())
            out.append(
                f"Among the 10% of customers it rates most at risk, "
                f"{min(ours['top_decile_lift'] * rate, 1):.0%} lapsed, against {rate:.0%} of all "
                f"customers; its probabilities were off by {ours['ece'] * 100:.1f} percentage "
                "points on average (see the calibration chart)."
            )
        return out
