"""BG/NBD and Gamma-Gamma outputs as features, fitted on the customers known at `as_of`.

The one step that runs in Python rather than as Ibis expressions: the models are fitted by
maximum likelihood on the per-customer summary (repeat purchase days, recency, age, spend),
which itself uses only data on or before `as_of`. The fit reads only a fixed sample of the
buyers, chosen by a hash of their id (`fit_share`): a feature table built in blocks of
customers, or on Spark's executors, gets the same fit and the same columns as one built whole,
and no engine has to order or number its rows to draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.estimators.btyd import BetaGeoModel, GammaGammaModel
from custlens.sampling import stable_mask

BTYD_COLUMNS = (
    "btyd_p_alive",
    "btyd_expected_orders",
    "btyd_p_order",
    "btyd_p_repurchase",
    "btyd_expected_spend",
    "btyd_expected_value",
)
# What a fit and the predictions read of each buyer's row.
SUMMARY_COLUMNS = (
    "btyd_frequency",
    "btyd_recency_days",
    "tenure_days",
    "btyd_monetary",
    "monetary_mean",
)
MIN_CUSTOMERS = 30  # fewer buyers than this cannot support the four-parameter fit
FIT_SAMPLE = 100_000  # customers the likelihood is maximised on; predictions cover everyone


@dataclass(frozen=True)
class BtydFit:
    """The models fitted at one `as_of`: None where there were too few buyers or no fit."""

    beta_geo: BetaGeoModel | None = None
    gamma_gamma: GammaGammaModel | None = None
    mean_order_value: float = float("nan")  # spend of buyers Gamma-Gamma cannot describe

    def columns(
        self, features: pd.DataFrame, horizon_days: int, repurchase_days: int
    ) -> dict[str, np.ndarray]:
        """The BTYD columns for the rows of a feature table, in BTYD_COLUMNS order (NaN for
        customers without a purchase, and everywhere when BG/NBD could not be fitted)."""
        out = {column: np.full(len(features), np.nan) for column in BTYD_COLUMNS}
        buyers = features["has_purchase"].to_numpy(bool)
        if self.beta_geo is None or not buyers.any():
            return out
        x, t_x, age, monetary, order_mean = _summary(features[buyers])
        bg = self.beta_geo
        orders = bg.expected_purchases(horizon_days, x, t_x, age)
        out["btyd_p_alive"][buyers] = bg.probability_alive(x, t_x, age)
        out["btyd_expected_orders"][buyers] = orders
        out["btyd_p_order"][buyers] = bg.probability_any_purchase(horizon_days, x, t_x, age)
        out["btyd_p_repurchase"][buyers] = bg.probability_any_purchase(
            repurchase_days, x, t_x, age
        )
        spend = self._expected_spend(x, monetary, order_mean)
        out["btyd_expected_spend"][buyers] = spend
        out["btyd_expected_value"][buyers] = orders * spend
        return out

    def _expected_spend(
        self, x: np.ndarray, monetary: np.ndarray, order_mean: np.ndarray
    ) -> np.ndarray:
        """Gamma-Gamma spend; customers without a repeat purchase get the population mean."""
        if self.gamma_gamma is None:
            return np.where(np.isfinite(order_mean), order_mean, self.mean_order_value)
        usable = (x > 0) & (monetary > 0)
        return self.gamma_gamma.expected_spend(
            np.where(usable, x, 0), np.where(usable, monetary, 0)
        )


def btyd_columns(
    features: pd.DataFrame, horizon_days: int, repurchase_days: int
) -> dict[str, np.ndarray]:
    """The BTYD columns of a whole feature table, fitted on its own buyers. The table itself
    is not copied: a million rows cost a second."""
    buyers = features["has_purchase"].to_numpy(bool)
    share = fit_share(int(buyers.sum()))
    sample = features.loc[buyers & stable_mask(features["customer_id"], share)]
    fit = fit_btyd(sample, int(buyers.sum()))
    return fit.columns(features, horizon_days, repurchase_days)


def fit_share(buyers: int) -> float:
    """The share of the buyers a fit reads: all of them, or about FIT_SAMPLE (four parameters
    need no more, and the fit is the slow part on millions of customers), those whose
    `custlens.sampling.stable_unit` is below it."""
    return 1.0 if buyers <= FIT_SAMPLE else FIT_SAMPLE / buyers


def fit_btyd(sample: pd.DataFrame, buyers: int) -> BtydFit:
    """Fit both models on `sample`, the buyers chosen by `fit_share(buyers)`, in customer
    order (the SUMMARY_COLUMNS suffice)."""
    if buyers < MIN_CUSTOMERS:
        return BtydFit()
    x, t_x, age, monetary, order_mean = _summary(sample)
    mean_order_value = float(np.nanmean(order_mean)) if np.isfinite(order_mean).any() else 0.0
    try:
        beta_geo = BetaGeoModel().fit(x, t_x, age)
    except CustlensError:
        return BtydFit()
    usable = (x > 0) & (monetary > 0)
    try:
        gamma_gamma = GammaGammaModel().fit(x[usable], monetary[usable])
    except CustlensError:
        gamma_gamma = None
    return BtydFit(beta_geo, gamma_gamma, mean_order_value)


def _summary(rows: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(rows[column].to_numpy(float) for column in SUMMARY_COLUMNS)
