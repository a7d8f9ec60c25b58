"""Leakage and determinism: later events change no feature; labels read nothing before."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings

from custlens.engines.local import connect
from custlens.features.build import build_features
from custlens.features.labels import build_labels
from custlens.features.spec import FeatureSpec
from tests.features.handlog import AS_OF, hand_log

CON = connect()
AS_OF_END = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)  # as_of covers its whole day
HORIZON = FeatureSpec(horizon_days=30, repurchase_days=10)


@st.composite
def events(draw: st.DrawFn, start: pd.Timestamp, days: int, customers: str) -> pd.DataFrame:
    """Random lines starting at `start` over `days` days, for the given customer letters."""
    n = draw(st.integers(1, 12))
    return pd.DataFrame(
        {
            "customer_id": draw(st.lists(st.sampled_from(customers), min_size=n, max_size=n)),
            "order_id": [
                f"x{i}" for i in draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
            ],
            "timestamp": [
                start + pd.Timedelta(minutes=m)
                for m in draw(st.lists(st.integers(0, days * 1440 - 1), min_size=n, max_size=n))
            ],
            "product_id": draw(
                st.lists(st.sampled_from(["P1", "P2", "P7"]), min_size=n, max_size=n)
            ),
            "quantity": draw(st.lists(st.integers(-3, 5), min_size=n, max_size=n)),
            "unit_price": draw(
                st.lists(st.sampled_from([1.5, 4.0, 20.0]), min_size=n, max_size=n)
            ),
            "country": draw(
                st.lists(st.sampled_from(["France", "United Kingdom"]), min_size=n, max_size=n)
            ),
        }
    )


def with_events(extra: pd.DataFrame) -> pd.DataFrame:
    extra = extra.assign(
        quantity=extra["quantity"].astype("float64"),
        amount=extra["quantity"] * extra["unit_price"],
    )
    log = pd.concat([hand_log(), extra[hand_log().columns]], ignore_index=True)
    return log.astype({c: "string" for c in ("customer_id", "order_id", "product_id", "country")})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(AS_OF_END, 400, "ABCDEFZ"))
def test_events_after_as_of_change_no_feature(later: pd.DataFrame) -> None:
    before = build_features(hand_log(), AS_OF, con=CON)
    after = build_features(with_events(later), AS_OF, con=CON)
    pd.testing.assert_frame_equal(before, after)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(pd.Timestamp("2023-01-01"), 425, "ABCD"))
def test_labels_read_nothing_on_or_before_as_of(earlier: pd.DataFrame) -> None:
    ids = pd.Series(["A", "B", "C", "D"])
    before = build_labels(hand_log(), AS_OF, ids, HORIZON, con=CON)
    after = build_labels(with_events(earlier), AS_OF, ids, HORIZON, con=CON)
    pd.testing.assert_frame_equal(before, after)


def test_input_row_order_and_repeats_change_nothing() -> None:
    log = hand_log()
    first = build_features(log, AS_OF, con=CON)
    for seed in range(3):
        shuffled = log.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(first, build_features(shuffled, AS_OF, con=CON))
    pd.testing.assert_frame_equal(first, build_features(log, AS_OF))


def test_synthetic_features_are_row_order_independent() -> None:
    from custlens.data.synthetic import generate_transactions

    log, _ = generate_transactions(3_000, seed=3)
    first = build_features(log, "2023-06-30", con=CON)
    shuffled = log.iloc[np.random.default_rng(0).permutation(len(log))]
    pd.testing.assert_frame_equal(first, build_features(shuffled, "2023-06-30", con=CON))
