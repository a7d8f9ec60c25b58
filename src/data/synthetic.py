"""Seeded synthetic retail transactions with known ground truth, for tests and benchmarks.

Customers follow a BG/NBD-style process (Poisson purchases, dropout after each purchase) with
Gamma-Gamma order values, mixed over a few behavioural groups. Everything is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.errors import CustlensError

DAY = 86_400  # seconds
MAX_ORDERS = 500  # per customer: bounds memory; only extreme rate draws reach it
BIRTH_SHARE = 0.8  # first purchases fall in this leading share of the window
RETURN_DELAY_DAYS = 5.0  # mean extra delay after the one-day minimum
COUNTRIES = ("United Kingdom", "Germany", "France", "Netherlands", "Ireland", "Spain")


@dataclass(frozen=True)
class Group:
    """A behavioural group: its mixing weight and the laws its customers' parameters follow."""

    name: str
    weight: float
    r: float  # purchase rate per day: lam ~ Gamma(r, scale=1/alpha)
    alpha: float
    a: float  # dropout probability after each purchase: p ~ Beta(a, b)
    b: float
    p_s: float  # order value ~ Gamma(p_s, scale=1/nu) with nu ~ Gamma(q, scale=1/gamma)
    q: float
    gamma: float
    countries: tuple[float, ...]  # shares over COUNTRIES


GROUPS = (
    Group("loyal_frequent", 0.15, 4.0, 130.0, 1.0, 30.0, 6.0, 4.0, 20.0, (90, 3, 3, 2, 1, 1)),
    Group("occasional", 0.45, 2.0, 250.0, 1.5, 8.0, 5.0, 4.0, 24.0, (80, 6, 5, 4, 3, 2)),
    Group("one_off", 0.30, 1.0, 400.0, 6.0, 2.0, 4.0, 3.0, 15.0, (70, 9, 8, 5, 4, 4)),
    Group("big_spender", 0.10, 3.0, 150.0, 2.0, 20.0, 6.0, 5.0, 100.0, (55, 15, 12, 8, 5, 5)),
)
_PARAMS = ("r", "alpha", "a", "b", "p_s", "q", "gamma")
Cols = dict[str, np.ndarray]
Rng = np.random.Generator


