"""Seeded subsets of a raw log that keep each chosen customer's complete history."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sample_log(
    raw: pd.DataFrame, customer: str, invoice: str, fraction: float, seed: int
) -> pd.DataFrame:
    """Raw lines of a random `fraction` of customers and of the invoices with no customer."""
    rng = np.random.default_rng(seed)
    known = np.sort(raw[customer].dropna().unique())
    chosen = rng.choice(known, size=round(fraction * len(known)), replace=False)
    anonymous = np.sort(raw.loc[raw[customer].isna(), invoice].unique())
    picked = rng.choice(anonymous, size=round(fraction * len(anonymous)), replace=False)
    keep = raw[customer].isin(chosen) | (raw[customer].isna() & raw[invoice].isin(picked))
    return raw.loc[keep].reset_index(drop=True)
