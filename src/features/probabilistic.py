"""BG/NBD and Gamma-Gamma outputs as features, fitted on the customers known at `as_of`.

The one step that runs in Python rather than as Ibis expressions: the models are fitted by
maximum likelihood on the per-customer summary (repeat purchase days, recency, age, spend),
which itself uses only data on or before `as_of`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.btyd import BetaGeoModel, GammaGammaModel

BTYD_COLUMNS = (
    "btyd_p_alive",
    "btyd_expected_orders",
    "btyd_p_order",
    "btyd_p_repurchase",
    "btyd_expected_spend",
    "btyd_expected_value",
)
MIN_CUSTOMERS = 30  # fewer buyers than this cannot support the four-parameter fit
FIT_SAMPLE = 100_000  # customers the likelihood is maximised on; predictions cover everyone


def add_btyd_features(
    features: pd.DataFrame, horizon_days: int, repurchase_days: int
) -> pd.DataFrame:
    """The feature table with the BTYD columns added (NaN where a model cannot be fitted)."""
    out = features.copy()
    for column, values in btyd_columns(features, horizon_days, repurchase_days).items():
        out[column] = values
    return out


def btyd_columns(
    features: pd.DataFrame, horizon_days: int, repurchase_days: int
) -> dict[str, np.ndarray]:
    """The BTYD columns for the rows of a feature table, in BTYD_COLUMNS order (NaN where a
    model cannot be fitted). The table itself is not copied: a million rows cost a second."""
    out = {column: np.full(len(features), np.nan) for column in BTYD_COLUMNS}
    buyers = features["has_purchase"].to_numpy(bool)
    if buyers.sum() < MIN_CUSTOMERS:
        return out
    x = features["btyd_frequency"].to_numpy(float)[buyers]
    t_x = features["btyd_recency_days"].to_numpy(float)[buyers]
    age = features["tenure_days"].to_numpy(float)[buyers]
    monetary = features["btyd_monetary"].to_numpy(float)[buyers]
    fit = _fit_rows(len(x))
    try:
        bg = BetaGeoModel().fit(x[fit], t_x[fit], age[fit])
    except CustlensError:
        return out
    orders = bg.expected_purchases(horizon_days, x, t_x, age)
    out["btyd_p_alive"][buyers] = bg.probability_alive(x, t_x, age)
    out["btyd_expected_orders"][buyers] = orders
    out["btyd_p_order"][buyers] = bg.probability_any_purchase(horizon_days, x, t_x, age)
    out["btyd_p_repurchase"][buyers] = bg.probability_any_purchase(repurchase_days, x, t_x, age)
    order_mean = features["monetary_mean"].to_numpy(float)[buyers]
    spend = _expected_spend(x, monetary, order_mean)
    out["btyd_expected_spend"][buyers] = spend
    out["btyd_expected_value"][buyers] = orders * spend
    return out


def _fit_rows(n: int) -> np.ndarray:
    """A fixed random subset of at most FIT_SAMPLE rows: four parameters need no more, and
    the fit is the slow part on millions of customers."""
    if n <= FIT_SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, FIT_SAMPLE, replace=False))


def _expected_spend(x: np.ndarray, monetary: np.ndarray, order_mean: np.ndarray) -> np.ndarray:
    """Gamma-Gamma spend; customers without a repeat purchase fall back to the population mean."""
    usable = (x > 0) & (monetary > 0)
    fit = np.zeros_like(usable)
    fit[_fit_rows(len(x))] = True
    try:
        gg = GammaGammaModel().fit(x[usable & fit], monetary[usable & fit])
    except CustlensError:
        return np.where(np.isfinite(order_mean), order_mean, np.nanmean(order_mean))
    return gg.expected_spend(np.where(usable, x, 0), np.where(usable, monetary, 0))