def _labels(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Object array of `prefix` + zero-padded numbers, built digit-wise (no per-item format)."""
    chars = np.empty((numbers.size, width + 1), dtype=np.uint32)
    chars[:, 0] = ord(prefix)
    rest = numbers.astype(np.int64)
    for col in range(width, 0, -1):
        chars[:, col] = 48 + rest % 10
        rest //= 10
    return chars.view(f"U{width + 1}").ravel().astype(object)


def _strings(labels: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Pandas "string" column sharing the label objects; `take` skips per-row validation."""
    return pd.array(labels, dtype="string").take(codes)


def _customers(rng: Rng, n: int, span_s: int, birth_share: float = BIRTH_SHARE) -> Cols:
    """Per-customer group, birth (seconds from start), rate, dropout, spend and country."""
    weights = np.array([g.weight for g in GROUPS])
    group = rng.choice(len(GROUPS), size=n, p=weights / weights.sum())
    par = {f: np.array([getattr(g, f) for g in GROUPS])[group] for f in _PARAMS}
    # p == 0 would make the geometric lifetime undefined
    p = np.clip(rng.beta(par["a"], par["b"]), 1e-9, 1.0)
    cum = np.cumsum([g.countries for g in GROUPS], axis=1)[group]
    u = rng.random(n)[:, None] * cum[:, -1:]
    return {
        "group": group,
        "lam": rng.gamma(par["r"], 1.0 / par["alpha"]),
        "p": p,
        "nu": rng.gamma(par["q"], 1.0 / par["gamma"]),
        "p_s": par["p_s"],
        "country": np.minimum((u >= cum).sum(axis=1), len(COUNTRIES) - 1),
        "birth": np.floor(rng.random(n) * birth_share * span_s).astype(np.int64),
    }


def _orders(rng: Rng, c: Cols, span_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Order customers and times; sets c["n_orders"] and c["death"] (-1: alive at end).

    Reaching MAX_ORDERS inside the window counts as dropping out at that last order.

    Arrivals after birth are a Poisson process: given N arrivals, their times are uniform order
    statistics, i.e. cumulated Exp(1) spacings over the total of N + 1 spacings. Only the first
    n - 1 are needed; the remaining spacings sum to a single Gamma draw.
    """
    remaining = span_s - c["birth"]
    in_window = 1 + rng.poisson(c["lam"] * remaining / DAY)
    life = rng.geometric(c["p"])  # purchases up to the one after which the customer drops
    n = np.minimum(np.minimum(life, in_window), MAX_ORDERS)
    cust = np.repeat(np.arange(n.size), n)
    starts = np.cumsum(n) - n
    last = starts + n - 1
    run = np.cumsum(rng.exponential(size=cust.size))
    run -= np.repeat(run[starts], n)  # zero at each customer's first order: it is at birth
    total = run[last] + rng.gamma(in_window - n + 1.0)
    t = np.repeat(c["birth"], n) + np.floor(np.repeat(remaining / total, n) * run).astype(np.int64)
    alive = (life > in_window) & (in_window <= MAX_ORDERS)
    c["n_orders"], c["death"] = n, np.where(alive, -1, t[last])
    return cust, t


def _lines(rng: Rng, value: np.ndarray, lines_per_order: float, n_products: int) -> Cols:
    """Split each order value over its lines; quantities follow from catalogue prices."""
    k = 1 + rng.poisson(lines_per_order - 1.0, size=value.size)
    order = np.repeat(np.arange(value.size), k)
    share = rng.exponential(size=order.size)  # Dirichlet(1, ..., 1) split of the order value
    share /= np.repeat(np.add.reduceat(share, np.cumsum(k) - k), k)
    # Zipf-like popularity by inverting a continuous power law (s = 1.1) over shuffled ranks
    span = (n_products + 1.0) ** -0.1 - 1.0
    rank = np.floor((1.0 + rng.random(order.size) * span) ** -10.0).astype(np.int64) - 1
    product = rng.permutation(n_products)[np.clip(rank, 0, n_products - 1)]
    catalogue = np.maximum(np.round(rng.lognormal(np.log(4.0), 0.9, n_products), 2), 0.1)
    qty = np.maximum(1.0, np.rint(value[order] * share / catalogue[product]))
    # A product drawn twice for one order becomes one line (real logs repeat lines only by error)
    key, where = np.unique(order * n_products + product, return_inverse=True)
    order, product = key // n_products, key % n_products
    qty = np.bincount(where, weights=qty)
    return {"order": order, "product": product, "quantity": qty, "unit_price": catalogue[product]}


def _with_returns(rng: Rng, ln: Cols, order_t: np.ndarray, rate: float, end_s: int) -> Cols:
    """Append return lines (one return order per returned order) and sort by time, order_id.

    Sort key: time, then "C" before "O", then order number, matching the order_id strings.
    """
    n_orders, n_lines = order_t.size, ln["order"].size
    ret_t = order_t + DAY + rng.exponential(RETURN_DELAY_DAYS * DAY, n_orders).astype(np.int64)
    picked = (rng.random(n_lines) < rate) & (ret_t[ln["order"]] <= end_s)
    back = {k: v[picked] for k, v in ln.items()}
    back["quantity"] = -back["quantity"]
    back["t"] = ret_t[back["order"]]
    back["code"] = back["order"] + n_orders  # order_id codes >= n_orders are "C" ids
    back_key = (back["t"] << 31) + back["order"]
    ln["t"], ln["code"] = order_t[ln["order"]], ln["order"]
    key = (ln["t"] << 31) + (1 << 30) + ln["order"]
    rank = np.argsort(back_key, kind="stable")
    at = np.searchsorted(key, back_key[rank])
    idx = np.insert(np.arange(n_lines), at, n_lines + rank)
    return {k: np.concatenate([ln[k], back[k]])[idx] for k in ln}


def _truth(c: Cols, ids: np.ndarray, t0: pd.Timestamp) -> pd.DataFrame:
    """One row per customer with the parameters that generated their orders."""
    alive = c["death"] < 0
    death = _timestamps(t0, np.where(alive, 0, c["death"]))
    death[alive] = np.datetime64("NaT")
    return pd.DataFrame(  # copy=False: arrays are fresh; copying 10M objects costs seconds
        {
            "customer_id": _strings(ids, np.arange(ids.size)),
            "group": _strings(np.array([g.name for g in GROUPS]), c["group"]),
            "lam": c["lam"],
            "p_drop": c["p"],
            "mean_spend": c["p_s"] / c["nu"],
            "birth": _timestamps(t0, c["birth"]),
            "death": death,
            "alive_at_end": alive,
            "n_orders": c["n_orders"].astype(np.int64),
        },
        copy=False,
    )


def _timestamps(t0: pd.Timestamp, seconds: np.ndarray) -> np.ndarray:
    """datetime64[ns] values `seconds` after `t0`."""
    return np.datetime64(t0, "ns") + seconds.astype("timedelta64[s]").astype("timedelta64[ns]")


def _check(start: str, end: str, n_customers: int, n_products: int, rates: tuple) -> tuple:
    """Validate arguments; return the start timestamp and the window length in seconds."""
    t0, span_s = (
        pd.Timestamp(start),
        int((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()),
    )
    if not 0 < span_s < 2**32:  # the sort key packs seconds into 32 bits
        raise CustlensError(f"synthetic window needs start < end (< 136 years): {start}, {end}")
    if n_customers < 1 or n_products < 1:
        raise CustlensError("synthetic data needs n_customers >= 1 and n_products >= 1")
    if rates[0] < 1.0 or not 0.0 <= rates[1] <= 1.0:
        raise CustlensError("synthetic data needs lines_per_order >= 1 and return_rate in [0, 1]")
    return t0, span_s


def generate_transactions(  # noqa: PLR0917 (positional signature is the public contract)
    n_customers: int,
    start: str = "2021-01-01",
    end: str = "2023-12-31",
    seed: int = 0,
    lines_per_order: float = 2.0,
    return_rate: float = 0.03,
    n_products: int = 5000,
    birth_share: float = BIRTH_SHARE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a transaction log and the ground truth behind it.

    Customers are drawn from `GROUPS`; each buys first at a uniform birth time in the first
    `birth_share` (80%) of [start, end] (1.0: customers arrive at a constant rate throughout,
    a stationary stream of new customers), then at Poisson rate `lam` per day, dropping out
    after each purchase with probability `p_drop`; orders after `end` are cut. Each order has
    1 + Poisson(lines_per_order - 1) lines; a share `return_rate` of lines is returned
    (negative line, order_id "C" + number) a day or more later, if still within the window
    (possibly after the customer's death). Timestamps (seconds resolution) lie in
    [Timestamp(start), Timestamp(end)]: a bare date as `end` means its midnight.

    Returns `(transactions, truth)`: transactions sorted by timestamp then order_id, with columns
    customer_id, order_id, timestamp, amount, quantity, unit_price, product_id, country; truth one
    row per customer: customer_id, group, lam, p_drop, mean_spend (expected order value), birth,
    death (time of the last purchase, NaT if alive at end), alive_at_end, n_orders (purchase
    orders in the window, returns excluded). Same arguments give identical frames.
    """
    t0, span_s = _check(start, end, n_customers, n_products, (lines_per_order, return_rate))
    if not 0 < birth_share <= 1:
        raise CustlensError(f"synthetic data needs birth_share in (0, 1], not {birth_share}")
    rng = np.random.default_rng(seed)
    c = _customers(rng, n_customers, span_s, birth_share)
    cust, t = _orders(rng, c, span_s)
    value = rng.gamma(c["p_s"][cust], 1.0 / c["nu"][cust])
    chrono = np.argsort(t * n_customers + cust, kind="stable")  # order numbers follow time
    cust, t, value = cust[chrono], t[chrono], value[chrono]
    ln = _lines(rng, value, lines_per_order, n_products)
    ln = _with_returns(rng, ln, t, return_rate, span_s)
    ids = _labels("C", np.arange(1, n_customers + 1), max(7, len(str(n_customers))))
    ln["cust"] = cust[ln["order"]]
    ln["country"] = c["country"][ln["cust"]]
    return _frame(ln, cust.size, ids, n_products, t0), _truth(c, ids, t0)


def _frame(
    ln: Cols, n_orders: int, ids: np.ndarray, n_prod: int, t0: pd.Timestamp
) -> pd.DataFrame:
    """Transaction columns in canonical order, string columns from shared labels."""
    width = max(9, len(str(n_orders)))
    is_back = ln["code"] >= n_orders
    returned, back_codes = np.unique(ln["code"][is_back], return_inverse=True)
    codes = ln["code"].copy()
    codes[is_back] = n_orders + back_codes
    purchases = _labels("O", np.arange(1, n_orders + 1), width)
    order_ids = np.concatenate([purchases, _labels("C", returned - n_orders + 1, width)])
    products = _labels("P", np.arange(1, n_prod + 1), max(5, len(str(n_prod))))
    return pd.DataFrame(  # copy=False: arrays are fresh; copying 10M objects costs seconds
        {
            "customer_id": _strings(ids, ln["cust"]),
            "order_id": _strings(order_ids, codes),
            "timestamp": _timestamps(t0, ln["t"]),
            "amount": np.round(ln["quantity"] * ln["unit_price"], 2),
            "quantity": ln["quantity"],
            "unit_price": ln["unit_price"],
            "product_id": _strings(products, ln["product"]),
            "country": _strings(np.array(COUNTRIES), ln["country"]),
        },
        copy=False,
    )
