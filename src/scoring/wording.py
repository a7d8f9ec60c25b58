"""Numbers in words for a million customers: each string exactly as Python's own formatting
writes it, but each distinct rounded value formatted once.

A value is first rounded in numpy to the digits the format keeps (`rint` rounds half to even
on the exact binary value, as Python's formatting does); values that round to the same key get
the same string. Where the scaling before rounding is itself inexact (v x 10 for one decimal),
values within a hair of a rounding tie are formatted one by one instead, so no string differs
from `format(v, spec)`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TIE = 1e-6  # distance from a rounding tie under which a scaled value is formatted directly


def _by_key(keys: np.ndarray, fmt: Callable[[float], str]) -> np.ndarray:
    """`fmt` of every key, as an object array, each distinct key formatted once (keys told
    apart by their bits, so 0.0 and -0.0 stay apart as Python writes them)."""
    if keys.size == 0:
        return np.empty(0, dtype=object)
    bits = np.ascontiguousarray(keys, dtype=np.float64).view(np.int64)
    unique, inverse = np.unique(bits, return_inverse=True)
    words = [fmt(k) for k in unique.view(np.float64)]
    return np.array(words, dtype=object)[inverse.ravel()]


def _scaled_keys(values: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Each value rounded to `decimals` decimals, and where that rounding is certain."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * 10.0**decimals
        fraction = np.abs(scaled - np.floor(scaled) - 0.5)
        certain = (fraction > TIE) & (np.abs(scaled) < 2.0**52)  # past 2**52, no fractions
        return np.rint(scaled) / 10.0**decimals, certain


def _keyed(values: np.ndarray, keys: np.ndarray, exact: np.ndarray, spec: str) -> np.ndarray:
    """format(v, spec) of every value: from its key where `exact`, else from the value."""
    out = np.empty(values.size, dtype=object)
    out[exact] = _by_key(keys[exact], lambda k: format(k, spec))
    out[~exact] = _by_key(values[~exact], lambda v: format(v, spec))
    return out


def fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """format(v, f".{decimals}f") of every (finite) value."""
    values = np.asarray(values, dtype=np.float64)
    if decimals == 0:
        return _by_key(np.rint(values), lambda k: format(k, ".0f"))
    keys, exact = _scaled_keys(values, decimals)
    return _keyed(values, keys, exact, f".{decimals}f")


def percent(values: np.ndarray) -> np.ndarray:
    """format(v, ".0%") of every (finite) value: Python multiplies by 100, then rounds."""
    with np.errstate(over="ignore"):
        scaled = np.asarray(values, dtype=np.float64) * 100.0
    return _by_key(np.rint(scaled), lambda k: format(k, ".0f") + "%")


def number(values: np.ndarray) -> np.ndarray:
    """A count or an amount as a reason quotes it: whole numbers (and anything from 1,000
    up) with thousands separators, others to three significant digits."""
    values = np.asarray(values, dtype=np.float64)
    size = np.abs(values)
    whole = (size >= 1000) | (values == np.trunc(values))
    out = np.empty(values.size, dtype=object)
    out[whole] = _by_key(np.rint(values[whole]), lambda k: format(k, ",.0f"))
    # Three significant digits: 0 decimals from 100, 1 from 10, 2 from 1; smaller, one by one.
    for low, high, decimals in ((100.0, 1000.0, 0), (10.0, 100.0, 1), (1.0, 10.0, 2)):
        part = ~whole & (size >= low) & (size < high)
        if decimals == 0:
            out[part] = _by_key(np.rint(values[part]), lambda k: format(k, ".3g"))
        else:
            keys, exact = _scaled_keys(values[part], decimals)
            out[part] = _keyed(values[part], keys, exact, ".3g")
    small = ~whole & (size < 1.0)
    out[small] = _by_key(values[small], lambda v: format(v, ".3g"))
    return out


def text(values: np.ndarray) -> np.ndarray:
    """str(v) of every value (text, or anything else), each distinct value once."""
    values = np.asarray(values, dtype=object)
    seen: dict[object, str] = {}
    return np.array([seen.setdefault(v, str(v)) for v in values], dtype=object)
