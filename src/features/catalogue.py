"""The feature catalogue: name, family, unit, definition and kind of every feature.

It fixes the builder's output columns, their order and dtypes, and gives each feature a plain
label for reports. `docs/features.md` is generated from it (tools/feature_catalogue.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from custlens.features.families import BASKET_RECENT_DAYS, WEEKDAYS
from custlens.features.spec import FeatureSpec

DTYPES = {
    "count": "int64",  # zero when the customer has no such event
    "amount": "float64",  # currency; zero when the customer has no such event
    "number": "float64",  # NaN when undefined (a ratio over zero, a gap with one purchase)
    "category": "string",
    "flag": "bool",
}


def inline(label: str) -> str:
    """A label inside a sentence: first letter lower-cased unless it starts an acronym."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


@dataclass(frozen=True)
class Feature:
    """One output column of the feature builder."""

    name: str
    family: str
    unit: str
    definition: str
    kind: str = "number"  # a key of DTYPES
    label: str = ""  # a short plain-language name for plots and reports
    # A property of the scoring date, the same for every customer scored together: it moves
    # no customer against another, so it is never a reason nor a driver in the global views.
    context: bool = False

    @property
    def title(self) -> str:
        """The label, or the definition when no label was given, capitalised."""
        text = self.label or self.definition
        return text[:1].upper() + text[1:]

    @property
    def dtype(self) -> str:
        """The pandas dtype of the column."""
        return DTYPES[self.kind]


def _base() -> list[Feature]:
    f = Feature
    return [
        f(
            "has_purchase",
            "status",
            "yes/no",
            "at least one purchase on or before as_of",
            "flag",
            "has bought",
        ),
        f(
            "recency_days",
            "rfm",
            "days",
            "days from the last purchase day to as_of",
            label="days since last purchase",
        ),
        f(
            "frequency",
            "rfm",
            "orders",
            "purchase orders on or before as_of",
            "count",
            label="number of orders",
        ),
        f(
            "monetary_total",
            "rfm",
            "currency",
            "net revenue to date (purchases minus returns)",
            "amount",
            label="revenue to date",
        ),
        f(
            "monetary_mean",
            "rfm",
            "currency",
            "mean net value of a purchase order",
            label="average order value",
        ),
        f(
            "monetary_max",
            "rfm",
            "currency",
            "largest net value of a purchase order",
            label="largest order value",
        ),
        f(
            "tenure_days",
            "tenure",
            "days",
            "days from the first purchase day to as_of",
            label="days since first purchase",
        ),
        f(
            "inactive_days",
            "tenure",
            "days",
            "days since any line, purchase or return",
            label="days since any activity",
        ),
        f(
            "orders_per_month",
            "tenure",
            "orders/month",
            "orders per month since the first",
            label="orders per month",
        ),
    ]


def _windows(spec: FeatureSpec) -> list[Feature]:
    out = []
    for w in spec.windows:
        out.append(
            Feature(
                f"orders_{w}d",
                "windows",
                "orders",
                f"purchase orders in the last {w} days",
                "count",
            )
        )
        out.append(
            Feature(
                f"revenue_{w}d",
                "windows",
                "currency",
                f"net revenue in the last {w} days",
                "amount",
            )
        )
    out.append(
        Feature(
            "orders_last_season",
            "windows",
            "orders",
            f"purchase orders in the same {spec.horizon_days} days a year earlier "
            "(the coming horizon, one year back)",
            "count",
            label="orders in the same season last year",
        )
    )
    out.append(
        Feature(
            "revenue_last_season",
            "windows",
            "currency",
            f"net revenue in the same {spec.horizon_days} days a year earlier",
            "amount",
            label="revenue in the same season last year",
        )
    )
    for recent, longer in spec.trends:
        for what in ("orders", "revenue"):
            out.append(
                Feature(
                    f"trend_{what}_{recent}_{longer}d",
                    "windows",
                    "ratio",
                    f"{what} per day in the last {recent} days over {what} per day in the last "
                    f"{longer} days (1 = steady, above 1 = speeding up)",
                    label=f"{what} trend, last {recent} vs {longer} days",
                )
            )
    return out


