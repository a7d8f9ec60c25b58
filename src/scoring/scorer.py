"""The scorer: the fitted models and every threshold needed to turn feature rows into answers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custlens import runtime
from custlens.errors import CustlensError
from custlens.features.catalogue import Feature
from custlens.features.spec import FeatureSpec
from custlens.models import rules
from custlens.models.estimators.gbm import GradientBoostedModel, SeedBaggedModel
from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.models.evaluation.pipeline import BacktestSummary, TrainedModels
from custlens.scoring.reasons import top_reasons

OUTPUT_COLUMNS = (
    "customer_id",
    "as_of",
    "segment_id",
    "segment_name",
    "segment_action",
    "rfm_segment",
    "lifecycle_stage",
    "churn_probability",
    "churn_risk",
    "repurchase_probability",
    "clv",
    "clv_low",
    "clv_high",
    "value_tier",
    "top_reasons",
    "value_reasons",
    "model_version",
)


@dataclass
class Scorer:
    """Everything the exported model needs; `score` maps feature rows to the output table."""

    models: TrainedModels
    segmenter: CustomerSegmenter
    rfm_edges: dict[str, list[float]]
    tier_thresholds: dict[str, float]
    risk_bands: tuple[float, float]
    feature_dtypes: dict[str, str]
    catalogue: list[Feature]
    trained_through: str
    data_start: str
    horizon_days: int
    config_hash: str
    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    quantiles: tuple[float, float] | None = None
    model_version: str = "unregistered"
    metadata: dict[str, str] = field(default_factory=dict)
    backtest: BacktestSummary | None = None  # for reports: aggregates of the out-of-time test

    def check_features(self, features: pd.DataFrame) -> None:
        """Refuse rows whose columns or dtypes differ from the ones the models were fitted on."""
        got = {c: str(features[c].dtype) for c in features.columns if c in self.feature_dtypes}
        missing = sorted(set(self.feature_dtypes) - set(got))
        wrong = {
            c: (self.feature_dtypes[c], d) for c, d in got.items() if d != self.feature_dtypes[c]
        }
        if missing or wrong:
            raise CustlensError(
                "feature rows do not match the model: "
                + (f"missing {missing}; " if missing else "")
                + (f"dtype (expected, found) {wrong}" if wrong else "")
            )

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """One output row per feature row, in input order, columns as OUTPUT_COLUMNS."""
        self.check_features(features)
        m = self.models
        if m.churn is None or m.repurchase is None or m.clv is None:
            raise CustlensError("the scorer needs churn, repurchase and clv models")
        matrix = self._shared_matrix(features)
        labels = {f.name: f for f in self.catalogue}
        # One pass per model gives its raw score and its SHAP values, for the reasons.
        churn_margin, churn_contributions = m.churn.model_.explain(features, matrix)
        churn = m.churn.probability(churn_margin)
        value_margin, value_contributions = m.clv.model_.explain(features, matrix)
        clv = m.clv.value(value_margin, features)
        named = self.segmenter.predict_named(features)
        low, high = self._interval(features, matrix)
        # The interval holds the expected value, even where the quantile models disagree.
        low, high = np.minimum(low, clv), np.maximum(high, clv)
        out = pd.DataFrame(
            {
                "customer_id": features["customer_id"].astype("string").to_numpy(),
                "as_of": pd.to_datetime(features["as_of"]).to_numpy(),
                "segment_id": named["segment_id"].to_numpy(np.int64),
                "segment_name": named["segment_name"].astype("string").to_numpy(),
                "segment_action": named["segment_action"].astype("string").to_numpy(),
                "rfm_segment": rules.rfm_scores(features, self.rfm_edges)[
                    "rfm_segment"
                ].to_numpy(),
                "lifecycle_stage": rules.lifecycle_stage(features).to_numpy(),
                "churn_probability": churn,
                "churn_risk": self.risk_band(churn),
                "repurchase_probability": m.repurchase.positive_probability(features, matrix),
                "clv": clv,
                "clv_low": low,
                "clv_high": high,
                "value_tier": rules.apply_value_tiers(clv, self.tier_thresholds).to_numpy(),
                "top_reasons": top_reasons(churn_contributions, features, labels),
                "value_reasons": top_reasons(value_contributions, features, labels),
                "model_version": self.model_version,
            }
        )
        for column in (
            "rfm_segment",
            "lifecycle_stage",
            "churn_risk",
            "value_tier",
            "top_reasons",
            "value_reasons",
            "model_version",
        ):
            out[column] = out[column].astype("string")
        return out[list(OUTPUT_COLUMNS)]

    def _boosted(self) -> list[GradientBoostedModel | SeedBaggedModel]:
        m = self.models
        return [
            m.churn.model_,
            m.repurchase.model_,
            m.clv.model_,
            *m.clv.quantile_models_.values(),
        ]

    def _shared_matrix(self, features: pd.DataFrame) -> np.ndarray | None:
        """The model matrix of `features`, once for every model when they share an encoder
        (they do when trained on one frame), else None: each model then builds its own."""
        encoders = [model.encoder_ for model in self._boosted()]
        if any(e.signature() != encoders[0].signature() for e in encoders[1:]):
            return None
        return encoders[0].matrix(features)

    def use_threads(self, threads: int | None = None) -> None:
        """Prediction threads of every model and of the SHAP kernels (default:
        `custlens.runtime.thread_count()`)."""
        n_jobs = runtime.use_threads(runtime.thread_count(threads))
        for model in self._boosted():
            model.use_threads(n_jobs)

    def _interval(
        self, features: pd.DataFrame, matrix: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self.quantiles:
            nan = np.full(len(features), np.nan)
            return nan, nan
        lo, hi = self.quantiles
        return (
            self.models.clv.predict_quantile(features, lo, matrix),
            self.models.clv.predict_quantile(features, hi, matrix),
        )

    def risk_band(self, probability: np.ndarray) -> np.ndarray:
        """low, medium or high by the configured probability cut points."""
        medium, high = self.risk_bands
        return np.where(
            probability >= high, "high", np.where(probability >= medium, "medium", "low")
        )
