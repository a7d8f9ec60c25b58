"""Plain-language reasons from SHAP contributions to the churn risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.features.catalogue import Feature

N_REASONS = 3


def _phrase(name: str, row: dict[str, object], labels: dict[str, Feature]) -> str:
    """One reason, in words a marketer reads without a glossary."""
    value = row.get(name)
    if name in ("recency_days", "overdue_ratio") and pd.notna(row.get("recency_days")):
        text = f"no order for {row['recency_days']:.0f} days"
        if pd.notna(row.get("overdue_ratio")):
            text += f", {row['overdue_ratio']:.1f} times the usual gap"
        return text
    if name not in labels:
        return f"{name}: {value}"
    feature = labels[name]
    if pd.isna(value):
        return f"{feature.definition}: unknown"
    if isinstance(value, str):
        return f"{feature.definition}: {value}"
    if feature.unit == "probability":
        return f"{feature.definition}: {value:.0%}"
    unit = "" if feature.unit in ("", "ratio", "share", "yes/no") else f" {feature.unit}"
    return f"{feature.definition}: {value:,.4g}{unit}"


def top_reasons(
    contributions: pd.DataFrame, features: pd.DataFrame, labels: dict[str, Feature]
) -> list[str]:
    """The strongest contributions raising each customer's churn risk, joined by '; '.

    Recency and overdue ratio describe one fact, so they are merged into one reason.
    """
    values = contributions.drop(columns="bias", errors="ignore")
    names = list(values.columns)
    matrix = values.to_numpy()
    # One extra candidate, since recency and overdue ratio may merge into one reason.
    order = np.argsort(-matrix, axis=1, kind="stable")[:, : N_REASONS + 1]
    wanted = {names[j] for j in np.unique(order)} | {"recency_days", "overdue_ratio"}
    columns = {c: features[c].to_numpy(object) for c in wanted if c in features}
    out = []
    for i in range(len(matrix)):
        row = {c: column[i] for c, column in columns.items()}
        phrases: list[str] = []
        for j in order[i]:
            if matrix[i, j] <= 0 or len(phrases) == N_REASONS:
                break
            text = _phrase(names[j], row, labels)
            if text not in phrases:
                phrases.append(text)
        out.append("; ".join(phrases))
    return out
