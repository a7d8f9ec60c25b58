"""A retention plan under a budget: whom to contact, by when, and what it is expected to keep.

A contact is assumed to keep a customer who would otherwise lapse with probability
`save_rate` (an assumption: the data holds no record of contacts and their effect; set it from
a holdout test of your own). The value a contact is expected to keep is

    save_rate x value_at_risk - cost_per_contact,

where `value_at_risk` (a column of the scored table) is the churn probability times the
customer's net revenue over the last horizon: the pace of spending that stops if they lapse.
Customers are contacted in decreasing order of it, while it is positive and the budget lasts;
without a cost the order does not depend on `save_rate`. Each is to be contacted by
the day a customer who keeps buying would have ordered: the median day of the next order
given an order within the horizon, from the timing curve (as_of + the first day the chance of
an order reaches half of the chance by the horizon).

The targeting is judged out of time by the value actually lost: the customers who did not
order within the horizon, weighted by what they spent in the horizon before (`capture`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.models.evaluation import plots
from custlens.models.evaluation.metrics import Metric
from custlens.models.tasks.timing import curve_columns, half_day

UNITS = ("contacts", "amount", "share")
SHARES = (0.05, 0.10, 0.20)  # the budgets the targeting is judged at, as shares of the base
PLAN_COLUMNS = (
    "customer_id",
    "segment_name",
    "action",
    "contact_by",
    "churn_probability",
    "value_at_risk",
    "clv",
    "expected_value_kept",
    "net_value",
    "reasons",
)


@dataclass
class PlanSettings:
    """The budget (`budget` in `unit`: a number of contacts, an amount of money at
    `cost_per_contact` each, or a share of the customer base), the cost of one contact and the
    assumed share of would-be lapsers a contact keeps."""

    budget: float = 0.10
    unit: str = "share"
    cost_per_contact: float = 0.0
    save_rate: float = 0.2

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise CustlensError(f"plan.unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if not self.budget > 0 or (self.unit == "share" and self.budget > 1):
            raise CustlensError(
                f"plan.budget must be above 0 (a share at most 1), not {self.budget!r}"
            )
        if self.cost_per_contact < 0:
            raise CustlensError(
                f"plan.cost_per_contact must be at least 0, not {self.cost_per_contact}"
            )
        if self.unit == "amount" and self.cost_per_contact <= 0:
            raise CustlensError("a budget in money (plan.unit=amount) needs plan.cost_per_contact")
        if not 0 < self.save_rate <= 1:
            raise CustlensError(f"plan.save_rate must lie in (0, 1], not {self.save_rate}")

    def contacts(self, customers: int) -> int:
        """The most contacts the budget pays for in a base of `customers`."""
        if self.unit == "share":
            return int(np.floor(self.budget * customers))
        if self.unit == "amount":
            return int(np.floor(self.budget / self.cost_per_contact + 1e-9))
        return int(self.budget)


def value_kept(value_at_risk: np.ndarray, save_rate: float) -> np.ndarray:
    """The value a contact is expected to keep, before its cost."""
    return save_rate * np.asarray(value_at_risk, float)


def horizon_of(scores: pd.DataFrame) -> int:
    """The horizon a scored table was scored for: the day of the timing curve that is one
    minus the churn probability."""
    if "churn_probability" in scores:
        ordered = 1 - scores["churn_probability"].to_numpy(float)
        for t, column in curve_columns(scores.columns).items():
            if np.allclose(scores[column].to_numpy(float), ordered, atol=1e-9):
                return t
    raise CustlensError(
        "the scored table has no timing curve through 1 - churn_probability (order_chance_<t>d "
        "columns): score with a model that has the timing task"
    )


def contact_by(scores: pd.DataFrame, horizon_days: int) -> pd.Series:
    """The day by which each customer is to be contacted: as_of plus the median day of the
    next order given an order within the horizon, from the timing curve's columns."""
    columns = {t: c for t, c in curve_columns(scores.columns).items() if t <= horizon_days}
    if horizon_days not in columns:
        raise CustlensError(
            f"the scored table has no timing curve up to the {horizon_days}-day horizon "
            "(order_chance_<t>d columns): score with a model that has the timing task"
        )
    days = sorted(columns)
    curve = scores[[columns[t] for t in days]].to_numpy(float)
    by_horizon = np.maximum(curve[:, -1:], 1e-9)
    median = np.ceil(half_day(days, np.clip(curve / by_horizon, 0, 1)))
    median = np.nan_to_num(median, nan=float(horizon_days))
    as_of = pd.to_datetime(scores["as_of"]).to_numpy().astype("datetime64[ns]")
    return pd.Series(as_of + median.astype("timedelta64[D]"), index=scores.index)


