"""Pseudonymous customer ids for anything that is not a per-customer output.

Reports, logged examples and notebooks show a salted hash instead of the id. Without a
configured salt each run draws a fresh one that is never stored, so the pseudonyms cannot be
linked back (or across runs); set one (CUSTLENS_ID_SALT) to keep them stable between reports.
"""

from __future__ import annotations

import hashlib
import secrets

import pandas as pd

from custlens.features.build import ATTRIBUTE_PREFIX


def new_salt() -> str:
    """A random salt for one run."""
    return secrets.token_hex(16)


def pseudonym(customer_id: object, salt: str) -> str:
    """`c-` and 12 hex digits of SHA-256 over the salt and the id."""
    digest = hashlib.sha256(f"{salt}\x1f{customer_id}".encode()).hexdigest()
    return f"c-{digest[:12]}"


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Every id replaced by its pseudonym, as strings on the same index."""
    return ids.map(lambda value: pseudonym(value, salt)).astype("string")


def redact(frame: pd.DataFrame, salt: str, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy with pseudonymous ids, and each customer-table attribute set to its most common
    value in `population` (default: `frame`), shared by many customers and of the same dtype,
    so examples still validate."""
    population = frame if population is None else population
    out = frame.copy()
    if "customer_id" in out:
        out["customer_id"] = pseudonymise(out["customer_id"], salt)
    for column in [c for c in out.columns if c.startswith(ATTRIBUTE_PREFIX)]:
        common = population[column].mode(dropna=False)
        out[column] = pd.Series(common.iloc[0], index=out.index).astype(frame[column].dtype)
    return out
