"""Plain-language reasons from SHAP contributions to the churn risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.features.catalogue import Feature

N_REASONS = 3


def _phrase(name: str, row: pd.Series, labels: dict[str, Feature]) -> str:
    """One reason, in words a marketer reads without a glossary."""
    value = row.get(name)
    if name in ("recency_days", "overdue_ratio") and pd.notna(row.get("recency_days")):
        text = f"no order for {row['recency_days']:.0f} days"
        if pd.notna(row.get("overdue_ratio")):
            text += f", {row['overdue_ratio']:.1f} times the usual gap"
        return text
    if name.startswith("btyd_p"):
        return f"{labels[name].definition}: {value:.0%}" if pd.notna(value) else labels[name].name
    if name in labels:
        feature = labels[name]
        if pd.isna(value):
            return f"{feature.definition}: unknown"
        if isinstance(value, str):
            return f"{feature.definition}: {value}"
        unit = "" if feature.unit in ("", "ratio", "share", "probability") else f" {feature.unit}"
        return f"{feature.definition}: {value:,.4g}{unit}"
    return f"{name}: {value}"


def top_reasons(
    contributions: pd.DataFrame, features: pd.DataFrame, labels: dict[str, Feature]
) -> list[str]:
    """The strongest contributions raising each customer's churn risk, joined by '; '.

    Recency and overdue ratio describe one fact, so they are merged into one reason.
    """
    values = contributions.drop(columns="bias", errors="ignore")
    names = np.asarray(values.columns)
    order = np.argsort(-values.to_numpy(), axis=1, kind="stable")
    out = []
    for i, (_, row) in enumerate(features.iterrows()):
        phrases: list[str] = []
        for j in order[i]:
            if values.iat[i, j] <= 0 or len(phrases) == N_REASONS:
                break
            text = _phrase(names[j], row, labels)
            if text not in phrases:
                phrases.append(text)
        out.append("; ".join(phrases))
    return out
