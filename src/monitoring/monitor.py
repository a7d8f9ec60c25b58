"""The monitor: every ledger entry judged once its windows close, the entries still open,
drift of the newest entry, segment migration, and a verdict (ok, watch, retrain) with one
line per reason. A library function: `scripts/monitor.py` writes, logs and exits on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from custlens.data.load import LoadedData
from custlens.engines.local import borrowed
from custlens.errors import CustlensError
from custlens.features.source import as_table
from custlens.models.tasks import TASKS
from custlens.monitoring import ledger
from custlens.monitoring.drift import ACT, WATCH, Thresholds, drift
from custlens.monitoring.migration import migration
from custlens.monitoring.realised import WORSE, Judged, judge_entries, open_entries

OK, RETRAIN = "ok", "retrain"
VERDICTS = (OK, WATCH, RETRAIN)
FAIL_ON = (None, WATCH, RETRAIN)


@dataclass
class MonitorSettings:
    """How the monitor judges: PSI thresholds (watch, act), thresholds of a mean's shift in
    reference standard deviations (watch, act), and the margin over the drift a column showed
    in training; metrics whose realised value below its promise calls for a
    retrain (any other metric below its promise calls for a watch); the share of customers new
    since training that calls for a watch; the bootstrap; and the verdict that makes
    `scripts/monitor.py` exit with code 3 (`fail_on`: null, watch or retrain)."""

    psi_watch: float = 0.1
    psi_act: float = 0.25
    shift_watch: float = 0.1
    shift_act: float = 0.25
    natural_margin: float = 2.0
    retrain_metrics: list[str] = field(
        default_factory=lambda: ["roc_auc", "gini", "ece", "value_bias"]
    )
    new_share_watch: float = 0.5
    resamples: int = 200
    max_rows: int = 20_000
    seed: int = 0
    fail_on: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.psi_watch < self.psi_act:
            raise CustlensError(
                f"monitor.psi_watch must be above 0 and below monitor.psi_act, not "
                f"{self.psi_watch} and {self.psi_act}"
            )
        if not 0 < self.shift_watch < self.shift_act:
            raise CustlensError(
                f"monitor.shift_watch must be above 0 and below monitor.shift_act, not "
                f"{self.shift_watch} and {self.shift_act}"
            )
        if self.natural_margin < 1:
            raise CustlensError(
                f"monitor.natural_margin must be at least 1, not {self.natural_margin}"
            )
        if self.fail_on not in FAIL_ON:
            raise CustlensError(
                f"monitor.fail_on must be null, watch or retrain, not {self.fail_on!r}"
            )
        if self.resamples < 10 or self.max_rows < 100:
            raise CustlensError("monitor.resamples must be at least 10 and max_rows at least 100")

    @property
    def thresholds(self) -> Thresholds:
        """The drift thresholds."""
        return Thresholds(
            self.psi_watch, self.psi_act, self.natural_margin, self.shift_watch, self.shift_act
        )


@dataclass
class MonitorResult:
    """Everything the monitor found, as tables (see `scripts/monitor.py` for the files)."""

    as_of: pd.Timestamp
    entries: list[ledger.Entry]
    metrics: pd.DataFrame
    open: pd.DataFrame
    drift: pd.DataFrame
    drift_summary: dict[str, float]
    migration: pd.DataFrame
    verdict: str
    reasons: list[str]
    judged: Judged

    def exit_code(self, fail_on: str | None) -> int:
        """3 when the verdict is at least `fail_on`, else 0."""
        if fail_on is None:
            return 0
        return 3 if VERDICTS.index(self.verdict) >= VERDICTS.index(fail_on) else 0


METRIC_COLUMNS = ["as_of", "model_version", "backfilled", "task", "segment", "metric",
                  "customers", "value", "baseline", "lower", "upper", "promised",
                  "promised_lower", "promised_upper", "status"]  # fmt: skip


def monitor(
    data: LoadedData,
    ledger_path: str | Path,
    as_of: str | None = None,
    settings: MonitorSettings | None = None,
    con: ibis.BaseBackend | None = None,
    features: pd.DataFrame | None = None,
) -> MonitorResult:
    """Judge the ledger at `ledger_path` against the log `data` (which runs past the scored
    dates), as of `as_of` (default: the log's last day). `features`: the feature rows of the
    newest entry's day, when the caller built them already (with their `as_of`)."""
    settings = settings or MonitorSettings()
    found = ledger.entries(ledger_path)
    if not found:
        raise CustlensError(f"the ledger at {ledger_path} holds no readable entry: score first")
    with borrowed(con) as engine:
        lines = as_table(data.transactions, engine)
        last = lines.timestamp.max().execute()
        day = pd.Timestamp(as_of).normalize() if as_of else pd.Timestamp(last).normalize()
        entries = [e for e in found if e.day <= day]
        if not entries:
            raise CustlensError(
                f"the ledger at {ledger_path} holds no entry scored on or before {day.date()}"
            )
        newest = entries[-1]
        if features is not None and pd.Timestamp(features["as_of"].iloc[0]) != newest.day:
            features = None  # of another day
        # The drift first: its feature build is the engine's largest, done before the judged
        # entries fill the process.
        drifted, summary = drift(
            newest, lines, data.customers_as_of(newest.as_of), engine, settings.thresholds,
            features,
        )  # fmt: skip
        judged = judge_entries(
            entries, lines, day, engine,
            resamples=settings.resamples, max_rows=settings.max_rows, seed=settings.seed,
        )  # fmt: skip
        opened = pd.DataFrame(open_entries(entries, lines, day, engine))
        moves = migration(entries, engine)
    table = pd.DataFrame(judged.rows, columns=METRIC_COLUMNS)
    verdict, reasons = decide(table, drifted, summary, settings)
    return MonitorResult(
        day, entries, table, opened, drifted, summary, moves, verdict, reasons, judged
    )


def decide(
    table: pd.DataFrame, drifted: pd.DataFrame, summary: dict[str, float], s: MonitorSettings
) -> tuple[str, list[str]]:
    """The verdict and its reasons, the most severe first: realised metrics of each task's
    newest judged entry below their promise; columns drifted past their thresholds; many
    customers new since training; segments moved."""
    found: list[tuple[str, str]] = []
    overall = table.loc[table["segment"] == ""]
    for task, rows in overall.groupby("task", sort=False):
        newest = rows.loc[rows["as_of"] == rows["as_of"].max()]
        for r in newest.itertuples():
            if r.status != WORSE:
                continue
            level = RETRAIN if r.metric in s.retrain_metrics else WATCH
            found.append((level, (
                f"{task} {r.metric} {r.value:.3f} [{r.lower:.3f}, {r.upper:.3f}] on the scores "
                f"of {r.as_of} ({r.model_version}) is worse than the backtest promised: "
                f"{r.promised:.3f} [{r.promised_lower:.3f}, {r.promised_upper:.3f}]"
            )))  # fmt: skip
    for r in drifted.itertuples():
        if r.status in (ACT, WATCH):
            found.append((RETRAIN if r.status == ACT else WATCH, drift_reason(r)))
    new = summary.get("new_share", float("nan"))
    if np.isfinite(new) and new > s.new_share_watch:
        found.append((WATCH, (
            f"{new:.0%} of the buyers are new since the model's training data ended "
            f"({summary['lag_days']:.0f} days before), above {s.new_share_watch:.0%}"
        )))  # fmt: skip
    if summary.get("segment_psi", 0.0) >= s.psi_act:
        found.append((WATCH, (
            f"the segments' shares moved: PSI {summary['segment_psi']:.3f} against the model's "
            f"reference, above {s.psi_act}"
        )))  # fmt: skip
    if not found:
        return OK, []
    found.sort(key=lambda f: -VERDICTS.index(f[0]))
    return found[0][0], [f"{level}: {text}" for level, text in found]


def drift_reason(r: object) -> str:
    """One line naming a drifted column, by the statistic that passed its threshold."""
    name = "act" if r.status == ACT else "watch"
    shift_limit = r.shift_act if r.status == ACT else r.shift_watch
    if np.isfinite(r.shift) and abs(r.shift) >= shift_limit:
        return (
            f"{r.kind} {r.column} drifted: its mean moved by {r.shift:+.3f} reference standard "
            f"deviations on {r.as_of}, beyond the {name} threshold {shift_limit:.3f} "
            f"(PSI {r.psi:.3f})"
        )
    limit = r.act if r.status == ACT else r.watch
    return (
        f"{r.kind} {r.column} drifted: PSI {r.psi:.3f} on {r.as_of} against the model's "
        f"reference, above the {name} threshold {limit:.3f}"
    )


def headline_rows(result: MonitorResult) -> pd.DataFrame:
    """The overall rows of each task's headline metric, one per entry."""
    table = result.metrics
    heads = {name: t.headline.name for name, t in TASKS.items()}
    keep = (table["segment"] == "") & (table["metric"] == table["task"].map(heads))
    return table.loc[keep]


def came_true(result: MonitorResult) -> list[str]:
    """A few plain sentences for the stakeholder report: how each task's newest judged scores
    did against their promise, what the value totals came to, and the verdict."""
    out = []
    heads = headline_rows(result)
    for task, rows in heads.groupby("task", sort=False):
        r = rows.loc[rows["as_of"] == rows["as_of"].max()].iloc[0]
        promised = (
            f"the backtest promised {r.promised:.2f} ({r.promised_lower:.2f} to "
            f"{r.promised_upper:.2f})"
            if np.isfinite(r.promised)
            else "no backtest promise"
        )
        out.append(
            f"The {TASKS[task].outcome} scored on {r.as_of} reached a "
            f"{TASKS[task].headline.label} of {r.value:.2f} once their outcome was known; "
            f"{promised}: {r.status or 'not compared'}."
        )
    if result.judged.totals:
        t = result.judged.totals[-1]
        gap = t["predicted"] / t["realised"] - 1 if t["realised"] else float("nan")
        out.append(
            f"The customers scored on {t['as_of']} were predicted to bring {t['predicted']:,.0f}; "
            f"{t['realised']:,.0f} came ({gap:+.0%})."
        )
    out.append(
        f"Monitor verdict as of {result.as_of.date()}: {result.verdict}"
        + (
            f" ({len(result.reasons)} reason(s), see the monitoring page)."
            if result.reasons
            else "."
        )
    )
    return out
