"""What a model promises and what its world looked like when it was trained: the reference the
monitor compares every later score with.

Stored with the scorer at training time and copied into every ledger entry it scores:
- each feature's and each score's distribution over the last day's buyers, as bins (deciles
  of a number, the leading categories of a text) and, for a number, its mean and standard
  deviation; and how far that distribution drifted in the training history over a few lags
  (the PSI and the mean's shift between training cutoffs that far apart: a feature that grows
  with time by construction drifts there too, so its alarm thresholds start above that natural
  drift);
- the segments' shares of the customers;
- the out-of-time backtest's figures with their bootstrap intervals: the band the model
  promised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

LAGS = (28, 56, 91, 182, 364)  # days between the training cutoffs compared for natural drift
LATER_OFFSETS = (0, 91, 182, 273)  # natural drift: later cutoffs this many days before the last
MAX_ROWS = 50_000  # rows a distribution is drawn from
CATEGORIES = 10  # leading categories of a text column kept apart; the rest pooled
SMOOTHING = 1e-4  # share given to empty bins, so that the PSI stays finite
MISSING = "(missing)"
OTHER = "(other)"


@dataclass
class ColumnReference:
    """One column's bins and their shares on the reference population, and its natural drift
    (PSI by lag in days). Numbers: `edges` are the inner cut points (bin i holds values up to
    edges[i]); text: `categories` kept apart, then one bin for the others. The last bin holds
    missing values. A number also keeps its `mean` and standard deviation `sd`, and the
    natural shift of its mean (in reference standard deviations) by lag."""

    edges: list[float] | None = None
    categories: list[str] | None = None
    shares: list[float] = field(default_factory=list)
    natural: dict[int, float] = field(default_factory=dict)
    mean: float | None = None
    sd: float | None = None
    natural_shift: dict[int, float] = field(default_factory=dict)

    def counts(self, values: pd.Series) -> np.ndarray:
        """How many of `values` fall in each bin."""
        if self.categories is not None:
            text = values.astype("string")
            known = text.isna().to_numpy()
            index = pd.Categorical(text.fillna(""), categories=self.categories).codes.copy()
            index[index < 0] = len(self.categories)
            bins = len(self.categories) + 2
        else:
            x = as_numbers(values)
            known = np.isnan(x)
            index = np.searchsorted(np.asarray(self.edges, float), np.where(known, 0, x))
            bins = len(self.edges) + 2
        index = np.where(known, bins - 1, index)
        return np.bincount(index, minlength=bins)[:bins]

    def psi(self, values: pd.Series) -> float:
        """The population stability index of `values` against the reference shares."""
        return psi(np.asarray(self.shares), self.counts(values))

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A scorer pickled before a field existed loads with that field's default.
        self.__dict__.update({"mean": None, "sd": None, "natural_shift": {}} | state)

    def shift(self, mean: float) -> float:
        """How far `mean` lies from the reference mean, in reference standard deviations (the
        standardized mean difference; NaN for a text or a constant column)."""
        if self.mean is None or not self.sd or not np.isfinite(mean):
            return float("nan")
        return (mean - self.mean) / self.sd

    def natural_drift(self, lag_days: int) -> float:
        """The largest PSI seen in training over the stored lags up to the smallest one at
        least `lag_days` (all of them beyond the longest; 0 without any)."""
        return _up_to_lag(self.natural, lag_days)

    def natural_mean_shift(self, lag_days: int) -> float:
        """The mean's largest shift seen in training over those lags, as `natural_drift`."""
        return _up_to_lag(self.natural_shift, lag_days)


def _up_to_lag(by_lag: dict, lag_days: int) -> float:
    """The largest value over the stored lags up to the smallest one at least `lag_days`.
    Not that lag's alone: a seasonal feature (the share of orders in a quarter) is back in
    phase after a year and furthest out after half of one, so a 7-month lag can drift as far
    as the 182-day lag did. Keys are days, as numbers or, read back from JSON, as text."""
    if not by_lag:
        return 0.0
    values = {int(k): float(v) for k, v in by_lag.items()}
    chosen = next((k for k in sorted(values) if k >= lag_days), max(values))
    return max(v for k, v in values.items() if k <= chosen)


def is_text(values: pd.Series) -> bool:
    """Whether a column is binned by category rather than by value."""
    return pd.api.types.is_string_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)


def as_numbers(values: pd.Series) -> np.ndarray:
    """A column as floats, NaN where a value is missing or not a number."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def psi(expected: np.ndarray, counts: np.ndarray) -> float:
    """sum((actual - expected) x ln(actual / expected)) over the bins, shares smoothed."""
    actual = counts / max(counts.sum(), 1)
    e = np.clip(expected, SMOOTHING, None)
    a = np.clip(actual, SMOOTHING, None)
    return float(np.sum((a - e) * np.log(a / e)))


def describe(values: pd.Series) -> ColumnReference:
    """The bins of a column drawn from its values (deciles of a number, leading categories of
    a text), with the values' shares."""
    if is_text(values):
        top = values.dropna().astype(str).value_counts().index[:CATEGORIES]
        column = ColumnReference(categories=[str(c) for c in top])
    else:
        x = as_numbers(values)
        known = x[np.isfinite(x)]
        column = ColumnReference(edges=[float(e) for e in _edges(known)])
        if known.size > 1:
            column.mean, column.sd = float(known.mean()), float(known.std(ddof=1))
    counts = column.counts(values)
    column.shares = (counts / max(counts.sum(), 1)).tolist()
    return column


MASS_SHARE = 0.05  # a value held by this share of the rows or more is a point mass
MASS_TOLERANCE = 0.02  # relative width of a point mass's own bin, each side


