"""Maximum-likelihood BG/NBD and Gamma-Gamma models ("buy till you die" baselines).

References (equation numbers below refer to these):
- Fader, Hardie & Lee (2005a), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2) -- BG/NBD.
- Fader, Hardie & Lee (2005b), "RFM and CLV: using iso-value curves for customer base
  analysis", Journal of Marketing Research 42(4) -- Gamma-Gamma spend model.

Inputs per customer: ``frequency`` x (repeat purchase occasions), ``recency`` t_x (days from
first to last purchase), ``age`` T (days from first purchase to the end of observation) and
``monetary`` (mean value of the repeat purchase occasions), which the feature builder
computes (`custlens.features.probabilistic`). Everything is numpy/scipy only (no
``lifetimes``/``pymc-marketing``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custlens.errors import CustlensError


def _as_array(name: str, values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise CustlensError(f"{name} is empty: need at least one customer")
    return arr


def _check_rfm(frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> tuple[np.ndarray, ...]:
    """Validate (x, t_x, T): same lengths, finite, non-negative, t_x <= T."""
    arrays = tuple(
        _as_array(n, v) for n, v in (("frequency", frequency), ("recency", recency), ("age", age))
    )
    if len({a.size for a in arrays}) != 1:
        sizes = [a.size for a in arrays]
        raise CustlensError(f"frequency, recency and age differ in length: {sizes}")
    for name, arr in zip(("frequency", "recency", "age"), arrays, strict=True):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise CustlensError(f"{name} must be finite and non-negative")
    if np.any(arrays[1] > arrays[2]):
        raise CustlensError("recency must not exceed age (last purchase after end of observation)")
    return arrays


def _check_horizon(t_days: ArrayLike) -> np.ndarray:
    t = np.asarray(t_days, dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise CustlensError("t_days must be finite and non-negative")
    return t


def _fit_mle(
    name: str,
    neg_ll: Callable[[np.ndarray], np.ndarray],
    n_params: int,
    penalizer: float,
    neg_ll_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> tuple[np.ndarray, float]:
    """Minimise mean NLL + penalizer * sum(params**2) over log-parameters (as in lifetimes).

    `neg_ll_grad(params)`, when given, returns the mean NLL and its gradient in the parameters,
    so the optimiser needs no finite differences (several times fewer likelihood evaluations).
    Returns the parameters and the (unpenalised, summed) log-likelihood. The start point is
    fixed (all log-params 0) so fits are deterministic.
    """
    if penalizer < 0:
        raise CustlensError(f"{name}: penalizer must be non-negative, got {penalizer}")

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        return float(np.mean(neg_ll(params)) + penalizer * np.sum(params**2))

    def objective_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value, gradient = neg_ll_grad(params)  # type: ignore[misc]
        penalty = penalizer * np.sum(params**2)
        # d/d(log p) = p * d/dp
        return float(value + penalty), gradient * params + 2.0 * penalizer * params**2

    res = minimize(
        objective if neg_ll_grad is None else objective_and_gradient,
        np.zeros(n_params),
        jac=neg_ll_grad is not None,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0)] * n_params,  # keeps exp() finite; real estimates are far inside
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )
    if not res.success or not np.isfinite(res.fun):
        raise CustlensError(f"{name}: optimiser did not converge ({res.message})")
    params = np.exp(res.x)
    return params, float(-np.sum(neg_ll(params)))


def _bgnbd_neg_ll(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer negative log of the BG/NBD likelihood (eq. 6), via log-sum-exp."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    term1 = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    # The second term only exists for x > 0; betaln(a+1, b-1) would be invalid when b < 1.
    x_pos = np.maximum(x, 1.0)
    term2 = betaln(a + 1, b + x_pos - 1) - (r + x) * np.log(alpha + t_x)
    term2 = np.where(x > 0, term2, -np.inf)
    return -(common + np.logaddexp(term1, term2))


class _Distinct:
    """The distinct values of an input and where each row's value sits among them.

    Day-level inputs repeat a lot (a million customers have a few hundred distinct
    frequencies, recencies and ages), so special functions are evaluated once per distinct
    value and gathered back to the rows.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.index = np.unique(values, return_inverse=True)

    def gather(self, per_value: np.ndarray) -> np.ndarray:
        return per_value[self.index]


