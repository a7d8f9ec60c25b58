"""Vectorised number wording writes exactly what Python's own formatting writes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from custlens.scoring import wording


def reference_number(value: float) -> str:
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


finite = st.floats(allow_nan=False, allow_infinity=True, width=64)
# Values on and next to rounding ties, where scaling before rounding is inexact.
ties = st.integers(-200_000, 200_000).map(lambda k: k / 2000) | st.integers(-(10**6), 10**6).map(
    lambda k: np.nextafter(k / 200, np.inf)
)
values = arrays(np.float64, st.integers(0, 60), elements=finite | ties)


@settings(max_examples=300, deadline=None)
@given(values)
def test_number_matches_python(v: np.ndarray) -> None:
    assert list(wording.number(v)) == [reference_number(x) for x in v]


@settings(max_examples=300, deadline=None)
@given(values)
def test_fixed_and_percent_match_python(v: np.ndarray) -> None:
    for decimals in (0, 1, 2):
        assert list(wording.fixed(v, decimals)) == [format(x, f".{decimals}f") for x in v]
    assert list(wording.percent(v)) == [format(x, ".0%") for x in v]


def test_ties_and_decade_edges() -> None:
    edges = np.array([0.25, 0.35, 1.005, 9.996, 99.95, 99.96, 123.5, 124.5, 999.6, 1000.5, -0.0])
    assert list(wording.number(edges)) == [reference_number(x) for x in edges]
    assert list(wording.fixed(edges, 1)) == [format(x, ".1f") for x in edges]
    assert list(wording.text(np.array(["a", 3, None], dtype=object))) == ["a", "3", "None"]
