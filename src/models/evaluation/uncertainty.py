"""Bootstrap intervals of the tasks' metrics, fast on large samples.

Poisson bootstrap (each row weighted by a Poisson(1) draw per resample) through the metrics'
weighted forms (`custlens.models.evaluation.weighted`), on at most `max_rows` rows drawn at
random: the interval is centred on the metric of all the rows and its half-widths, taken from
the subsample's resamples, are scaled by sqrt(subsample / rows), as a mean's standard error
scales. Below `max_rows` rows, every row is resampled and nothing is scaled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custlens.errors import CustlensError
from custlens.models.evaluation.metrics import Metric
from custlens.models.evaluation.weighted import poisson_weights

RESAMPLES = 200
MAX_ROWS = 20_000
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A metric's value on all the rows and its bootstrap interval (NaN where undefined)."""

    value: float
    lower: float
    upper: float


def estimate(
    metric: Metric,
    y: np.ndarray,
    score: np.ndarray,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
) -> Estimate:
    """The metric of `score` against `y` with its 95% interval."""
    nan = Estimate(float("nan"), float("nan"), float("nan"))
    try:
        value = metric(y, score)
    except CustlensError:  # undefined on these rows (one class, no value)
        return nan
    if metric.weighted is None or len(y) < 2 or resamples < 1:
        return Estimate(value, float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    rows = np.arange(len(y))
    if len(y) > max_rows:
        rows = np.sort(rng.choice(len(y), max_rows, replace=False))
    scale = np.sqrt(len(rows) / len(y))
    sub_y, sub_s = np.asarray(y, float)[rows], np.asarray(score, float)[rows]
    draws = metric.weighted(sub_y, sub_s, poisson_weights(len(rows), resamples, seed))
    draws = draws[np.isfinite(draws)]
    if draws.size < resamples // 2:
        return Estimate(value, float("nan"), float("nan"))
    centre = metric.weighted(sub_y, sub_s, np.ones((1, len(rows))))[0]
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return Estimate(value, value - (centre - low) * scale, value + (high - centre) * scale)
