"""Settings of the feature builder, the labels and the training frames (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FeatureSpec:
    """Which windows and trend ratios to build, and how countries map to regions."""

    windows: list[int] = field(default_factory=lambda: [30, 90, 180, 365])
    # (recent, longer) window pairs: the recent window's rate over the longer window's rate
    trends: list[list[int]] = field(default_factory=lambda: [[30, 90], [90, 365], [180, 365]])
    regions: dict[str, str] = field(default_factory=dict)
    # BG/NBD and Gamma-Gamma outputs, fitted at each as_of, over these horizons
    btyd: bool = True
    horizon_days: int = 90
    repurchase_days: int = 30


@dataclass
class LabelSpec:
    """Outcome windows after `as_of` and which customers are labelled.

    `active_within_days`: only customers with a purchase in that many days up to `as_of` are
    eligible; None keeps every customer with a purchase on or before `as_of`.
    """

    horizon_days: int = 90
    repurchase_days: int = 30
    active_within_days: int | None = None


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
