"""A per-column summary of a feature table: type, null rate and distribution."""

from __future__ import annotations

import pandas as pd


def summarise(features: pd.DataFrame) -> pd.DataFrame:
    """One row per column: dtype, null rate, and mean, std, min, quartiles, max when numeric."""
    rows = []
    for name, column in features.items():
        row: dict[str, object] = {
            "feature": name,
            "dtype": str(column.dtype),
            "null_rate": float(column.isna().mean()),
            "distinct": int(column.nunique()),
        }
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            stats = column.astype("float64").describe()
            row |= {k: float(stats[k]) for k in ("mean", "std", "min", "25%", "50%", "75%", "max")}
        rows.append(row)
    return pd.DataFrame(rows)
