"""Plain-language reasons from the SHAP contributions of a model (churn risk, or value)."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from custlens.features.catalogue import Feature, context_features, inline
from custlens.scoring import wording

N_REASONS = 3
# About the scoring date, not the customer: it moves everyone alike, so it is no reason for one.
CONTEXT = context_features()
# Two columns, one fact: either one becomes the same "no order for N days" reason.
RECENCY = ("recency_days", "overdue_ratio")


def _values(features: pd.DataFrame, name: str, rows: np.ndarray) -> tuple[np.ndarray, bool]:
    """A column's values at `rows`: floats (missing as NaN) when it holds numbers or yes/no,
    else objects."""
    column = features[name]
    if pd.api.types.is_bool_dtype(column) or (
        pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype)
    ):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)[rows], True
    return column.to_numpy(dtype=object)[rows], False


def _value_phrases(
    name: str, rows: np.ndarray, features: pd.DataFrame, labels: dict[str, Feature]
) -> np.ndarray:
    """ "<label>: <value><unit>" for each of the row positions `rows` of column `name`."""
    if name not in features:
        return np.full(len(rows), f"{name}: None", dtype=object)
    if name not in labels:
        return f"{name}: " + wording.text(features[name].to_numpy(dtype=object)[rows])
    values, numeric = _values(features, name, rows)
    feature = labels[name]
    title = inline(feature.title)
    missing = pd.isna(values)
    out = np.full(len(rows), f"{title}: unknown", dtype=object)
    if not numeric:
        out[~missing] = f"{title}: " + wording.text(values[~missing])
        return out
    known = values[~missing]
    if feature.unit in ("probability", "share"):
        out[~missing] = f"{title}: " + wording.percent(known)
        return out
    unit = "" if feature.unit in ("", "ratio", "yes/no", "currency") else f" {feature.unit}"
    out[~missing] = f"{title}: " + wording.number(known) + unit
    return out


def _phrases(
    name: str, rows: np.ndarray, features: pd.DataFrame, labels: dict[str, Feature]
) -> np.ndarray:
    """The reason that column `name` gives for each of the row positions `rows`."""
    own = _value_phrases(name, rows, features, labels)
    if name not in RECENCY or "recency_days" not in features:
        return own
    days, _ = _values(features, "recency_days", rows)
    known = ~np.isnan(days)
    recency = np.full(len(rows), "", dtype=object)
    recency[known] = "no order for " + wording.fixed(days[known], 0) + " days"
    if "overdue_ratio" in features:
        overdue, _ = _values(features, "overdue_ratio", rows)
        gap = known & ~np.isnan(overdue)
        recency[gap] = (
            recency[gap] + ", " + wording.fixed(overdue[gap], 1) + " times the usual gap"
        )
    # A customer without a recency falls back to the column's own phrase.
    return np.where(known, recency, own)


def top_reasons(
    contributions: pd.DataFrame, features: pd.DataFrame, labels: dict[str, Feature]
) -> list[str]:
    """The strongest contributions raising each customer's prediction, joined by '; '.

    Recency and overdue ratio describe one fact, so they are merged into one reason.
    """
    values = contributions.drop(columns=["bias", *CONTEXT], errors="ignore")
    names = list(values.columns)
    if len(values) == 0:
        return []
    known = (
        features["recency_days"].notna().to_numpy(bool)
        if "recency_days" in features
        else np.zeros(len(values), dtype=bool)
    )
    merges = np.isin(names, RECENCY)
    chosen = _choose(values.to_numpy(dtype=np.float64), N_REASONS, merges, known)
    # Word each column once for all the rows that quote it, then join each row's reasons.
    flat = np.flatnonzero(chosen.ravel() >= 0)
    columns = chosen.ravel()[flat]
    order = np.argsort(columns, kind="stable")
    flat, columns = flat[order], columns[order]
    words = np.empty(flat.size, dtype=object)
    bounds = np.flatnonzero(np.diff(columns)) + 1
    for start, stop in zip([0, *bounds], [*bounds, flat.size], strict=True):
        rows = flat[start:stop] // N_REASONS
        words[start:stop] = _phrases(names[columns[start]], rows, features, labels)
    slots = np.full(chosen.size, "", dtype=object)
    slots[flat] = words
    slots = slots.reshape(chosen.shape)
    out = slots[:, 0]
    for j in range(1, N_REASONS):
        more = chosen[:, j] >= 0
        out[more] = out[more] + "; " + slots[more, j]
    return out.tolist()


@numba.njit(parallel=True, cache=True)
def _choose(matrix: np.ndarray, limit: int, merges: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per row, the columns of its `limit` largest positive values, largest first (ties: the
    lower column), counting the merged columns (recency and overdue) once where `known`;
    -1 where a row has fewer."""
    n, width = matrix.shape
    out = np.full((n, limit), -1, np.int64)
    for i in numba.prange(n):
        # One candidate more than wanted: two merged columns may both be among them.
        best = np.full(limit + 1, -np.inf)
        column = np.full(limit + 1, -1, np.int64)
        for j in range(width):
            value = matrix[i, j]
            if not value > best[limit] or not value > 0:
                continue
            place = limit
            while place > 0 and value > best[place - 1]:
                best[place], column[place] = best[place - 1], column[place - 1]
                place -= 1
            best[place], column[place] = value, j
        taken, merged = 0, False
        for place in range(limit + 1):
            j = column[place]
            if j < 0 or taken == limit:
                break
            if merges[j] and known[i]:
                if merged:
                    continue
                merged = True
            out[i, taken] = j
            taken += 1
    return out