@dataclass(frozen=True)
class Outline:
    """A plan's totals, its summary by segment and the budget curve (value kept against
    contacts): what the report shows, from the scores alone."""

    totals: dict[str, float]
    by_segment: pd.DataFrame
    curve: pd.DataFrame


@dataclass(frozen=True)
class Plan:
    """The chosen customers in order (`PLAN_COLUMNS`) and the plan's outline."""

    rows: pd.DataFrame
    outline: Outline


def choose(net: np.ndarray, contacts: int) -> np.ndarray:
    """The positions of the customers to contact, best first: the highest net values, while
    positive, at most `contacts` of them."""
    order = np.argsort(-np.asarray(net, float), kind="stable")
    return order[: min(contacts, int((np.asarray(net) > 0).sum()))]


def outline(
    churn: np.ndarray, at_risk: np.ndarray, segments: np.ndarray, settings: PlanSettings
) -> Outline:
    """The totals, the summary by segment and the budget curve of the plan for these scores
    (churn probabilities, values at risk, segment names)."""
    kept = value_kept(at_risk, settings.save_rate)
    net = kept - settings.cost_per_contact
    picked = choose(net, settings.contacts(len(kept)))
    chosen = pd.DataFrame(
        {
            "segment_name": np.asarray(segments)[picked],
            "kept": kept[picked],
            "net": net[picked],
            "churn": np.asarray(churn, float)[picked],
        }
    )
    totals = {
        "customers": float(len(kept)),
        "contacts": float(len(picked)),
        "affordable_contacts": float(settings.contacts(len(kept))),
        "worth_contacting": float((net > 0).sum()),
        "cost": float(len(picked) * settings.cost_per_contact),
        "expected_value_kept": float(chosen["kept"].sum()),
        "net_value": float(chosen["net"].sum()),
        "save_rate": settings.save_rate,
    }
    by_segment = (
        chosen.groupby("segment_name", observed=True)
        .agg(
            contacts=("kept", "size"),
            expected_value_kept=("kept", "sum"),
            net_value=("net", "sum"),
            mean_churn_probability=("churn", "mean"),
        )
        .sort_values("expected_value_kept", ascending=False)
        .reset_index()
    )
    return Outline(totals, by_segment, budget_curve(kept, settings.cost_per_contact))


def make_plan(scores: pd.DataFrame, settings: PlanSettings, horizon_days: int) -> Plan:
    """The plan for a scored table (custlens's columns: churn_probability, value_at_risk, clv,
    the timing curve, segment_name, segment_action, top_reasons)."""
    needed = ("customer_id", "as_of", "churn_probability", "value_at_risk", "clv", "segment_name")
    missing = [c for c in needed if c not in scores]
    if missing:
        raise CustlensError(f"the scored table lacks {missing}: score with custlens first")
    churn, clv = scores["churn_probability"].to_numpy(float), scores["clv"].to_numpy(float)
    at_risk = scores["value_at_risk"].to_numpy(float)
    kept = value_kept(at_risk, settings.save_rate)
    picked = choose(kept - settings.cost_per_contact, settings.contacts(len(scores)))
    rows = scores.iloc[picked]
    action = rows["segment_action"] if "segment_action" in rows else "retention contact"
    reasons = rows["top_reasons"] if "top_reasons" in rows else ""
    plan = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].to_numpy(),
            "segment_name": rows["segment_name"].to_numpy(),
            "action": np.asarray(action),
            "contact_by": contact_by(rows, horizon_days).to_numpy(),
            "churn_probability": churn[picked],
            "value_at_risk": at_risk[picked],
            "clv": clv[picked],
            "expected_value_kept": kept[picked],
            "net_value": kept[picked] - settings.cost_per_contact,
            "reasons": np.asarray(reasons),
        }
    )
    return Plan(plan, outline(churn, at_risk, scores["segment_name"].to_numpy(), settings))


