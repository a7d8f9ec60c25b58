"""The MLflow pyfunc wrapper of the scorer: feature rows in, one answer row per customer out."""

from __future__ import annotations

import pickle  # noqa: S403 - the artifact is written by our own training run
from typing import Any

import mlflow.pyfunc
import pandas as pd


class CustlensModel(mlflow.pyfunc.PythonModel):
    """Loads the pickled `Scorer` artifact and calls its `score`."""

    def load_context(self, context: Any) -> None:
        """Read the scorer shipped with the model."""
        with open(context.artifacts["scorer"], "rb") as handle:
            self.scorer = pickle.load(handle)  # noqa: S301

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Score feature rows (the output of custlens.features.build_features plus as_of) at
        the levels of the day the model was trained through: feature rows alone do not say
        which season they are scored in (custlens.score and scripts/score.py, which read the
        log, set each scoring day's own)."""
        rows = restore_text(model_input, self.scorer.feature_dtypes)
        return self.scorer.score_features(rows, self.scorer.trained_levels)


def restore_text(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Text columns back to pandas' string dtype (MLflow's JSON and schema paths give object)."""
    text = [
        c for c, d in dtypes.items() if d == "string" and c in frame and frame[c].dtype == object
    ]
    return frame.astype({c: "string" for c in text}) if text else frame
