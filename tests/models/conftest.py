"""A small labelled training frame from the synthetic generator, shared by model tests."""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.data.synthetic import generate_transactions
from custlens.features.frames import data_span, rolling_cutoffs, training_frame
from custlens.features.spec import FeatureSpec, FrameSpec

HORIZON = 60


@pytest.fixture(scope="session")
def synthetic_frame() -> pd.DataFrame:
    log, _ = generate_transactions(1_500, start="2021-01-01", end="2023-06-30", seed=11)
    first, last = data_span(log)
    cutoffs = rolling_cutoffs(first, last, HORIZON, FrameSpec(step_days=30, min_history_days=120))
    return training_frame(log, cutoffs, FeatureSpec(horizon_days=HORIZON))
