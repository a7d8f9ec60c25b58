"""The scorer: the fitted models and everything needed to turn feature rows into answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custlens import runtime
from custlens.errors import CustlensError
from custlens.features.catalogue import Feature
from custlens.features.spec import FeatureSpec
from custlens.models import rules
from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.models.evaluation.pipeline import BacktestSummary, Models
from custlens.models.levels import Constants, Levels
from custlens.models.tasks import SUPERVISED, TASKS
from custlens.models.tasks.base import Context
from custlens.models.tasks.run import levels_for, score_tasks
from custlens.scoring.reasons import top_reasons

# Before the tasks' columns: who, when, and the rule-based views beside the models.
LEADING_COLUMNS = (
    "customer_id",
    "as_of",
    "segment_id",
    "segment_name",
    "segment_action",
    "rfm_segment",
    "lifecycle_stage",
)


def output_columns(models: dict[str, Any]) -> tuple[str, ...]:
    """The scored table's columns with these fitted models: the leading ones, each task's
    columns in the registry's order, then each task's reasons, then the model version."""
    chosen = [(TASKS[t], models[t]) for t in TASKS if t in models]
    columns = [c for t, model in chosen for c in t.output_columns(model)]
    reasons = [t.reasons for t, _ in chosen if t.reasons]
    return (*LEADING_COLUMNS, *dict.fromkeys(columns), *reasons, "model_version")


@dataclass
class Scorer:
    """Everything the exported model needs. `score(transactions, as_of)` gives the table
    scripts/score.py writes; `score_features` maps feature rows to it.

    `models` holds one fitted estimator per registered task (custlens.models.tasks), and
    `outputs` each task's output settings fixed at training (risk bands, value tiers, the
    interval's level); `constants` what the day's levels read of the training windows, and
    `levelled` whether scoring sets them (custlens.models.levels).
    """

    models: Models
    segmenter: CustomerSegmenter
    rfm_edges: dict[str, list[float]]
    outputs: dict[str, dict[str, Any]]
    feature_dtypes: dict[str, str]
    catalogue: list[Feature]
    trained_through: str
    data_start: str
    horizon_days: int
    spec_hash: str
    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    model_version: str = "unregistered"
    metadata: dict[str, str] = field(default_factory=dict)
    backtest: BacktestSummary | None = None  # for reports: aggregates of the out-of-time test
    reference: Any = None  # custlens.monitoring.reference.Reference: what the monitor compares
    constants: Constants = field(default_factory=Constants)
    levelled: bool = True
    trained_levels: Levels | None = None  # the levels of the last training day

    def __post_init__(self) -> None:
        missing = [t for t in SUPERVISED if t not in self.models]
        if missing:
            raise CustlensError(f"the scorer needs a model for every task; missing {missing}")

    @property
    def output_columns(self) -> tuple[str, ...]:
        """The columns of the scored table, in order."""
        return output_columns(self.models)

    @property
    def watched(self) -> tuple[str, ...]:
        """The score columns whose distribution the monitor watches."""
        return tuple(c for t in TASKS.values() if t.name in self.models for c in t.watched)

    def levels_on(
        self, day: pd.Timestamp, buyers: pd.DataFrame, daily: pd.Series | None
    ) -> Levels | None:
        """The levels of a scoring day, from the buyers' feature rows (all of them or a fixed
        sample, `custlens.models.levels.sample_of`) and the log's daily orders up to the day;
        None when the scorer keeps the models' own levels."""
        if not self.levelled:
            return None
        return levels_for(self.models, day, buyers, daily, self.constants, self.feature_spec)

    def score(
        self,
        transactions: pd.DataFrame,
        as_of: str,
        customers: pd.DataFrame | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Every customer of a transaction log with the canonical columns scored as of
        `as_of`: validated and cleaned with the default rules, as `custlens.score` does;
        `options` as `custlens.scoring.blocks.score_transactions` takes them (chunk_size,
        threads, con)."""
        from custlens.data.load import from_frame
        from custlens.scoring.blocks import score_transactions

        loaded = from_frame(transactions, customers)
        scores, _ = score_transactions(loaded, as_of, self, **options)
        return scores

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

    def predictions(self, features: pd.DataFrame, levels: Levels | None = None) -> pd.DataFrame:
        """The tasks' columns for feature rows at `levels`, without reasons."""
        self.check_features(features)
        context = Context(levels)
        score_tasks(self.models, features, self._shared_matrix(features), self.outputs, context)
        return pd.DataFrame(context.columns, index=features.index)

    def score_features(self, features: pd.DataFrame, levels: Levels | None = None) -> pd.DataFrame:
        """One output row per feature row, in input order, columns as `output_columns`, at the
        scoring day's `levels` (`levels_on`; None: the models' own)."""
        self.check_features(features)
        matrix = self._shared_matrix(features)
        labels = {f.name: f for f in self.catalogue}
        named = self.segmenter.predict_named(features)
        out: dict[str, Any] = {
            "customer_id": features["customer_id"].astype("string").to_numpy(),
            "as_of": pd.to_datetime(features["as_of"], cache=False).to_numpy(),
            "segment_id": named["segment_id"].to_numpy(np.int64),
            "segment_name": named["segment_name"].to_numpy(),
            "segment_action": named["segment_action"].to_numpy(),
            "rfm_segment": rules.rfm_scores(features, self.rfm_edges)["rfm_segment"].to_numpy(),
            "lifecycle_stage": rules.lifecycle_stage(features).to_numpy(),
        }
        context = Context(levels, reasons=True)
        results = score_tasks(self.models, features, matrix, self.outputs, context)
        out.update(context.columns)
        for name, result in results.items():
            if TASKS[name].reasons:
                out[TASKS[name].reasons] = top_reasons(result.contributions, features, labels)
        out["model_version"] = self.model_version
        table = pd.DataFrame(out)
        text = [c for c in table.columns if table[c].dtype == object]
        return table.astype({c: "string" for c in text})[list(self.output_columns)]

    def _boosters(self) -> list[Any]:
        return [b for model in self.models.values() for b in model.boosters()]

    def _shared_matrix(self, features: pd.DataFrame) -> np.ndarray | None:
        """The model matrix of `features`, once for every model when they share an encoder
        (they do when trained on one frame), else None: each model then builds its own."""
        encoders = [model.encoder_ for model in self._boosters()]
        if any(e.signature() != encoders[0].signature() for e in encoders[1:]):
            return None
        return encoders[0].matrix(features)

    def use_threads(self, threads: int | None = None) -> None:
        """Prediction threads of every model and of the SHAP kernels (default:
        `custlens.runtime.thread_count()`)."""
        n_jobs = runtime.use_threads(runtime.thread_count(threads))
        for model in self._boosters():
            model.use_threads(n_jobs)