def _bgnbd_neg_ll_grad(
    params: np.ndarray, x: _Distinct, t_x: _Distinct, T: _Distinct
) -> tuple[float, np.ndarray]:
    """Mean BG/NBD negative log-likelihood (as `_bgnbd_neg_ll`) and its gradient in r, alpha,
    a, b. With w1 and w2 the shares of the two terms of eq. 6 in their sum, the derivatives are
    those of log-gamma and log-beta (digamma) and of the logs of (alpha + T), (alpha + t_x)."""
    r, alpha, a, b = params
    xv = x.values
    xv_pos = np.maximum(xv, 1.0)
    # Per distinct frequency: the parts that depend on x only.
    common = gammaln(r + xv) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    beta1 = betaln(a, b + xv)
    beta2 = betaln(a + 1, b + xv_pos - 1)
    # Per distinct recency and age.
    log_T = T.gather(np.log(alpha + T.values))
    log_t = t_x.gather(np.log(alpha + t_x.values))
    inv_T = T.gather(1.0 / (alpha + T.values))
    inv_t = t_x.gather(1.0 / (alpha + t_x.values))
    rx = r + x.gather(xv)
    has_repeat = x.gather(xv > 0)
    term1 = x.gather(beta1) - rx * log_T
    term2 = np.where(has_repeat, x.gather(beta2) - rx * log_t, -np.inf)
    both = np.logaddexp(term1, term2)
    ll = x.gather(common) + both
    w2 = np.exp(term2 - both)  # 0 where x == 0
    w1 = np.exp(term1 - both)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + xv)
    d_r = x.gather(digamma(r + xv) - digamma(r)) + np.log(alpha) - w1 * log_T - w2 * log_t
    d_alpha = r / alpha - rx * (w1 * inv_T + w2 * inv_t)
    d_a = (
        psi_ab
        - digamma(a)
        + w1 * x.gather(digamma(a) - psi_abx)
        + w2 * x.gather(digamma(a + 1) - psi_abx)
    )
    d_b = (
        psi_ab
        - digamma(b)
        + w1 * x.gather(digamma(b + xv) - psi_abx)
        + w2 * x.gather(digamma(b + xv_pos - 1) - psi_abx)
    )
    gradient = -np.array([d_r.mean(), d_alpha.mean(), d_a.mean(), d_b.mean()])
    return float(-ll.mean()), gradient


