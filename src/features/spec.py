"""Settings of the feature builder, the labels and the training frames (plain dataclasses that
check themselves when made)."""

from __future__ import annotations

from dataclasses import dataclass, field

from custlens.errors import CustlensError


def _positive(name: str, value: int | None, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CustlensError(f"{name} must be a whole number of days, at least 1, not {value!r}")


@dataclass
class FeatureSpec:
    """Which windows and trend ratios to build, how countries map to regions, and the
    prediction windows: `horizon_days` (churn, value, the BG/NBD columns, the same season last
    year) and `repurchase_days` (the repurchase label and its BG/NBD column). The labels are
    read over these same windows, so they are set once, here."""

    windows: list[int] = field(default_factory=lambda: [30, 90, 180, 365])
    # (recent, longer) window pairs: the recent window's rate over the longer window's rate
    trends: list[list[int]] = field(default_factory=lambda: [[30, 90], [90, 365], [180, 365]])
    regions: dict[str, str] = field(default_factory=dict)
    btyd: bool = True  # BG/NBD and Gamma-Gamma outputs, fitted at each as_of
    horizon_days: int = 90
    repurchase_days: int = 30
    # The days by which the timing curve gives the chance of the next order (with the
    # repurchase and horizon days among them); the next order is looked for up to the last.
    order_days: list[int] = field(default_factory=lambda: [7, 14, 30, 60, 90, 180])

    def __post_init__(self) -> None:
        for w in self.windows:
            _positive("features.windows", w)
        for pair in self.trends:
            if len(pair) != 2 or pair[0] >= pair[1]:
                raise CustlensError(f"features.trends pairs must be (recent, longer), not {pair}")
        _positive("horizon_days", self.horizon_days)
        _positive("repurchase_days", self.repurchase_days)
        if self.repurchase_days > self.horizon_days:
            raise CustlensError(
                f"repurchase_days ({self.repurchase_days}) must not exceed horizon_days "
                f"({self.horizon_days})"
            )
        for day in self.order_days:
            _positive("features.order_days", day)

    @property
    def curve_days(self) -> list[int]:
        """The timing curve's days: `order_days` with the repurchase and horizon days."""
        return sorted({*self.order_days, self.repurchase_days, self.horizon_days})


@dataclass
class LabelSpec:
    """Which customers are labelled. `active_within_days`: only customers with a purchase in
    that many days up to `as_of`; None keeps every customer with a purchase on or before it.
    (The label windows are the features' `horizon_days` and `repurchase_days`.)"""

    active_within_days: int | None = None

    def __post_init__(self) -> None:
        _positive("labels.active_within_days", self.active_within_days, allow_none=True)


@dataclass
class FrameSpec:
    """Rolling training origins: cutoffs every `step_days`, the latest whose label window fits,
    and optionally a stable sample of the customers."""

    step_days: int | None = None  # None: 14 days, fewer on short histories (`auto_step`)
    min_history_days: int = 90
    max_cutoffs: int | None = None
    # Train on this share of customers (the same ones at every cutoff), drawn before the
    # frame is collected from the engine; None keeps everyone.
    customer_share: float | None = None

    def __post_init__(self) -> None:
        _positive("frames.step_days", self.step_days, allow_none=True)
        _positive("frames.min_history_days", self.min_history_days)
        _positive("frames.max_cutoffs", self.max_cutoffs, allow_none=True)
        share = self.customer_share
        if share is not None and not 0 < share <= 1:
            raise CustlensError(f"frames.customer_share must be in (0, 1], not {share}")
