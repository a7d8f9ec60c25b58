"""Feature rows and scores of the session's smoke-trained scorer, shared by explain tests."""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.scoring.batch import features_as_of


@pytest.fixture(scope="session")
def scored(trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(features, scores) of every customer as of the last day of the smoke data."""
    loaded = trained.loaded
    features = features_as_of(
        loaded.transactions, str(trained.last_day), trained.scorer, loaded.customers
    )
    return features, trained.scorer.score_features(features)