def _rhythm_basket_returns() -> list[Feature]:
    f = Feature
    return [
        f(
            "gap_mean",
            "rhythm",
            "days",
            "mean gap between purchase days",
            label="average days between purchases",
        ),
        f(
            "gap_median",
            "rhythm",
            "days",
            "median gap between purchase days (the usual gap)",
            label="usual days between purchases",
        ),
        f(
            "gap_std",
            "rhythm",
            "days",
            "standard deviation of the gaps between purchase days",
            label="variability of days between purchases",
        ),
        f(
            "last_gap",
            "rhythm",
            "days",
            "gap before the last purchase day",
            label="days between the last two purchases",
        ),
        f(
            "overdue_ratio",
            "rhythm",
            "ratio",
            "days since the last purchase over the usual gap",
            label="how overdue (x usual gap)",
        ),
        f("lines_per_order", "basket", "lines", "product lines per purchase order"),
        f("units_per_order", "basket", "units", "units per purchase order"),
        f("distinct_products", "basket", "products", "distinct products bought", "count"),
        f(
            "top_product_share",
            "basket",
            "share",
            "share of revenue in the top product",
            label="share of spend on favourite product",
        ),
        f(
            "return_ratio",
            "returns",
            "share",
            "returned value over gross purchase value",
            label="share of value returned",
        ),
        f("cancelled_orders", "returns", "orders", "orders made only of returns", "count"),
        f(
            "months_active_365d",
            "rhythm",
            "months",
            "distinct calendar months with a purchase in the last 365 days",
            "count",
            label="months with a purchase in the last year",
        ),
        f(
            "basket_lines_trend",
            "basket",
            "ratio",
            f"product lines per purchase order in the last {BASKET_RECENT_DAYS} days over "
            "product lines per purchase order to date (1 = unchanged)",
            label=f"basket size trend, last {BASKET_RECENT_DAYS} days",
        ),
        f(
            "basket_value_trend",
            "basket",
            "ratio",
            f"purchase value per order in the last {BASKET_RECENT_DAYS} days over purchase "
            "value per order to date (1 = unchanged)",
            label=f"order value trend, last {BASKET_RECENT_DAYS} days",
        ),
    ]


def _calendar_geo_btyd() -> list[Feature]:
    f = Feature
    out = [
        f(f"share_{d}", "calendar", "share", f"share of orders placed on {d.title()}")
        for d in WEEKDAYS
    ]
    out += [
        f(f"share_q{q}", "calendar", "share", f"share of orders placed in quarter {q}")
        for q in range(1, 5)
    ]
    return out + [
        f(
            "first_purchase_month",
            "calendar",
            "month",
            "month (1-12) of the first purchase",
            label="month of first purchase",
        ),
        f(
            "as_of_day_of_year",
            "calendar",
            "day",
            "day of the year of as_of (seasonality)",
            label="time of year",
            context=True,
        ),
        f(
            "country",
            "geography",
            "",
            "country of most of the customer's orders",
            "category",
            "country",
        ),
        f(
            "region",
            "geography",
            "",
            "region of that country (configured map)",
            "category",
            "region",
        ),
        f(
            "btyd_frequency",
            "probabilistic",
            "days",
            "repeat purchase days (BG/NBD x)",
            "count",
            label="repeat purchase days",
        ),
        f(
            "btyd_recency_days",
            "probabilistic",
            "days",
            "first to last purchase day (t_x)",
            label="days from first to last purchase",
        ),
        f(
            "btyd_monetary",
            "probabilistic",
            "currency",
            "mean value of repeat purchase days",
            label="average repeat purchase value",
        ),
    ]


def _btyd_outputs(spec: FeatureSpec) -> list[Feature]:
    if not spec.btyd:
        return []
    h, r = spec.horizon_days, spec.repurchase_days
    f = Feature
    return [
        f(
            "btyd_p_alive",
            "probabilistic",
            "probability",
            "BG/NBD probability still active",
            label="chance still active (BG/NBD)",
        ),
        f(
            "btyd_expected_orders",
            "probabilistic",
            "orders",
            f"BG/NBD expected purchase days in the next {h} days",
            label=f"expected purchases, next {h} days (BG/NBD)",
        ),
        f(
            "btyd_p_order",
            "probabilistic",
            "probability",
            f"BG/NBD probability of a purchase in the next {h} days",
            label=f"chance of buying, next {h} days (BG/NBD)",
        ),
        f(
            "btyd_p_repurchase",
            "probabilistic",
            "probability",
            f"BG/NBD probability of a purchase in the next {r} days",
            label=f"chance of buying, next {r} days (BG/NBD)",
        ),
        f(
            "btyd_expected_spend",
            "probabilistic",
            "currency",
            "Gamma-Gamma expected value of a purchase day",
            label="expected spend per purchase (Gamma-Gamma)",
        ),
        f(
            "btyd_expected_value",
            "probabilistic",
            "currency",
            f"BG/NBD x Gamma-Gamma expected revenue in the next {h} days",
            label=f"expected revenue, next {h} days (BG/NBD)",
        ),
    ]


def catalogue(spec: FeatureSpec) -> list[Feature]:
    """Every feature the builder returns, in output order (after `customer_id`)."""
    return [
        *_base(),
        *_windows(spec),
        *_rhythm_basket_returns(),
        *_calendar_geo_btyd(),
        *_btyd_outputs(spec),
    ]


def context_features(spec: FeatureSpec | None = None) -> frozenset[str]:
    """The features that describe the scoring date rather than the customer."""
    return frozenset(f.name for f in catalogue(spec or FeatureSpec()) if f.context)
