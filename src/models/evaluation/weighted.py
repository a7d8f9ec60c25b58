"""The metrics under row weights, many weightings at once: the Poisson bootstrap of a metric
in one vectorised pass instead of one call per resample.

Each function takes the outcomes `y` (n,), the scores (n,) and weights `w` of shape (B, n) (one
row per resample; Poisson(1) draws for the bootstrap) and returns the metric under each
weighting, shape (B,). With every weight 1 each returns exactly what its unweighted function
in `custlens.models.evaluation.metrics` returns (tested): the bins of the calibration error,
the top decile of lift and capture and the ranks of Spearman's correlation are those of the
unweighted sample, as the bootstrap of a fixed design.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DECILES = 10


def _groups(score: np.ndarray, descending: bool) -> tuple[np.ndarray, np.ndarray]:
    """The stable sort order of `score` and the start of each run of tied scores in it."""
    order = np.argsort(-score if descending else score, kind="stable")
    ranked = score[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    return order, starts


def _by_group(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of (B, n) values over each run of tied scores, in sorted order: (B, groups)."""
    return np.add.reduceat(values[:, order], starts, axis=1)


def _top(score: np.ndarray) -> np.ndarray:
    """The ceil(n / 10) highest scores' positions (stable: earlier rows win ties)."""
    return np.argsort(-score, kind="stable")[: -(-score.size // DECILES)]


def roc_auc(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC-AUC, tied scores counting one half."""
    order, starts = _groups(p, descending=False)
    pos = _by_group(w * y, order, starts)
    neg = _by_group(w * (1 - y), order, starts)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def brier(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mean squared difference between probability and outcome."""
    return (w * (p - y) ** 2).sum(axis=1) / w.sum(axis=1)


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, bins: int = 10
) -> np.ndarray:
    """Sum over the equal-count bins of the probabilities of (bin weight / total) x
    |observed rate - mean probability|."""
    order = np.argsort(p, kind="stable")
    starts = np.array([g[0] for g in np.array_split(np.arange(p.size), min(bins, p.size))])
    gap = np.add.reduceat((w * (y - p))[:, order], starts, axis=1)
    return np.abs(gap).sum(axis=1) / w.sum(axis=1)


def top_decile_lift(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Positive rate among the top decile of scores over the overall positive rate."""
    top = _top(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = (w[:, top] * y[top]).sum(axis=1) / w[:, top].sum(axis=1)
        return inside / ((w * y).sum(axis=1) / w.sum(axis=1))


def _gini(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> np.ndarray:
    order, starts = _groups(score, descending=True)
    rows = np.cumsum(_by_group(w, order, starts), axis=1)
    value = np.cumsum(_by_group(w * y, order, starts), axis=1)
    x = np.c_[np.zeros(len(w)), rows] / rows[:, -1:]
    v = np.c_[np.zeros(len(w)), value] / value[:, -1:]
    return 2 * (np.diff(x, axis=1) * (v[:, 1:] + v[:, :-1]) / 2).sum(axis=1) - 1


def normalized_gini(y: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Gini of the values ordered by prediction over that of the perfect order."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _gini(y, v, w) / _gini(y, y, w)


def top_decile_capture(y: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Share of the total value earned by the top decile of predictions."""
    top = _top(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w[:, top] * y[top]).sum(axis=1) / (w * y).sum(axis=1)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), as Spearman's rho takes them."""
    order, starts = _groups(x, descending=False)
    ends = np.r_[starts[1:], x.size]
    mean_rank = (starts + ends + 1) / 2.0
    out = np.empty(x.size)
    out[order] = np.repeat(mean_rank, ends - starts)
    return out


def spearman(y: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation of the two samples' ranks; 0 where either is constant."""
    a, b = _ranks(y), _ranks(v)
    total = w.sum(axis=1, keepdims=True)
    ma, mb = (w * a).sum(axis=1, keepdims=True) / total, (w * b).sum(axis=1, keepdims=True) / total
    cov = (w * (a - ma) * (b - mb)).sum(axis=1)
    var = (w * (a - ma) ** 2).sum(axis=1) * (w * (b - mb) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / np.sqrt(var), 0.0)


def value_bias(y: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Predicted total over realised total, minus one."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w * v).sum(axis=1) / (w * y).sum(axis=1) - 1


def interval_coverage(y: np.ndarray, bounds: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Share of realised values within their interval (bounds: n x 2, low and high)."""
    inside = (bounds[:, 0] <= y) & (y <= bounds[:, 1])
    return (w * inside).sum(axis=1) / w.sum(axis=1)


@lru_cache(maxsize=8)
def poisson_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """Poisson(1) weights of `resamples` bootstrap resamples of n rows: (resamples, n), read
    only. Kept for the next call: every metric of a sample of n rows draws the same weights,
    and drawing them costs more than most metrics."""
    weights = np.random.default_rng(seed).poisson(1.0, size=(resamples, n)).astype(np.float64)
    weights.flags.writeable = False
    return weights