def budget_curve(kept: np.ndarray, cost: float, points: int = 200) -> pd.DataFrame:
    """Value kept and net value against the number of contacts, best customers first, at up
    to `points` budgets (the whole base at most)."""
    ranked = np.sort(np.asarray(kept, float))[::-1]
    total = np.concatenate([[0.0], np.cumsum(ranked)])
    at = np.unique(np.linspace(0, ranked.size, min(points, ranked.size + 1)).round().astype(int))
    return pd.DataFrame(
        {"contacts": at, "value_kept": total[at], "net_value": total[at] - cost * at}
    )


# --- judging the targeting out of time ---------------------------------------------------


def lost_value(churned: np.ndarray, previous_spend: np.ndarray) -> np.ndarray:
    """The value actually lost: what the customers who did not order within the horizon
    spent in the horizon before (net, at least 0)."""
    return np.asarray(churned, float) * np.maximum(np.asarray(previous_spend, float), 0.0)


def capture(share: float):
    """The share of the value lost that the top `share` of customers by score hold."""

    def fn(lost: np.ndarray, score: np.ndarray) -> float:
        y, s = np.asarray(lost, float), np.asarray(score, float)
        if y.sum() <= 0:
            raise CustlensError("no value was lost: the capture is undefined")
        top = np.argsort(-s, kind="stable")[: int(np.ceil(share * y.size))]
        return float(y[top].sum() / y.sum())

    return fn


def _weighted_capture(share: float):
    def fn(lost: np.ndarray, score: np.ndarray, w: np.ndarray) -> np.ndarray:
        top = np.argsort(-np.asarray(score, float), kind="stable")[
            : int(np.ceil(share * lost.size))
        ]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w[:, top] * lost[top]).sum(axis=1) / (w * lost).sum(axis=1)

    return fn


def capture_metric(share: float) -> Metric:
    """The capture of the value lost at a budget of `share` of the base."""
    return Metric(f"lost_value_capture_{round(share * 100)}pct", capture(share),
                  f"lost value reached with {share:.0%} of the base",
                  weighted=_weighted_capture(share))  # fmt: skip


CAPTURES = tuple(capture_metric(s) for s in SHARES)


def targeting_scores(
    churn: np.ndarray, clv: np.ndarray, value_at_risk: np.ndarray
) -> dict[str, np.ndarray]:
    """The plan's ranking (without a contact cost, any save rate gives the same order), the
    two single-score rankings it is judged against, and the recent spend alone (the value at
    risk without the churn model)."""
    p = np.asarray(churn, float)
    return {
        "plan": np.asarray(value_at_risk, float),
        "churn_only": p,
        "value_only": np.asarray(clv, float),
        "recent_spend_only": np.asarray(value_at_risk, float) / np.maximum(p, 1e-12),
    }


def compare_targeting(
    lost: np.ndarray,
    rankings: dict[str, np.ndarray],
    seed: int = 0,
    resamples: int = 500,
    metrics: Sequence[Metric] = CAPTURES,
) -> pd.DataFrame:
    """Each ranking's capture at each budget, and the plan's lead over each other ranking with
    its 95% Poisson-bootstrap interval (paired: the same resamples for both)."""
    weights = np.random.default_rng(seed).poisson(1.0, size=(resamples, len(lost))).astype(float)
    rows = []
    for m in metrics:
        plan_draws = m.weighted(lost, rankings["plan"], weights)
        for name, score in rankings.items():
            row = {"metric": m.name, "ranking": name, "capture": m(lost, score)}
            if name != "plan":
                gap = plan_draws - m.weighted(lost, score, weights)
                row["plan_lead"] = m(lost, rankings["plan"]) - row["capture"]
                row["lead_low"], row["lead_high"] = np.nanpercentile(gap, [2.5, 97.5])
            rows.append(row)
    return pd.DataFrame(rows)


def budget_figure(plan: Outline) -> Figure:
    """The budget curve: expected value kept (and net of the contacts' cost) against the
    number of contacts, the plan's budget marked."""
    curve, totals = plan.curve, plan.totals
    fig = Figure(figsize=(7.0, 3.6), dpi=plots.DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(curve["contacts"], curve["value_kept"], label="expected value kept")
    if (curve["net_value"] != curve["value_kept"]).any():
        ax.plot(curve["contacts"], curve["net_value"], label="net of the contacts' cost")
    ax.axvline(totals["contacts"], color="grey", linestyle="--", label="the plan's contacts")
    ax.set_xlabel("customers contacted, most worth contacting first")
    ax.set_ylabel("value over the horizon")
    ax.set_title("What a retention budget is expected to keep", fontsize=10)
    ax.legend(fontsize=8)
    return fig
