"""Behavioural segment names, descriptions and actions, by rule from a segment's profile.

The naming table is a module constant (`SEGMENT_RULES`, first match wins), read by
`custlens.models.estimators.segmentation` to name the clusters it finds; customers without a
purchase form the reserved segment `PROSPECT_ID`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Behavioural segment names (see `name_segments`): rule-based, from a segment's profile.
PROSPECT_ID = -1
PROSPECT_NAME = "Prospects"
SIGNAL_FEATURES = (
    "recency_days",
    "frequency",
    "monetary_total",
    "tenure_days",
    "trend_orders_90_365d",
)
SLOWING_TREND = 0.75  # recent order rate below 3/4 of the yearly rate
# The naming table, first match wins: (name, signals that must all hold, signals that must not).
SEGMENT_RULES = (
    ("Champions", "recent frequent high_value", ""),
    ("Big spenders slipping away", "high_value cooling", ""),
    ("Loyal", "frequent", "lapsing"),
    ("Promising newcomers", "newcomer recent", ""),
    ("Lost", "long_gone low_value", ""),
    ("Hibernating", "cooling low_value", "frequent"),
    ("At risk", "cooling", ""),
    ("Occasional buyers", "", ""),
)
ACTIONS = {
    "Champions": "VIP care: early access, loyalty rewards, no discounts needed",
    "Big spenders slipping away": "Win-back offer, personal outreach",
    "Loyal": "Nurture and cross-sell",
    "Promising newcomers": "Onboarding and second-purchase incentive",
    "Lost": "Suppress or last-chance offer",
    "Hibernating": "Low-cost upkeep (newsletter only)",
    "At risk": "Reactivation campaign",
    "Occasional buyers": "Regular campaigns, nudge towards a buying rhythm",
    PROSPECT_NAME: "Welcome series and first-purchase incentive",
}
QUALIFIERS = {  # words from the highest to the lowest segment median, for 2 and 3 segments
    "monetary_total": (("higher value", "lower value"), ("high value", "mid value", "low value")),
    "frequency": (
        ("more frequent", "less frequent"),
        ("most frequent", "mid frequency", "least frequent"),
    ),
    "recency_days": (
        ("less recent", "more recent"),
        ("least recent", "mid recency", "most recent"),
    ),
}


def signals(median: pd.Series, reference: pd.DataFrame) -> dict[str, bool]:
    """The yes/no facts the rules read: a segment's medians against population quartiles.

    | signal       | segment median                              |
    |--------------|---------------------------------------------|
    | `recent`     | recency_days <= population 25th percentile  |
    | `lapsing`    | recency_days > population median            |
    | `long_gone`  | recency_days > population 75th percentile   |
    | `frequent`   | frequency >= 75th percentile and >= 2       |
    | `high_value` | monetary_total >= 75th percentile           |
    | `low_value`  | monetary_total <= population median         |
    | `newcomer`   | tenure_days <= 25th percentile              |
    | `slowing`    | trend_orders_90_365d < SLOWING_TREND        |
    | `cooling`    | lapsing or slowing                          |

    The trend median skips members without an order in the last 365 days (trend undefined).
    NaN medians (an empty segment) make every comparison false.
    """
    q = reference
    facts = {
        "recent": median["recency_days"] <= q.at[0.25, "recency_days"],
        "lapsing": median["recency_days"] > q.at[0.5, "recency_days"],
        "long_gone": median["recency_days"] > q.at[0.75, "recency_days"],
        "frequent": median["frequency"] >= max(q.at[0.75, "frequency"], 2),
        "high_value": median["monetary_total"] >= q.at[0.75, "monetary_total"],
        "low_value": median["monetary_total"] <= q.at[0.5, "monetary_total"],
        "newcomer": median["tenure_days"] <= q.at[0.25, "tenure_days"],
        "slowing": median["trend_orders_90_365d"] < SLOWING_TREND,
    }
    facts["cooling"] = facts["lapsing"] or facts["slowing"]
    return facts


def rule_name(facts: dict[str, bool]) -> str:
    """The name of the first rule of `SEGMENT_RULES` that `facts` satisfy."""
    for name, must, must_not in SEGMENT_RULES:
        if all(facts[f] for f in must.split()) and not any(facts[f] for f in must_not.split()):
            return name
    raise AssertionError("the last rule matches everything")  # pragma: no cover


def describe(row: pd.Series) -> str:
    """One line from a segment's profile numbers."""
    head = f"{row['size']:,.0f} customers ({row['share']:.0%})"
    if row.name == PROSPECT_ID:
        return f"{head}: registered, no purchase yet"
    if not row["size"]:
        return f"{head} in the training data"
    times = row["frequency_median"]
    bought = "once" if round(times) == 1 else f"{times:,.0f} times"
    return (
        f"{head}: typically bought {bought}, "
        f"last {row['recency_days_median']:,.0f} days ago; "
        f"{row['monetary_total_mean']:,.0f} spent on average"
    )