def _edges(x: np.ndarray) -> np.ndarray:
    """Decile cut points halfway between the observed values around each decile, and a bin of
    its own, +-2%, around each point mass (every customer with one purchase gets the same
    BG/NBD spend, refitted at each as_of): a mass drifting by a hair stays in its bin."""
    if not x.size:
        return np.array([])
    distinct, counts = np.unique(x, return_counts=True)
    deciles = np.unique(np.quantile(x, np.linspace(0.1, 0.9, 9)))
    above = np.searchsorted(distinct, deciles, side="right")
    keep = above < distinct.size
    low = distinct[np.searchsorted(distinct, deciles[keep], side="right") - 1]
    edges = (low + distinct[above[keep]]) / 2
    for mass in distinct[counts >= MASS_SHARE * x.size]:
        tol = max(MASS_TOLERANCE * abs(mass), 1e-9)
        edges = edges[np.abs(edges - mass) > tol]
        edges = np.r_[edges, mass - tol, mass + tol]
    return np.unique(edges)


@dataclass
class Reference:
    """What the monitor compares a model's later scores with (see the module docstring)."""

    as_of: str  # the day the distributions describe: the training data's last day
    customers: int  # customers known that day
    columns: dict[str, ColumnReference] = field(default_factory=dict)
    segments: dict[str, float] = field(default_factory=dict)
    promised: list[dict[str, Any]] = field(
        default_factory=list
    )  # task, metric, value, lower, upper

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as a ledger entry stores them (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        """The reference a ledger entry stored."""
        columns = {n: ColumnReference(**c) for n, c in data.get("columns", {}).items()}
        return cls(
            data["as_of"],
            data["customers"],
            columns,
            data.get("segments", {}),
            data.get("promised", []),
        )

    def promise(self, task: str, metric: str) -> dict[str, Any] | None:
        """The backtest's figure and interval for one metric of one task, if promised."""
        return next(
            (p for p in self.promised if p["task"] == task and p["metric"] == metric), None
        )


def buyers(rows: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` of the rows with a purchase, drawn at random (seeded), in their order."""
    bought = rows.loc[rows["has_purchase"].astype(bool)]
    if len(bought) <= limit:
        return bought
    keep = np.sort(np.random.default_rng(seed).choice(len(bought), limit, replace=False))
    return bought.iloc[keep]


def _natural(
    described: dict[str, ColumnReference], pairs: list[tuple[int, pd.DataFrame, pd.DataFrame]]
) -> None:
    """Each column's largest PSI and largest mean shift over each lag, between the later and
    the earlier of pairs of training cutoffs (the later's own bins, mean and deviation)."""
    for lag, later, earlier in pairs:
        for name, column in described.items():
            if name not in later or name not in earlier:
                continue
            then = describe(later[name])
            column.natural[lag] = max(column.natural.get(lag, 0.0), then.psi(earlier[name]))
            moved = abs(then.shift(mean_of(earlier[name])))
            if np.isfinite(moved):
                column.natural_shift[lag] = max(column.natural_shift.get(lag, 0.0), moved)


def mean_of(values: pd.Series) -> float:
    """The mean of a column's finite values (NaN for a text column or none)."""
    if is_text(values):
        return float("nan")
    x = as_numbers(values)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def cutoff_pairs(as_of: pd.Series) -> list[tuple[int, pd.Timestamp, pd.Timestamp]]:
    """(lag, later, earlier) cutoffs of a training frame about each of LAGS apart, the later
    the last cutoff and those about a quarter, a half and three quarters of a year before it:
    a seasonal feature drifts differently from each season to the next, and production will
    meet every one of them."""
    days = sorted(pd.Timestamp(d) for d in pd.to_datetime(as_of).unique())

    def near(target: pd.Timestamp) -> pd.Timestamp | None:
        found = min(days, key=lambda d: abs(d - target))
        return found if abs(found - target) <= pd.Timedelta(days=10) else None

    out = []
    for lag in LAGS:
        for offset in LATER_OFFSETS:
            later = near(days[-1] - pd.Timedelta(days=offset))
            earlier = near(later - pd.Timedelta(days=lag)) if later is not None else None
            if earlier is not None and earlier < later:
                out.append((lag, later, earlier))
    return sorted(set(out))


def build_reference(
    score: Any,
    columns: list[str],
    today: pd.DataFrame,
    frame: pd.DataFrame,
    segments: pd.Series,
    promised: list[dict[str, Any]],
    seed: int = 0,
) -> Reference:
    """The reference of a model: `columns` (its features) and the score columns `score`
    (feature rows -> a table of scores) gives, described over the last day's buyers
    (`today`), their natural drift over the training `frame`'s cutoffs, the segment shares
    `segments` and the `promised` figures."""
    population = buyers(today, MAX_ROWS, seed)
    scored = score(population)
    described = {c: describe(population[c]) for c in columns if c in population}
    described |= {c: describe(scored[c]) for c in scored.columns}
    samples: dict[pd.Timestamp, pd.DataFrame] = {}

    def rows_at(day: pd.Timestamp) -> pd.DataFrame:
        if day not in samples:
            rows = buyers(frame.loc[frame["as_of"] == day], MAX_ROWS // 2, seed)
            samples[day] = pd.concat([rows.reset_index(drop=True), score(rows)], axis=1)
        return samples[day]

    pairs = [(lag, rows_at(a), rows_at(b)) for lag, a, b in cutoff_pairs(frame["as_of"])]
    _natural(described, pairs)
    shares = segments.astype(str).value_counts(normalize=True)
    return Reference(
        str(pd.Timestamp(today["as_of"].iloc[0]).date()),
        len(today),
        described,
        {str(k): float(v) for k, v in shares.items()},
        promised,
    )
