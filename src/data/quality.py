"""The data-quality report: what came in, what each cleaning rule did, what was kept."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class RuleEffect:
    """Rows and revenue one cleaning rule removed or flagged."""

    rule: str
    action: str  # "removed", "flagged" or "netted"
    rows: int
    revenue: float
    description: str


@dataclass(frozen=True)
class QualityReport:
    """Counts before and after cleaning, one entry per rule, in the order the rules ran."""

    source: str
    rows_in: int
    customers_in: int
    revenue_in: float
    effects: tuple[RuleEffect, ...]
    rows_out: int
    customers_out: int
    orders_out: int
    revenue_kept: float
    first_timestamp: str | None
    last_timestamp: str | None

    def effect(self, rule: str) -> RuleEffect:
        """The effect of one rule by name."""
        return next(e for e in self.effects if e.rule == rule)

    def to_frame(self) -> pd.DataFrame:
        """One row per rule (rule, action, rows, revenue, description)."""
        return pd.DataFrame([asdict(e) for e in self.effects])

    def to_dict(self) -> dict[str, object]:
        """Plain data, ready for JSON."""
        out = asdict(self)
        out["effects"] = [asdict(e) for e in self.effects]
        return out

    def metrics(self) -> dict[str, float]:
        """Flat numeric summary, one key per figure, for experiment tracking."""
        figures: dict[str, float] = {
            "rows_in": self.rows_in,
            "customers_in": self.customers_in,
            "revenue_in": self.revenue_in,
            "rows_out": self.rows_out,
            "customers_out": self.customers_out,
            "orders_out": self.orders_out,
            "revenue_kept": self.revenue_kept,
        }
        for e in self.effects:
            figures[f"{e.action}_rows.{e.rule}"] = e.rows
            figures[f"{e.action}_revenue.{e.rule}"] = e.revenue
        return {f"quality.{k}": float(v) for k, v in figures.items()}

    def format(self) -> str:
        """A plain-text table for the terminal."""
        lines = [
            f"Data quality: {self.source}",
            f"  rows in {self.rows_in:>12,}   customers {self.customers_in:>8,}"
            f"   revenue {self.revenue_in:>16,.2f}",
            f"  {'rule':<28}{'action':<9}{'rows':>12}{'revenue':>18}",
        ]
        for e in self.effects:
            lines.append(f"  {e.rule:<28}{e.action:<9}{e.rows:>12,}{e.revenue:>18,.2f}")
        lines += [
            f"  rows kept {self.rows_out:>10,}   customers {self.customers_out:>8,}"
            f"   orders {self.orders_out:>9,}   revenue kept {self.revenue_kept:,.2f}",
            f"  dates {self.first_timestamp} .. {self.last_timestamp}",
        ]
        return "\n".join(lines)
