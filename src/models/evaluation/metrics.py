"""Evaluation metrics for the churn, repurchase and lifetime-value models.

Pure functions over numpy arrays or pandas Series: no I/O, no tracking. Every function
validates its inputs (1-D, non-empty, same length, finite) and raises ``CustlensError``.

Conventions shared by all functions:

- A higher score means "more likely positive" or "more valuable".
- Tied scores are grouped in the ROC, PR, gain and Gini computations: tied rows enter the
  curve together and the curve is linear across them, which equals averaging over every
  order of the tied rows. A constant score therefore has AUC 0.5 and Gini exactly 0.
- "Top decile" is exactly ceil(n / 10) rows (n = 30 -> 3 rows, n = 31 -> 4 rows),
  picked by a stable descending sort: among tied scores the earlier row wins.
- Equal-count bins (ECE, reliability table, decile table) split the stably sorted rows with
  ``numpy.array_split``: sizes differ by at most one, the first bins take the extra rows, and
  tied scores may straddle a bin edge (deterministically, by original row order). With fewer
  rows than bins, every row is its own bin.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from custlens.errors import CustlensError
from custlens.models.evaluation import weighted

PROBABILITY_CLIP = 1e-15
DECILES = 10


# --- validation -------------------------------------------------------------------------


def _as_array(values: ArrayLike, name: str) -> np.ndarray:
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CustlensError(f"{name} must be numeric: {exc}") from exc
    if array.ndim != 1:
        raise CustlensError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise CustlensError(f"{name} is empty")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise CustlensError(f"{name} has {bad} missing or infinite value(s)")
    return array


def _pair(first: ArrayLike, second: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, ...]:
    # Series are used positionally; refuse silently misaligned ones rather than guess.
    if isinstance(first, pd.Series) and isinstance(second, pd.Series):
        if not first.index.equals(second.index):
            raise CustlensError(f"{names[0]} and {names[1]} have different indexes; align them")
    a, b = _as_array(first, names[0]), _as_array(second, names[1])
    if a.size != b.size:
        raise CustlensError(f"{names[0]} has {a.size} rows but {names[1]} has {b.size}")
    return a, b


def _binary(y: ArrayLike, p: ArrayLike, probabilities: bool = False) -> tuple[np.ndarray, ...]:
    y_arr, p_arr = _pair(y, p, ("y_true", "y_score"))
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise CustlensError("y_true must contain only 0/1 or booleans")
    if probabilities and ((p_arr < 0) | (p_arr > 1)).any():
        raise CustlensError("probabilities must lie in [0, 1]")
    return y_arr, p_arr


def _require_both_classes(y: np.ndarray) -> None:
    if y.sum() in (0, y.size):
        raise CustlensError("y_true has a single class; the metric needs positives and negatives")


def _value(y: ArrayLike, v: ArrayLike) -> tuple[np.ndarray, ...]:
    return _pair(y, v, ("y_actual", "y_predicted"))


def _require_positive_total(y: np.ndarray) -> None:
    if y.sum() <= 0:
        raise CustlensError("the actual values must have a positive total")


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise CustlensError(f"bins must be a positive integer, got {bins!r}")


# --- shared building blocks ------------------------------------------------------------


def _top_k(n: int) -> int:
    return -(-n // DECILES)  # ceil(n / 10) in integer arithmetic


class _RecentOrders:
    """The stable descending orders of the last few large arrays sorted, by their content.

    Judging one population sorts the same arrays again and again: a probability for its
    ROC-AUC and its lift, a value for its Gini and its capture, the outcome itself for every
    Gini's perfect order (the model's and the baseline's). On a million rows a sort costs
    about 100 ms and a content hash about 10. Thread-safe; the orders are read-only."""

    SMALLEST = 20_000  # below this, sorting again is cheaper than remembering
    KEEP = 8

    def __init__(self) -> None:
        self._orders: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, score: np.ndarray) -> np.ndarray:
        if score.size < self.SMALLEST:
            return np.argsort(-score, kind="stable")
        data = np.ascontiguousarray(score)
        key = (data.dtype.str, data.size, hashlib.blake2b(data, digest_size=16).digest())
        with self._lock:
            if key in self._orders:
                self._orders.move_to_end(key)
                return self._orders[key]
        order = np.argsort(-data, kind="stable")
        order.flags.writeable = False
        with self._lock:
            self._orders[key] = order
            while len(self._orders) > self.KEEP:
                self._orders.popitem(last=False)
        return order


_descending = _RecentOrders()


def _cumulative_by_score(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative row count and cumulative sum of y after each distinct score, best first.

    Both start at 0. Tied rows enter together, so curves through these points are linear
    across a tie.
    """
    order = _descending(score)
    ranked = score[order]
    last = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), score.size - 1]
    return np.r_[0.0, last + 1.0], np.r_[0.0, np.cumsum(y[order])[last]]


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def _equal_count_groups(order: np.ndarray, bins: int) -> list[np.ndarray]:
    return np.array_split(order, min(bins, order.size))


