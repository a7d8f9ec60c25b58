"""Weights that lean training towards the time of year the model will score.

A retailer's next 90 days look different in September than in March (this gift retailer's
customers come back for Christmas), and a year of rolling cutoffs holds each season once.
Weighting cutoffs by how close their day of year lies to the scoring day's lets the trees
learn the coming season's level without dropping the rest of the year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25


def scoring_day(as_of: pd.Series, horizon_days: int) -> pd.Timestamp:
    """The day a model trained on these labelled cutoffs will score: where the last labels end.

    Training uses every cutoff whose label window fits in the data, so the latest one plus the
    horizon is the data's last day, which is the day the exported scorer scores by default;
    in a backtest it is the test cutoff.
    """
    return pd.Timestamp(pd.to_datetime(as_of).max()) + pd.Timedelta(days=horizon_days)


def days_apart_in_year(days: pd.Series, target: pd.Timestamp) -> np.ndarray:
    """Distance in days of year between each day and the target, around the year's end."""
    gap = np.abs(pd.to_datetime(days).dt.dayofyear.to_numpy(float) - target.dayofyear)
    return np.minimum(gap, DAYS_PER_YEAR - gap)


def season_weights(
    as_of: pd.Series, target: pd.Timestamp, boost: float, width_days: float
) -> np.ndarray | None:
    """1 + boost x a Gaussian of the day-of-year distance to `target` (None when boost is 0).

    A cutoff at the target's time of year weighs 1 + boost, one `width_days` away about
    1 + 0.6 boost, and cutoffs half a year away about 1.
    """
    if boost < 0 or width_days <= 0:
        raise ValueError(
            f"season weights need boost >= 0 and width_days > 0, not {boost} and {width_days}"
        )
    if boost == 0:
        return None
    gap = days_apart_in_year(as_of, target)
    return 1.0 + boost * np.exp(-0.5 * (gap / width_days) ** 2)
