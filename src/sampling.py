"""Stable random draws of customers: the same customer always draws the same number, on any
machine, engine or library version (the first 8 bytes of the SHA-256 of its id)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import ibis
import numpy as np


def _draws(ids: Iterable[object]) -> np.ndarray:
    """The first 8 bytes of each id's SHA-256, as unsigned integers."""
    digests = b"".join(hashlib.sha256(str(i).encode()).digest()[:8] for i in ids)
    return np.frombuffer(digests, dtype=">u8")


def stable_unit(ids: Iterable[object]) -> np.ndarray:
    """A number in [0, 1) for each id, uniform over ids and fixed for each."""
    return _draws(ids).astype(np.float64) / 2.0**64


def stable_mask(ids: Iterable[object], share: float) -> np.ndarray:
    """Whether each id's `stable_unit` is below `share`, exactly as `stable_share` decides it
    on an engine (integers compared, no rounding)."""
    draws = _draws(ids)
    return draws < _bound(share) if share < 1 else np.ones(len(draws), dtype=bool)


def _bound(share: float) -> int:
    return int(share * 2.0**64)


def stable_share(ids: ibis.Value, share: float) -> ibis.BooleanValue:
    """On the engine: whether each id's `stable_unit` is below `share` (the same ids on any
    engine, no ordering or window needed). The first 16 hex digits of the SHA-256 compare as
    the number they spell."""
    if share >= 1:
        return ibis.literal(True)
    bound = f"{_bound(share):016x}"
    return ids.cast("string").hexdigest("sha256").substr(0, 16) < bound
