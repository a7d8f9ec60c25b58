"""Repurchase: an order within `repurchase_days` of as_of, as a probability."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from custlens.models.estimators.gbm import Matrix
from custlens.models.evaluation import baselines
from custlens.models.tasks.base import Context, Output, ProbabilityTask, Scored, best


class Repurchase(ProbabilityTask):
    name = "repurchase"
    label = "repurchased"
    columns = ("repurchase_probability",)
    score_column = "repurchase_probability"
    window = "repurchase"
    outcome = "chance of a repeat order"

    def baselines(
        self, train: pd.DataFrame, test: pd.DataFrame, horizon_days: int
    ) -> dict[str, Scored]:
        return baselines.available(
            {
                "recency": Scored(-baselines.recency(test), False),
                "rfm_logistic": Scored(baselines.rfm_logistic(train, test, self.label), True),
                "bgnbd": Scored(test["btyd_p_repurchase"].to_numpy(float), True),
            }
        )

    def monitor_baseline(self, features: pd.DataFrame, horizon_days: int) -> np.ndarray:
        return features["btyd_p_repurchase"].to_numpy(float)

    def score(
        self,
        model: Any,
        features: pd.DataFrame,
        matrix: Matrix,
        settings: dict[str, Any] | None,
        context: Context,
    ) -> Output:
        probability, _ = self.probability(model, features, matrix, replace(context, reasons=False))
        return Output({"repurchase_probability": probability})

    def sentences(self, board: pd.DataFrame, summary: dict, horizon_days: int) -> list[str]:
        ours = board.loc[(board["task"] == self.name) & (board["scorer"] == "custlens")].iloc[0]
        name, auc = best(board, self.name, self.headline)
        return [
            f"The repurchase model ranks a customer who reorders within the month above one who "
            f"does not {ours['roc_auc']:.0%} of the time ({baselines.title(name)}: {auc:.0%})."
        ]
