"""Levels that hold in every season: how many will order, and how much they will bring.

The models rank well, but their level drifts with the season: each day of the year has been
seen once at most, and a young customer base is mistaken for a season. The level is set
instead, per scoring day, from what is known on that day, over the whole population of
buyers (so that the ranking is untouched, and the result does not depend on how the customers
are split into blocks):

- a seasonal index per window w: how busy the same window a year earlier was against the
  trailing year's average window (daily orders of the log, days up to the scoring day only);
  1 when the history does not reach a year back, or the base is closed (under 5% of the buyers
  first seen in the last 180 days: a single cohort's volume moves with its age, not with the
  season);
- each probability's target: BG/NBD's chance of an order within w (fitted on that day) with
  its purchase clock run `index` times as fast while alive; the model's log-odds are shifted
  by the one amount that brings their mean over the buyers to it;
- the value total: index x BG/NBD's expected orders over the horizon x the net value per order
  of the labelled training windows; the predicted values are scaled to it.

Chosen by the backtest against the alternatives tried (docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ibis.expr.types import Table

YEAR_DAYS = 365
OPEN_BASE_SHARE = 0.05  # buyers first seen in the last NEW_DAYS days, for an open base
NEW_DAYS = 180
SAMPLE = 50_000  # buyers the levels are computed on (a fixed hash sample beyond that)


def daily_orders(lines: Table) -> pd.Series:
    """Orders with a positive line per calendar day (all customers), by the engine."""
    bought = lines.filter(lines.amount > 0)
    day = bought.timestamp.date().name("day")
    order = bought.customer_id.concat(
        "@", bought.order_id.fill_null(bought.timestamp.cast("string"))
    )
    counts = bought.group_by(day).aggregate(orders=order.nunique()).to_pandas()
    return pd.Series(
        counts["orders"].to_numpy(float), index=pd.to_datetime(counts["day"])
    ).sort_index()


def _volume(daily: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
    return float(daily.loc[(daily.index > start) & (daily.index <= end)].sum())


def seasonal_index(daily: pd.Series, day: pd.Timestamp, window_days: int) -> float | None:
    """Orders in the same window a year earlier over the trailing year's average window of
    that length; None when the history does not reach a year back (days up to `day` only)."""
    daily = daily.loc[daily.index <= day]
    start = day - pd.Timedelta(days=YEAR_DAYS)
    if daily.empty or daily.index.min() > start + pd.Timedelta(days=1):
        return None
    year = _volume(daily, start, day)
    same = _volume(daily, start, start + pd.Timedelta(days=window_days))
    return same / (year * window_days / YEAR_DAYS) if year > 0 else None


def open_base(tenure_days: np.ndarray) -> bool:
    """Whether the base still acquires: enough buyers first seen in the last NEW_DAYS days."""
    t = np.asarray(tenure_days, float)
    t = t[np.isfinite(t)]
    return bool(t.size) and float(np.mean(t < NEW_DAYS)) >= OPEN_BASE_SHARE


def order_chance_within(features: pd.DataFrame, days: int, windows: tuple[int, int]) -> np.ndarray:
    """BG/NBD's chance of an order within `days` given alive, per customer: its own column
    where the window is the repurchase or the horizon window (`windows`), else from the
    horizon's by a constant purchase clock, 1 - (1 - q_H)^(days / H)."""
    repurchase, horizon = windows
    alive = np.clip(features["btyd_p_alive"].to_numpy(float), 1e-9, 1.0)
    column = "btyd_p_repurchase" if days == repurchase else "btyd_p_order"
    q = np.clip(features[column].to_numpy(float) / alive, 0.0, 1.0 - 1e-12)
    return q if days in windows else 1.0 - (1.0 - q) ** (days / horizon)


