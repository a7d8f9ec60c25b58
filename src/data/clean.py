"""Cleaning rules for canonical transaction frames; each rule's effect is counted.

Rules run in a fixed order, each on the rows the earlier rules kept, so the report's rows add
up: rows in minus every removal equals rows kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from custlens.data.quality import QualityReport, RuleEffect
from custlens.data.schema import EXTREME_FLAG
from custlens.data.spec import CleaningSpec
from custlens.errors import DataError

Mask = Callable[[pd.DataFrame, CleaningSpec], "pd.Series | None"]


def _missing_customer(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series | None:
    return df["customer_id"].isna() if spec.drop_missing_customer else None


def _duplicates(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series | None:
    return df.duplicated(keep="first") if spec.drop_duplicates else None


def _order_prefix(df: pd.DataFrame, prefix: str | None) -> pd.Series | None:
    if not prefix or "order_id" not in df:
        return None
    return df["order_id"].str.upper().str.startswith(prefix.upper()).fillna(False).astype(bool)


def _bad_debt(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series | None:
    return _order_prefix(df, spec.adjustment_prefix)


def _non_product(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series | None:
    if "product_id" not in df or not (spec.non_product_codes or spec.non_product_patterns):
        return None
    codes = df["product_id"].str.upper()
    hit = codes.isin([c.upper() for c in spec.non_product_codes])
    for pattern in spec.non_product_patterns:
        hit |= df["product_id"].str.contains(pattern, flags=re.IGNORECASE, regex=True)
    return hit.fillna(False).astype(bool)


def non_product_customers(transactions: pd.DataFrame, spec: CleaningSpec) -> pd.DataFrame | None:
    """Each customer's first positive non-product line (fees, postage), or None when the rule
    is off: a customer whose only lines are such codes is still a customer (scored on what is
    known), though the lines themselves are not purchases."""
    hit = _non_product(transactions, spec)
    if hit is None:
        return None
    hit &= transactions["customer_id"].notna() & (transactions["amount"] > 0)
    lines = transactions.loc[hit.to_numpy(), ["customer_id", "timestamp"]]
    firsts = lines.groupby("customer_id", observed=True)["timestamp"].min()
    return pd.DataFrame(
        {"customer_id": firsts.index.astype(str), "first": firsts.to_numpy()}
    ).astype({"customer_id": "string"})


def _nonpositive_price(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series | None:
    if not spec.drop_nonpositive_price or "unit_price" not in df:
        return None
    return df["unit_price"] <= 0


def is_return(df: pd.DataFrame, cancellation_prefix: str | None = "C") -> pd.Series:
    """Cancellation or return lines: a cancellation invoice, a negative quantity or amount."""
    hit = df["amount"] < 0
    if "quantity" in df:
        hit |= df["quantity"] < 0
    prefixed = _order_prefix(df, cancellation_prefix)
    return hit if prefixed is None else hit | prefixed


def _returns(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series:
    return is_return(df, spec.cancellation_prefix)


# (name, what it catches, mask function); order matters, see the module docstring.
RULES: tuple[tuple[str, str, Mask], ...] = (
    ("missing_customer_id", "lines without a customer id", _missing_customer),
    ("duplicate_lines", "exact repeats of an earlier line", _duplicates),
    ("bad_debt_adjustments", "bad-debt adjustment invoices", _bad_debt),
    ("non_product_codes", "postage, fees, manual and other non-product codes", _non_product),
    ("nonpositive_price", "lines with a zero or negative unit price", _nonpositive_price),
)


def clean_transactions(
    transactions: pd.DataFrame, spec: CleaningSpec, source: str = ""
) -> tuple[pd.DataFrame, QualityReport]:
    """Apply the configured rules; return the kept lines and the quality report."""
    if spec.returns not in ("net", "drop"):
        raise DataError(f"cleaning.returns must be 'net' or 'drop', not {spec.returns!r}")
    df, effects = transactions, []
    for name, description, mask_of in RULES:
        mask = mask_of(df, spec)
        effects.append(_effect(name, "removed", df, mask, description))
        if mask is not None and mask.any():
            df = df.loc[~mask.to_numpy()]
    returns = _returns(df, spec)
    if spec.returns == "drop":
        effects.append(_effect("returns", "removed", df, returns, "cancellations and returns"))
        df = df.loc[~returns.to_numpy()]
    else:
        effects.append(_effect("returns", "netted", df, returns, "returns netted against sales"))
    df = df.reset_index(drop=True)
    df[EXTREME_FLAG] = _extreme(df, spec)
    effects.append(_effect("extreme_quantity", "flagged", df, df[EXTREME_FLAG], "kept, flagged"))
    if df.empty:
        raise DataError(f"no transactions left after cleaning {source or 'the data'}")
    return df, _report(source, transactions, df, effects)


def _extreme(df: pd.DataFrame, spec: CleaningSpec) -> pd.Series:
    if spec.extreme_quantity is None or "quantity" not in df:
        return pd.Series(np.zeros(len(df), dtype=bool), index=df.index)
    return df["quantity"].abs() >= spec.extreme_quantity


def _effect(
    rule: str, action: str, df: pd.DataFrame, mask: pd.Series | None, description: str
) -> RuleEffect:
    if mask is None:
        return RuleEffect(rule, action, 0, 0.0, description + " (rule off or not applicable)")
    hits = mask.to_numpy(dtype=bool)
    revenue = float(df["amount"].to_numpy()[hits].sum())
    return RuleEffect(rule, action, int(hits.sum()), round(revenue, 2), description)


def _report(
    source: str, raw: pd.DataFrame, kept: pd.DataFrame, effects: list[RuleEffect]
) -> QualityReport:
    return QualityReport(
        source=source,
        rows_in=len(raw),
        customers_in=int(raw["customer_id"].nunique()),
        revenue_in=round(float(raw["amount"].sum()), 2),
        effects=tuple(effects),
        rows_out=len(kept),
        customers_out=int(kept["customer_id"].nunique()),
        orders_out=int(kept["order_id"].nunique()),
        revenue_kept=round(float(kept["amount"].sum()), 2),
        first_timestamp=str(kept["timestamp"].min()),
        last_timestamp=str(kept["timestamp"].max()),
    )