def _qualify(ids: pd.Index, profile: pd.DataFrame, reference: pd.DataFrame) -> dict[int, str]:
    """Qualifiers telling apart segments with the same rule name.

    The dimension is the one (of value, frequency, recency) on which their medians lie furthest
    apart relative to the population's interquartile range.
    """
    spread = {}
    for column in QUALIFIERS:
        iqr = reference.at[0.75, column] - reference.at[0.25, column]
        medians = profile.loc[ids, f"{column}_median"]
        spread[column] = (medians.max() - medians.min()) / (iqr if iqr > 0 else 1.0)
    column = max(spread, key=lambda c: (np.nan_to_num(spread[c], nan=-1.0), c))
    ordered = profile.loc[ids, f"{column}_median"].sort_values(ascending=False, kind="stable")
    words = dict(zip((2, 3), QUALIFIERS[column], strict=True)).get(len(ids))
    if words is None:  # four or more: rank them
        noun = column.split("_")[0]
        words = tuple(f"{noun} rank {i}" for i in range(1, len(ids) + 1))
    return dict(zip(ordered.index, words, strict=True))


def name_segments(profile: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """`name`, `description` and `action` of each segment of `profile` (id -1: Prospects).

    `profile` has `size`, `share`, `<feature>_median` for `SIGNAL_FEATURES` and
    `monetary_total_mean`, indexed by segment id; `reference` the population's 25/50/75th
    percentiles (rows 0.25, 0.5, 0.75) of the same features. Rules (`SEGMENT_RULES`, first
    match wins; signals in `signals`; actions in `ACTIONS`):

    | name                       | when                                   | action             |
    |----------------------------|----------------------------------------|--------------------|
    | Champions                  | recent, frequent and high value        | VIP care           |
    | Big spenders slipping away | high value, lapsing or slowing         | win-back, personal |
    | Loyal                      | frequent, not lapsing                  | nurture, cross-sell|
    | Promising newcomers        | short tenure and recent                | onboarding         |
    | Lost                       | very long recency, low value           | suppress/last offer|
    | Hibernating                | lapsing or slowing, low value, not freq| newsletter only    |
    | At risk                    | lapsing or slowing (medium value)      | reactivation       |
    | Occasional buyers          | none of the above                      | regular campaigns  |

    Segments given the same name are told apart by a qualifier in brackets, e.g. "Lost (higher
    value)" and "Lost (lower value)", on the dimension where they differ most (`_qualify`).
    """
    medians = profile[[f"{c}_median" for c in SIGNAL_FEATURES]]
    medians.columns = list(SIGNAL_FEATURES)
    rules = {
        sid: PROSPECT_NAME if sid == PROSPECT_ID else rule_name(signals(row, reference))
        for sid, row in medians.iterrows()
    }
    name = pd.Series(rules, dtype=object)
    for _, group in name.groupby(name):
        if len(group) > 1:
            for sid, word in _qualify(group.index, profile, reference).items():
                name[sid] = f"{name[sid]} ({word})"
    repeated = name.duplicated(keep=False)
    name[repeated] = [f"{n} [{i}]" for i, n in name[repeated].items()]  # last resort
    out = pd.DataFrame({"name": name})
    out["description"] = [describe(row) for _, row in profile.iterrows()]
    out["action"] = [ACTIONS[rule] for rule in rules.values()]
    return out.join(profile)
