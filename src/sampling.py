"""Stable random draws of customers: the same customer always draws the same number, on any
machine, engine or library version (the first 8 bytes of the SHA-256 of its id)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def stable_unit(ids: Iterable[object]) -> np.ndarray:
    """A number in [0, 1) for each id, uniform over ids and fixed for each."""
    digests = b"".join(hashlib.sha256(str(i).encode()).digest()[:8] for i in ids)
    return np.frombuffer(digests, dtype=">u8").astype(np.float64) / 2.0**64
