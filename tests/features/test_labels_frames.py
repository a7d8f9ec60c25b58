"""Labels on a hand-written log, rolling cutoffs and the out-of-time split."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pandas as pd
import pytest

from custlens.errors import DataError
from custlens.features.build import build_features
from custlens.features.frames import (
    can_judge,
    data_span,
    rolling_cutoffs,
    training_frame,
)
from custlens.features.labels import build_labels, eligible
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from custlens.models.estimators.training import out_of_time
from tests.features.handlog import AS_OF, ROWS, hand_log

LATER = [
    ("A", "o20", "2024-03-02 00:00", "P1", 2, 5.0),  # first minute after as_of
    ("B", "o21", "2024-03-31 23:59", "P1", 1, 5.0),  # last minute of the 30-day window
    ("C", "o22", "2024-04-01 00:00", "P1", 3, 5.0),  # first minute after it
    ("C", "C23", "2024-04-02 00:00", "P1", -1, 5.0),
    ("D", "C24", "2024-04-10 00:00", "P4", -1, 10.0),  # only a return: churned, value 0
    ("A", "o25", "2024-05-30 23:59", "P2", 1, 20.0),  # last minute of the 90-day horizon
    ("B", "o26", "2024-05-31 00:00", "P2", 1, 20.0),  # just outside it
]


def test_hand_labels() -> None:
    log = hand_log(ROWS + LATER)
    ids = pd.Series(["A", "B", "C", "D"])
    labels = build_labels(log, AS_OF, ids, FeatureSpec(horizon_days=90, repurchase_days=30))
    got = labels.set_index("customer_id")
    assert list(got.index) == ["A", "B", "C", "D"]
    assert got["churned"].to_dict() == {"A": False, "B": False, "C": False, "D": True}
    assert got["repurchased"].to_dict() == {"A": True, "B": True, "C": False, "D": False}
    assert got["future_value"].to_dict() == {"A": 30.0, "B": 5.0, "C": 10.0, "D": 0.0}
    assert got["future_orders"].to_dict() == {"A": 2, "B": 1, "C": 1, "D": 0}
    # Days from as_of (2024-03-01) to the first purchase after it; none: missing.
    assert got["next_order_days"].fillna(-1).to_dict() == {"A": 1, "B": 30, "C": 31, "D": -1}


def test_eligibility_is_configurable() -> None:
    features = build_features(hand_log(), AS_OF).set_index("customer_id")
    assert list(features.index[eligible(features, LabelSpec())]) == ["A", "B", "C"]
    recent = eligible(features, LabelSpec(active_within_days=30))
    assert list(features.index[recent]) == ["A", "B"]  # C last bought 56 days before as_of


def test_rolling_cutoffs() -> None:
    spec = FrameSpec(step_days=30, min_history_days=60)
    cutoffs = rolling_cutoffs(date(2024, 1, 1), date(2024, 12, 31), 90, spec)
    assert cutoffs[-1] == date(2024, 10, 2)  # its 90-day window ends on the last day
    assert all((b - a).days == 30 for a, b in pairwise(cutoffs))
    assert cutoffs[0] >= date(2024, 3, 1) and (cutoffs[0] - date(2024, 3, 1)).days < 30
    assert (
        rolling_cutoffs(
            date(2024, 1, 1), date(2024, 12, 31), 90, FrameSpec(step_days=30, max_cutoffs=2)
        )
        == cutoffs[-2:]
    )
    with pytest.raises(DataError, match="covers 60 days .* needs at least 150"):
        rolling_cutoffs(date(2024, 1, 1), date(2024, 3, 1), 90, spec)


def test_the_automatic_step_follows_the_history() -> None:
    auto = FrameSpec(min_history_days=90)
    two_years = rolling_cutoffs(date(2022, 1, 1), date(2023, 12, 31), 90, auto)
    assert {(b - a).days for a, b in pairwise(two_years)} == {14}
    nine_months = rolling_cutoffs(date(2023, 1, 1), date(2023, 9, 30), 90, auto)
    assert {(b - a).days for a, b in pairwise(nine_months)} == {7}
    assert can_judge(nine_months, 90) and not can_judge(nine_months[-5:], 90)


def test_training_frame_and_the_out_of_time_split() -> None:
    from custlens.data.synthetic import generate_transactions

    log, _ = generate_transactions(1_500, start="2021-01-01", end="2022-12-31", seed=5)
    first, last = data_span(log)
    cutoffs = rolling_cutoffs(first, last, 60, FrameSpec(step_days=30, min_history_days=120))
    frame = training_frame(log, cutoffs, FeatureSpec(horizon_days=60))
    assert set(frame["as_of"]) == {pd.Timestamp(c) for c in cutoffs}
    assert not frame.duplicated(["customer_id", "as_of"]).any()
    assert list(frame.columns[:2]) == ["customer_id", "as_of"]
    known, at = out_of_time(frame["as_of"], pd.Timestamp(cutoffs[-1]), 60)
    train, test = frame.loc[known], frame.loc[at]
    assert at.any() and (test["as_of"] == pd.Timestamp(cutoffs[-1])).all()
    assert (train["as_of"] + pd.Timedelta(days=60) <= pd.Timestamp(cutoffs[-1])).all()
    assert train["as_of"].max() == pd.Timestamp(cutoffs[-3])  # 30-day steps, 60-day labels
    # A snapshot's features equal a direct build at that cutoff.
    direct = build_features(log, cutoffs[-1]).set_index("customer_id")
    row = test.iloc[0]
    assert row["frequency"] == direct.loc[row["customer_id"], "frequency"]
    known, at = out_of_time(frame["as_of"], pd.Timestamp("2030-01-01"), 60)
    assert known.all() and not at.any()
    # The next order is known only as far as the log reaches after each cutoff.
    observed = (pd.Timestamp(last) - frame["as_of"]).dt.days
    assert (frame["observed_days"] == observed).all()
    assert (frame["next_order_days"].dropna() <= frame.loc[frame["next_order_days"].notna(),
            "observed_days"]).all()  # fmt: skip
    assert (frame["next_order_days"].isna() | (frame["next_order_days"] >= 1)).all()
    ordered = ~frame["churned"].astype(bool)
    assert (frame.loc[ordered, "next_order_days"] <= 60).all()  # within the horizon
    assert (frame["churned"].astype(bool) & frame["next_order_days"].notna()).any()  # after it
