"""Plain-language reasons from SHAP contributions to the churn risk."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.features.catalogue import Feature, inline

N_REASONS = 3
# About the date, not the customer: it moves everyone's risk alike, so it is no reason for one.
CONTEXT = frozenset({"as_of_day_of_year"})


def _number(value: float) -> str:
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


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
    title = inline(feature.title)
    if pd.isna(value):
        return f"{title}: unknown"
    if isinstance(value, str):
        return f"{title}: {value}"
    if feature.unit in ("probability", "share"):
        return f"{title}: {value:.0%}"
    unit = "" if feature.unit in ("", "ratio", "yes/no", "currency") else f" {feature.unit}"
    return f"{title}: {_number(value)}{unit}"


def top_reasons(
    contributions: pd.DataFrame, features: pd.DataFrame, labels: dict[str, Feature]
) -> list[str]:
    """The strongest contributions raising each customer's churn risk, joined by '; '.

    Recency and overdue ratio describe one fact, so they are merged into one reason.
    """
    values = contributions.drop(columns=["bias", *CONTEXT], errors="ignore")
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