def order_rate(
    features: pd.DataFrame, days: int, windows: tuple[int, int], index: float | None
) -> float | None:
    """The buyers' expected share ordering within `days`: BG/NBD's chance with its purchase
    clock run `index` times as fast while alive (None where BG/NBD could not be fitted)."""
    if "btyd_p_alive" not in features:
        return None
    alive = features["btyd_p_alive"].to_numpy(float)
    q = order_chance_within(features, days, windows)
    ok = np.isfinite(alive) & np.isfinite(q)
    if not ok.any():
        return None
    clock = 1.0 if index is None else index
    return float(np.mean(alive[ok] * (1.0 - (1.0 - q[ok]) ** clock)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities, finite."""
    q = np.clip(np.asarray(p, float), 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def matching_shift(margin: np.ndarray, target: float) -> float:
    """The log-odds shift whose probabilities average `target` over these margins."""
    m = np.asarray(margin, float)
    goal = float(np.clip(target, 1e-6, 1 - 1e-6))
    low, high = -20.0, 20.0
    for _ in range(80):
        mid = (low + high) / 2
        if _sigmoid(m + mid).mean() < goal:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def shifted(probability: np.ndarray, shift: float) -> np.ndarray:
    """Probabilities moved by a log-odds shift."""
    return _sigmoid(logit(probability) + shift) if shift else np.asarray(probability, float)


@dataclass(frozen=True)
class Constants:
    """What the levels read of the labelled training windows: the net value per order, and
    the share of orderers whose net value in the window is positive."""

    value_per_order: float = float("nan")
    positive_share: float = 1.0

    @classmethod
    def of(cls, rows: pd.DataFrame) -> Constants:
        """From the training frame's labelled rows."""
        orders = float(rows["future_orders"].sum())
        ordered = rows.loc[~rows["churned"].astype(bool)]
        positive = float((ordered["future_value"] > 0).mean()) if len(ordered) else 1.0
        value = float(rows["future_value"].sum()) / orders if orders else float("nan")
        return cls(value, positive)


@dataclass(frozen=True)
class Levels:
    """The levels of one scoring day: the seasonal index used per window, the log-odds shift
    of each probability (by name: a task, or a timing point `order_<t>d`), and the factor of
    the predicted values."""

    day: str
    index: dict[int, float] = field(default_factory=dict)
    shifts: dict[str, float] = field(default_factory=dict)
    value_factor: float = 1.0

    def shift(self, name: str) -> float:
        """The log-odds shift of one probability (0 when it has none)."""
        return self.shifts.get(name, 0.0)


def index_of(daily: pd.Series | None, day: pd.Timestamp, days: int, is_open: bool) -> float:
    """The seasonal index of a window, 1 when there is no year-earlier window or the base
    is closed."""
    if daily is None or not is_open:
        return 1.0
    value = seasonal_index(daily, day, days)
    return 1.0 if value is None or not np.isfinite(value) else float(value)


def levels_of(
    day: pd.Timestamp,
    buyers: pd.DataFrame,
    probabilities: dict[str, tuple[int, np.ndarray]],
    values: np.ndarray | None,
    daily: pd.Series | None,
    constants: Constants,
    windows: tuple[int, int],
) -> Levels:
    """The levels on `day` from the buyers' feature rows, the models' own probabilities on
    them (name -> (window days, chance of an order within it)) and predicted values;
    `windows`: the repurchase and horizon days."""
    horizon_days = windows[1]
    is_open = open_base(buyers["tenure_days"].to_numpy(float)) if len(buyers) else False
    spans = sorted({days for days, _ in probabilities.values()} | {horizon_days})
    index = {w: index_of(daily, day, w, is_open) for w in spans}
    shifts = {}
    for name, (days, chance) in probabilities.items():
        target = order_rate(buyers, days, windows, index[days])
        if target is not None and len(chance):
            shifts[name] = matching_shift(logit(chance), target)
    factor = 1.0
    if values is not None and len(values) and np.isfinite(constants.value_per_order):
        expected = buyers["btyd_expected_orders"].to_numpy(float) if len(buyers) else []
        ok = np.isfinite(expected)
        if np.any(ok) and values.sum() > 0:
            total = expected[ok].mean() * index[horizon_days] * constants.value_per_order
            factor = float(total / values.mean())
    return Levels(str(day.date()), index, shifts, factor)


def sample_of(features: pd.DataFrame) -> pd.DataFrame:
    """The buyers the levels are computed on: all of them, or the fixed hash sample of about
    SAMPLE that scoring in blocks takes (`custlens.features.blocks`)."""
    from custlens.features.blocks import FrameBlocks

    return FrameBlocks(features).buyer_sample(SAMPLE)


__all__ = ["Constants", "Levels", "daily_orders", "levels_of", "sample_of", "seasonal_index"]
