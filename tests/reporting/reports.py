"""Building the report from scored customers, as the jobs do, for the explain tests."""

from __future__ import annotations

import pandas as pd

from custlens.reporting import report as rpt
from custlens.reporting.aggregates import ScoredBase, shap_sample


def scored_base(features: pd.DataFrame, scores: pd.DataFrame, block: int) -> ScoredBase:
    """The report's aggregates of the scored customers, fed `block` customers at a time."""
    base = ScoredBase()
    base.begin(len(features), int(features["has_purchase"].sum()))
    for start in range(0, len(features), block):
        base.add(scores.iloc[start : start + block], features.iloc[start : start + block])
    return base


def build(trained, scored, salt: str, shap_rows: int, block: int = 10**9) -> rpt.Report:
    """The report on the session's scored customers, SHAP on `shap_rows` of them."""
    features, scores = scored
    drivers = rpt.explain_drivers(trained.scorer, shap_sample(features, shap_rows, 0), 0)
    base = scored_base(features, scores, block)
    return rpt.build_report(
        base, trained.scorer, "synthetic", trained.loaded.report, salt, drivers
    )