def _log_dropout_odds(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """log of delta_{x>0} * a/(b+x-1) * ((alpha+T)/(alpha+t_x))**(r+x); -inf when x == 0."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x_pos = np.maximum(x, 1.0)
    log_odds = np.log(a / (b + x_pos - 1)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, log_odds, -np.inf)


class BetaGeoModel(BaseEstimator):
    """BG/NBD purchase-frequency model (Fader, Hardie & Lee 2005a), fitted by maximum likelihood.

    ``recency``, ``age`` and horizons are in days and divided by ``time_unit_days`` internally
    (weeks by default, so ``params_["alpha"]`` is comparable with published estimates).
    """

    def __init__(self, penalizer: float = 0.0, time_unit_days: float = 7.0) -> None:
        self.penalizer = penalizer
        self.time_unit_days = time_unit_days

    def _inputs(
        self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> tuple[np.ndarray, ...]:
        if not self.time_unit_days > 0:
            raise CustlensError(f"time_unit_days must be positive, got {self.time_unit_days}")
        x, t_x, T = _check_rfm(frequency, recency, age)
        return x, t_x / self.time_unit_days, T / self.time_unit_days

    def fit(self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> BetaGeoModel:
        """Fit r, alpha, a, b; sets ``params_``, ``log_likelihood_``, ``n_customers_``."""
        x, t_x, T = self._inputs(frequency, recency, age)
        distinct = _Distinct(x), _Distinct(t_x), _Distinct(T)
        params, ll = _fit_mle(
            "BetaGeoModel",
            lambda p: _bgnbd_neg_ll(p, x, t_x, T),
            4,
            self.penalizer,
            lambda p: _bgnbd_neg_ll_grad(p, *distinct),
        )
        self.params_ = dict(zip(("r", "alpha", "a", "b"), params.tolist(), strict=True))
        self.log_likelihood_ = ll
        self.n_customers_ = int(x.size)
        return self

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> np.ndarray:
        """P(alive | x, t_x, T); exactly 1 when x == 0 (dropout only follows a repeat purchase).

        Fader, Hardie & Lee, note "Computing P(alive) using the BG/NBD model": 1 / (1 + odds).
        """
        check_is_fitted(self)
        x, t_x, T = self._inputs(frequency, recency, age)
        # 1 / (1 + odds) computed as exp(-log1p(exp(log_odds))) so huge odds give 0, not nan.
        return np.exp(-np.logaddexp(0.0, _log_dropout_odds(self.params_, x, t_x, T)))

    def expected_purchases(
        self, t_days: ArrayLike, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t_days`` (eq. 10)."""
        check_is_fitted(self)
        x, t_x, T = self._inputs(frequency, recency, age)
        t = _check_horizon(t_days) / self.time_unit_days
        return self._conditional_expectation(t, x, t_x, T)

    def expected_purchases_new(self, t_days: ArrayLike) -> np.ndarray:
        """Unconditional E[X(t)] for a customer just acquired (eq. 9 = eq. 10 with x=T=0)."""
        check_is_fitted(self)
        t = np.atleast_1d(_check_horizon(t_days)) / self.time_unit_days
        zero = np.zeros_like(t)
        return self._conditional_expectation(t, zero, zero, zero)

    def probability_any_purchase(
        self, t_days: ArrayLike, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> np.ndarray:
        """P(at least one purchase in (T, T+t]).

        Dropout happens only right after a purchase, so a customer alive at T stays alive
        until the next purchase: P(alive) * (1 - ((alpha+T)/(alpha+T+t))**(r+x)), the
        bracket being the Gamma(r+x, alpha+T) posterior mixture of 1 - exp(-lambda t).
        """
        check_is_fitted(self)
        x, t_x, T = self._inputs(frequency, recency, age)
        t = _check_horizon(t_days) / self.time_unit_days
        r, alpha = self.params_["r"], self.params_["alpha"]
        p_alive = np.exp(-np.logaddexp(0.0, _log_dropout_odds(self.params_, x, t_x, T)))
        return p_alive * -np.expm1((r + x) * np.log((alpha + T) / (alpha + T + t)))

    def _conditional_expectation(
        self, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        r, alpha, a, b = (self.params_[k] for k in ("r", "alpha", "a", "b"))
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        c = a + b + x - 1
        with np.errstate(all="ignore"):
            # Eq. 10 as published: ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, b+x; c; z).
            z = t / (alpha + T + t)
            tail = np.exp((r + x) * np.log1p(-z)) * hyp2f1(r + x, b + x, c, z)
            # For large x and long horizons the power underflows while 2F1 overflows (0*inf =
            # nan). Euler's transformation 2F1(A,B;C;z) = (1-z)**(C-A-B) 2F1(C-A,C-B;C;z)
            # absorbs the power exactly: tail = (1-z)**(a-1) 2F1(a+b-1-r, a-1; c; z), whose
            # first two arguments stay small, so the series is well behaved for any x.
            bad = ~np.isfinite(tail)
            if np.any(bad):
                zb, cb = z[bad], c[bad]
                tail[bad] = np.exp((a - 1) * np.log1p(-zb)) * hyp2f1(a + b - 1 - r, a - 1, cb, zb)
            numer = (c / (a - 1)) * (1.0 - tail)
            result = numer * np.exp(-np.logaddexp(0.0, _log_dropout_odds(self.params_, x, t_x, T)))
        # Any value still non-finite (2F1 failing after Euler too) is clipped to 0 purchases.
        return np.where(np.isfinite(result), np.maximum(result, 0.0), 0.0)


def _gg_neg_ll_grad(
    params: np.ndarray, x: _Distinct, log_x: np.ndarray, m: np.ndarray, log_m: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean Gamma-Gamma negative log-likelihood (as `_gg_neg_ll`) and its gradient in p, q, v;
    log-gamma and digamma terms are evaluated once per distinct frequency."""
    p, q, v = params
    xv = x.values
    px = p * x.gather(xv)
    xs = x.gather(xv)
    log_vxm = np.log(v + xs * m)
    ll = (
        x.gather(gammaln(p * xv + q) - gammaln(p * xv) - gammaln(q))
        + q * np.log(v)
        + (px - 1) * log_m
        + px * log_x
        - (px + q) * log_vxm
    )
    psi_pxq = x.gather(digamma(p * xv + q))
    d_p = xs * (psi_pxq - x.gather(digamma(p * xv)) + log_m + log_x - log_vxm)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + xs * m)
    return float(-ll.mean()), -np.array([d_p.mean(), d_q.mean(), d_v.mean()])


def _gg_neg_ll(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer negative log of the marginal density of the mean spend m_x given x (2005b)."""
    p, q, v = params
    px = p * x
    return -(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


class GammaGammaModel(BaseEstimator):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005b); ``v`` is the paper's gamma."""

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @staticmethod
    def _inputs(frequency: ArrayLike, monetary: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        x = _as_array("frequency", frequency)
        m = _as_array("monetary", monetary)  # NaN allowed: no repeat purchase, no mean spend
        if x.size != m.size:
            raise CustlensError(f"frequency and monetary differ in length: {x.size} vs {m.size}")
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            raise CustlensError("frequency must be finite and non-negative")
        if np.any(np.isinf(m)):
            raise CustlensError("monetary must not be infinite")
        return x, m

    def fit(self, frequency: ArrayLike, monetary: ArrayLike) -> GammaGammaModel:
        """Fit p, q, v on customers with x > 0 and m_x > 0; sets ``params_`` etc."""
        x, m = self._inputs(frequency, monetary)
        use = (x > 0) & (m > 0)  # NaN compares False, so missing spend is dropped too
        if use.sum() < 2:
            raise CustlensError("GammaGammaModel: need >= 2 customers with repeat purchases")
        x, m = x[use], m[use]
        distinct, log_x, log_m = _Distinct(x), np.log(x), np.log(m)
        params, ll = _fit_mle(
            "GammaGammaModel",
            lambda p: _gg_neg_ll(p, x, m),
            3,
            self.penalizer,
            lambda p: _gg_neg_ll_grad(p, distinct, log_x, m, log_m),
        )
        self.params_ = dict(zip(("p", "q", "v"), params.tolist(), strict=True))
        self.log_likelihood_ = ll
        self.n_customers_ = int(x.size)
        return self

    def expected_spend(self, frequency: ArrayLike, monetary: ArrayLike) -> np.ndarray:
        """Posterior mean spend E[M | x, m_x] = p(v + x m_x) / (px + q - 1).

        Customers with x == 0 or a missing/non-positive m_x get the population mean p v/(q-1).
        """
        check_is_fitted(self)
        x, m = self._inputs(frequency, monetary)
        p, q, v = (self.params_[k] for k in ("p", "q", "v"))
        if q <= 1:
            raise CustlensError(f"GammaGammaModel: q = {q:.3g} <= 1, mean spend is infinite")
        has_data = (x > 0) & (m > 0)
        x, m = np.where(has_data, x, 0.0), np.where(has_data, m, 0.0)
        # With x = 0 the formula reduces to the population mean p*v/(q-1).
        return p * (v + x * m) / (p * x + q - 1)
