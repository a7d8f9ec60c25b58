"""The metrics of the timing task. The outcome `y` is the days from as_of to the next order
within the horizon, `inf` for none (censored at the horizon); a predicted day is `inf` where
no date falls within the horizon.

- precision: of the customers dated within the horizon, the share who ordered in it;
- recall: of the customers who ordered in it, the share dated within it;
- median error: among those dated who ordered, the median of |predicted day - actual day|;
- concordance (Harrell's C): of the pairs where one customer orders first within the horizon,
  the share whose score (the expected days without an order: lower is sooner) says so; on a
  fixed random sample of CONCORDANCE_ROWS customers when there are more (its standard error
  there is a few thousandths; the cost grows with the rows times the distinct order days). It
  has no bootstrap, so the monitor shows it without a status;
- order gap at t: the mean predicted chance of an order by day t minus the share who did.
"""

from __future__ import annotations

import numpy as np

from custlens.errors import CustlensError
from custlens.models.evaluation.metrics import Metric


def _days(y: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(y, float), np.asarray(predicted, float)
    if a.ndim != 1 or a.shape != b.shape or not a.size:
        raise CustlensError(f"days must be two 1-D arrays of one length, not {a.shape}, {b.shape}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise CustlensError("days hold missing values (no order within the horizon is inf)")
    return a, b


def _share(hit: np.ndarray, among: np.ndarray, what: str) -> float:
    if not among.any():
        raise CustlensError(f"{what} is undefined: no customer is counted")
    return float(hit[among].mean())


def precision(y: np.ndarray, predicted: np.ndarray) -> float:
    """Of the customers dated within the horizon, the share who ordered in it."""
    a, b = _days(y, predicted)
    return _share(np.isfinite(a), np.isfinite(b), "precision")


def recall(y: np.ndarray, predicted: np.ndarray) -> float:
    """Of the customers who ordered within the horizon, the share dated within it."""
    a, b = _days(y, predicted)
    return _share(np.isfinite(b), np.isfinite(a), "recall")


def median_error(y: np.ndarray, predicted: np.ndarray) -> float:
    """Median days between the predicted and the actual next order, where both exist."""
    a, b = _days(y, predicted)
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        raise CustlensError("the median error is undefined: no dated customer ordered")
    return float(np.median(np.abs(b[both] - a[both])))


GAP_TOLERANCE = 0.03  # a chance within 3 points of the share who ordered is on level
CONCORDANCE_ROWS = 20_000  # customers drawn where there are more (a ledger entry)


def concordance(y: np.ndarray, score: np.ndarray) -> float:
    """Harrell's C of a score where lower means sooner, ties in the score counted one half:
    a pair is comparable when the earlier of the two ordered within the horizon."""
    a, s = _days(y, score)
    if a.size > CONCORDANCE_ROWS:
        keep = np.random.default_rng(0).choice(a.size, CONCORDANCE_ROWS, replace=False)
        a, s = a[keep], s[keep]
    events = np.isfinite(a)
    agree = ties = pairs = 0.0
    # Few distinct event days: for each, its events against every later customer at once.
    for day in np.unique(a[events]):
        later = np.sort(s[a > day])
        mine = s[a == day]
        if not later.size:
            continue
        above = later.size - np.searchsorted(later, mine, side="right")
        equal = np.searchsorted(later, mine, side="right") - np.searchsorted(later, mine)
        agree += above.sum()
        ties += equal.sum()
        pairs += later.size * mine.size
    if not pairs:
        raise CustlensError("the concordance is undefined: no comparable pair")
    return float((agree + 0.5 * ties) / pairs)


def order_gap(days: int):
    """The mean predicted chance of an order by `days` minus the share who ordered by then."""

    def gap(y: np.ndarray, chance: np.ndarray) -> float:
        a, p = _days(y, chance)
        return float(p.mean() - (a <= days).mean())

    return gap


# --- bootstrap forms (weights: resamples x rows) --------------------------------------------


def _weighted_share(hit: np.ndarray, among: np.ndarray, w: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * (hit & among)).sum(axis=1) / (w * among).sum(axis=1)


def _weighted_precision(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _weighted_share(np.isfinite(y), np.isfinite(predicted), w)


def _weighted_recall(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _weighted_share(np.isfinite(predicted), np.isfinite(y), w)


def _weighted_median_error(y: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    both = np.isfinite(y) & np.isfinite(predicted)
    errors = np.abs(predicted[both] - y[both])
    if not errors.size:
        return np.full(len(w), np.nan)
    order = np.argsort(errors, kind="stable")
    cumulative = np.cumsum(w[:, both][:, order], axis=1)
    total = cumulative[:, -1:]
    ranked = errors[order]
    low = (cumulative < total / 2).sum(axis=1).clip(max=errors.size - 1)
    high = (cumulative <= total / 2).sum(axis=1).clip(max=errors.size - 1)
    return (ranked[low] + ranked[high]) / 2  # the two middle values when the weight splits


def _weighted_gap(days: int):
    def gap(y: np.ndarray, chance: np.ndarray, w: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w * (chance - (y <= days))).sum(axis=1) / w.sum(axis=1)

    return gap


PRECISION = Metric("date_precision", precision, "dated who ordered",
                   weighted=_weighted_precision)  # fmt: skip
RECALL = Metric("date_recall", recall, "ordered who were dated", weighted=_weighted_recall)
MEDIAN_ERROR = Metric("date_error_days", median_error, "median error of the date (days)", True,
                      weighted=_weighted_median_error)  # fmt: skip
CONCORDANCE = Metric("concordance", concordance, "concordance (C-index)")


def gap_metric(days: int) -> Metric:
    """The order-gap metric at `days` (target 0)."""
    return Metric(f"order_gap_{days}d", order_gap(days), f"chance by day {days} - share",
                  weighted=_weighted_gap(days), target=0.0, tolerance=GAP_TOLERANCE)  # fmt: skip