# --- classification --------------------------------------------------------------------


def roc_curve(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score threshold, from (0, 0) to (1, 1)."""
    y_arr, p_arr = _binary(y, p)
    _require_both_classes(y_arr)
    count, positives = _cumulative_by_score(y_arr, p_arr)
    return (count - positives) / (y_arr.size - y_arr.sum()), positives / y_arr.sum()


def roc_auc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the ROC curve; ties count one half (trapezoid across tied scores)."""
    return _area(*roc_curve(y, p))


def precision_recall_curve(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision at every distinct threshold, starting at recall 0.

    The first precision repeats the second, so ``drawstyle="steps-pre"`` draws exactly the
    step function whose area is the average precision.
    """
    y_arr, p_arr = _binary(y, p)
    _require_both_classes(y_arr)
    count, positives = _cumulative_by_score(y_arr, p_arr)
    precision = positives[1:] / count[1:]
    return positives / y_arr.sum(), np.r_[precision[0], precision]


def pr_auc(y: ArrayLike, p: ArrayLike) -> float:
    """Average precision: sum over thresholds of (recall gain) x (precision there)."""
    recall, precision = precision_recall_curve(y, p)
    return float(np.sum(np.diff(recall) * precision[1:]))


def brier(y: ArrayLike, p: ArrayLike) -> float:
    """Mean squared difference between probability and outcome."""
    y_arr, p_arr = _binary(y, p, probabilities=True)
    return float(np.mean((p_arr - y_arr) ** 2))


def log_loss(y: ArrayLike, p: ArrayLike) -> float:
    """Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]."""
    y_arr, p_arr = _binary(y, p, probabilities=True)
    clipped = np.clip(p_arr, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return float(-np.mean(y_arr * np.log(clipped) + (1 - y_arr) * np.log1p(-clipped)))


def reliability_table(y: ArrayLike, p: ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Observed rate against mean probability in equal-count bins of p (ascending).

    Columns: bin (1 = lowest probabilities), n, mean_predicted, observed_rate.
    """
    y_arr, p_arr = _binary(y, p, probabilities=True)
    _check_bins(bins)
    groups = _equal_count_groups(np.argsort(p_arr, kind="stable"), bins)
    return pd.DataFrame(
        {
            "bin": np.arange(1, len(groups) + 1),
            "n": [g.size for g in groups],
            "mean_predicted": [p_arr[g].mean() for g in groups],
            "observed_rate": [y_arr[g].mean() for g in groups],
        }
    )


def expected_calibration_error(y: ArrayLike, p: ArrayLike, bins: int = 10) -> float:
    """Sum over equal-count bins of (bin size / n) * |observed rate - mean probability|."""
    return ece_of_table(reliability_table(y, p, bins))


def ece_of_table(table: pd.DataFrame) -> float:
    """The expected calibration error of a `reliability_table`."""
    gaps = (table["observed_rate"] - table["mean_predicted"]).abs()
    return float(np.sum(table["n"] / table["n"].sum() * gaps))


def top_decile_lift(y: ArrayLike, p: ArrayLike) -> float:
    """Positive rate among the ceil(n / 10) highest scores over the overall positive rate."""
    y_arr, p_arr = _binary(y, p)
    if y_arr.sum() == 0:
        raise CustlensError("y_true has no positives; lift is undefined")
    top = _descending(p_arr)[: _top_k(y_arr.size)]
    return float(y_arr[top].mean() / y_arr.mean())


# --- value (regression) ----------------------------------------------------------------


def gain_curve(y: ArrayLike, v: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Share of rows targeted and share of total y captured, best predictions first.

    With binary y this is the cumulative-gain curve; with values it is the Lorenz curve.
    Points are taken after each distinct prediction, from (0, 0) to (1, 1).
    """
    y_arr, v_arr = _value(y, v)
    _require_positive_total(y_arr)
    count, captured = _cumulative_by_score(y_arr, v_arr)
    return count / y_arr.size, captured / captured[-1]


def _gini(y: np.ndarray, score: np.ndarray) -> float:
    return 2 * _area(*gain_curve(y, score)) - 1


def normalized_gini(y: ArrayLike, v: ArrayLike) -> float:
    """Gini of the actual values ordered by prediction, over the Gini of the perfect order.

    gini(a, s) = 2 * (area under the Lorenz curve of a, rows sorted by s descending) - 1,
    where the Lorenz curve runs through (share of rows, share of total a) after each
    distinct value of s, linear across ties. normalized = gini(y, v) / gini(y, y): 1 for a
    perfect ranking, about 0 for a random one, exactly 0 for a constant prediction, -1 for
    the reversed ranking. For binary y it equals 2 * roc_auc(y, v) - 1.
    """
    y_arr, v_arr = _value(y, v)
    _require_positive_total(y_arr)
    best = _gini(y_arr, y_arr)
    if best == 0:
        raise CustlensError("normalized Gini is undefined when every actual value is equal")
    return _gini(y_arr, v_arr) / best


def top_decile_capture(y: ArrayLike, v: ArrayLike) -> float:
    """Share of the total actual value earned by the ceil(n / 10) highest predictions."""
    y_arr, v_arr = _value(y, v)
    _require_positive_total(y_arr)
    top = _descending(v_arr)[: _top_k(y_arr.size)]
    return float(y_arr[top].sum() / y_arr.sum())


def spearman(y: ArrayLike, v: ArrayLike) -> float:
    """Spearman rank correlation; 0.0 when either side is constant (instead of nan)."""
    y_arr, v_arr = _value(y, v)
    if np.ptp(y_arr) == 0 or np.ptp(v_arr) == 0:
        return 0.0
    return float(np.corrcoef(_average_ranks(y_arr), _average_ranks(v_arr))[0, 1])


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks from the largest value down, tied values sharing their mean rank (Spearman's
    correlation is the same counted from either end)."""
    order = _descending(x)
    ranked = x[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    sizes = np.diff(np.r_[starts, x.size])
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(starts + (sizes + 1) / 2, sizes)
    return ranks


def mae(y: ArrayLike, v: ArrayLike) -> float:
    """Mean absolute error."""
    y_arr, v_arr = _value(y, v)
    return float(np.mean(np.abs(y_arr - v_arr)))


def decile_table(y: ArrayLike, v: ArrayLike) -> pd.DataFrame:
    """Actual against predicted value in ten equal-count groups by predicted rank.

    Columns: decile (1 = highest predictions), n, mean_predicted, mean_actual, sum_actual,
    share_of_actual (of the total actual value; nan if that total is 0).
    """
    y_arr, v_arr = _value(y, v)
    groups = _equal_count_groups(_descending(v_arr), DECILES)
    sums = np.array([y_arr[g].sum() for g in groups])
    total = y_arr.sum()
    return pd.DataFrame(
        {
            "decile": np.arange(1, len(groups) + 1),
            "n": [g.size for g in groups],
            "mean_predicted": [v_arr[g].mean() for g in groups],
            "mean_actual": [y_arr[g].mean() for g in groups],
            "sum_actual": sums,
            "share_of_actual": sums / total if total != 0 else np.full(len(groups), np.nan),
        }
    )


def decile_mape(y: ArrayLike, v: ArrayLike) -> float:
    """Mean over deciles of |mean_predicted - mean_actual| / |mean_actual|.

    Deciles whose mean actual value is 0 are skipped (the ratio is undefined there, and
    they hold no value to get wrong in relative terms).
    """
    table = decile_table(y, v)
    table = table[table["mean_actual"] != 0]
    if table.empty:
        raise CustlensError("decile MAPE is undefined: every decile has zero actual value")
    errors = (table["mean_predicted"] - table["mean_actual"]).abs() / table["mean_actual"].abs()
    return float(errors.mean())


# --- the metric definitions the tasks judge by --------------------------------------------


def value_bias(y: ArrayLike, v: ArrayLike) -> float:
    """The predicted total over the realised total, minus one: -0.2 is a total 20% short."""
    y_arr, v_arr = _value(y, v)
    _require_positive_total(y_arr)
    return float(v_arr.sum() / y_arr.sum() - 1)


def interval_coverage(y: ArrayLike, bounds: ArrayLike) -> float:
    """Share of realised values within their interval; `bounds` holds (low, high) per row."""
    y_arr = _as_array(y, "y_actual")
    b = np.asarray(bounds, dtype=float)
    if b.shape != (y_arr.size, 2):
        raise CustlensError(f"bounds must be one (low, high) pair per row, not shape {b.shape}")
    return float(np.mean((b[:, 0] <= y_arr) & (y_arr <= b[:, 1])))


def expected_roc_auc(p: ArrayLike) -> float:
    """The ROC-AUC the probabilities promise if they are calibrated, with no outcome known:
    each pair's chance of being a (positive, negative) pair ranked right, tied scores one half.
    Valid only while the probabilities are calibrated."""
    p_arr = _as_array(p, "y_score")
    order = np.argsort(p_arr, kind="stable")
    ranked = p_arr[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    pos = np.add.reduceat(ranked, starts)
    neg = np.add.reduceat(1 - ranked, starts)
    below = np.cumsum(neg) - neg
    pairs = pos.sum() * neg.sum() - float(np.sum(ranked * (1 - ranked)))
    if pairs <= 0:
        raise CustlensError("the probabilities promise no positive and negative pair")
    own = np.add.reduceat(ranked * (1 - ranked), starts)  # a row is never paired with itself
    return float(((pos * (below + 0.5 * neg)).sum() - 0.5 * own.sum()) / pairs)


# --- the metric definitions the tasks judge by --------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One named metric: its function, its form under bootstrap weights
    (`custlens.models.evaluation.weighted`), how it reads, which way is better, and what it
    judges: probabilities only (calibration), so that ranking-only scores skip it; or an
    interval (its scores are (low, high) pairs)."""

    name: str
    fn: Callable[[ArrayLike, ArrayLike], float]
    label: str
    lower_is_better: bool = False
    probability: bool = False
    weighted: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    target: float | None = None  # better is closer to it (a bias: 0)
    interval: bool = False
    tolerance: float = 0.0  # with a target: this close to it is as good as it gets

    def __call__(self, y: ArrayLike, score: ArrayLike) -> float:
        return float(self.fn(y, score))

    def better(self, a: float, b: float) -> bool:
        """Whether `a` is at least as good as `b`."""
        if self.target is not None:
            return abs(a - self.target) <= abs(b - self.target)
        return a <= b if self.lower_is_better else a >= b


ROC_AUC = Metric("roc_auc", roc_auc, "ROC-AUC", weighted=weighted.roc_auc)
PR_AUC = Metric("pr_auc", pr_auc, "PR-AUC")
ECE = Metric(
    "ece", expected_calibration_error, "calibration error", True, True,
    weighted.expected_calibration_error,
)  # fmt: skip
BRIER = Metric("brier", brier, "Brier score", True, True, weighted.brier)
LOG_LOSS = Metric("log_loss", log_loss, "log loss", True, True)
TOP_DECILE_LIFT = Metric(
    "top_decile_lift", top_decile_lift, "top-10% lift", weighted=weighted.top_decile_lift
)
GINI = Metric("gini", normalized_gini, "normalized Gini", weighted=weighted.normalized_gini)
TOP_DECILE_CAPTURE = Metric(
    "top_decile_capture", top_decile_capture, "top-10% value share",
    weighted=weighted.top_decile_capture,
)  # fmt: skip
SPEARMAN = Metric("spearman", spearman, "Spearman", weighted=weighted.spearman)
MAE = Metric("mae", mae, "mean absolute error", True)
DECILE_MAPE = Metric("decile_mape", decile_mape, "decile MAPE", True)
VALUE_BIAS = Metric(
    "value_bias", value_bias, "total predicted / realised - 1", weighted=weighted.value_bias,
    target=0.0,
)  # fmt: skip
INTERVAL_COVERAGE = Metric(
    "interval_coverage", interval_coverage, "share within the interval",
    weighted=weighted.interval_coverage, interval=True,
)  # fmt: skip
