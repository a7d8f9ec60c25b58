"""Realised accuracy of ledger entries: each task judged once its window has closed, overall
and per segment, next to the BG/NBD baseline refitted at that as_of, with bootstrap intervals,
against the band the model promised; and, for windows still open, what has happened so far
against what the scores imply by now.

The population judged is the customers with a purchase before the as_of (the scored table's
lifecycle stage is not "prospect"), as the backtest that made the promise judged them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import ibis
import numpy as np
import pandas as pd
from ibis.expr.types import Table

from custlens.errors import CustlensError
from custlens.features.labels import label_table
from custlens.features.spec import FeatureSpec
from custlens.models.evaluation import metrics
from custlens.models.evaluation.uncertainty import estimate
from custlens.models.tasks import TASKS, Task
from custlens.models.tasks.base import ProbabilityTask, ValueTask
from custlens.models.tasks.timing import curve_columns
from custlens.monitoring.ledger import Entry, baseline_column
from custlens.monitoring.reference import Reference

AS_PROMISED, BETTER, WORSE = "as promised", "better", "worse"
MIN_SEGMENT_ROWS = 2_000
KEPT_TEXT = ("customer_id", "segment_name")  # the entry's only text columns judging reads
PROSPECT = "prospect"


def windows(horizon_days: int, repurchase_days: int) -> FeatureSpec:
    """The label windows of an entry (the features' own, as the labels are built)."""
    return FeatureSpec(
        horizon_days=horizon_days, repurchase_days=min(repurchase_days, horizon_days)
    )


def closed_tasks(entry: Entry, as_of: pd.Timestamp) -> list[Task]:
    """The entry's tasks whose outcome window has ended by `as_of`."""
    return [
        t
        for t in TASKS.values()
        if t.score_column in entry_columns(entry)
        and entry.closes(t.window_days(entry.horizon_days, entry.repurchase_days)) <= as_of
    ]


def entry_columns(entry: Entry) -> set[str]:
    """The columns an entry's rows hold (from the Parquet schema)."""
    import pyarrow.parquet as pq

    return set(pq.read_schema(entry.files[0]).names) if entry.files else set()


def labelled(
    entry: Entry, lines: Table, con: ibis.BaseBackend, days: int | None = None
) -> pd.DataFrame:
    """The entry's judged customers (no prospects) with their outcomes over its windows (or
    over `days` for every window, for an entry still open), computed by the engine."""
    rows = con.read_parquet(entry.files)
    rows = rows.filter(rows.lifecycle_stage != PROSPECT)
    # The scores, not the text: the reasons and actions would be most of the frame's memory.
    text = [c for c, kind in rows.schema().items() if kind.is_string() and c not in KEPT_TEXT]
    horizon = days if days is not None else entry.horizon_days
    spec = windows(horizon, entry.repurchase_days if days is None else days)
    outcome = label_table(lines, entry.day.date(), spec, rows.select("customer_id"))
    joined = rows.drop(*text).join(outcome, "customer_id").drop("customer_id")
    return joined.to_pyarrow().to_pandas(strings_to_categorical=True)


@dataclass
class Judged:
    """The realised accuracy of entries: one row per (entry, task, segment, metric), and what
    the page draws (the reliability of each probability task's newest judged entry, and each
    entry's predicted and realised totals)."""

    rows: list[dict] = field(default_factory=list)
    reliability: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    totals: list[dict] = field(default_factory=list)


def status(metric: metrics.Metric, value: float, lower: float, upper: float, promise: dict) -> str:
    """As promised when the realised interval meets the promised band; else better or worse."""
    if promise is None or not np.isfinite(value) or not np.isfinite(promise["value"]):
        return ""
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return ""  # no interval (a metric without a bootstrap): a hair's difference is no news
    if metric.target is not None and abs(value - metric.target) <= metric.tolerance:
        return AS_PROMISED  # on target within the metric's own tolerance
    p_low = promise["lower"] if np.isfinite(promise["lower"]) else promise["value"]
    p_high = promise["upper"] if np.isfinite(promise["upper"]) else promise["value"]
    if lower <= p_high and p_low <= upper:
        return AS_PROMISED
    return BETTER if metric.better(value, promise["value"]) else WORSE


def judge_task(
    task: Task,
    frame: pd.DataFrame,
    entry: Entry,
    reference: Reference,
    *,
    resamples: int,
    max_rows: int,
    seed: int,
) -> list[dict]:
    """Every monitored metric of one task on one entry, overall and per segment."""
    out = []
    codes, names = pd.factorize(frame["segment_name"])  # one pass over the text, not one each
    groups = [("", np.ones(len(frame), bool))]
    groups += [(str(name), codes == i) for i, name in enumerate(names)]
    y_all = task.outcome_of(frame)
    scores_all = task.monitored_scores(frame, entry.horizon_days)
    baseline_all = frame[baseline_column(task.name)].to_numpy(float)
    for segment, mask in groups:
        y = y_all[mask]
        # A segment's bootstrap draws its share of the rows (at least MIN_SEGMENT_ROWS): the
        # segments together cost what the whole population does.
        rows = max_rows if segment == "" else max(MIN_SEGMENT_ROWS, int(max_rows * mask.mean()))
        for m in task.monitored:
            if m.name not in scores_all:
                continue
            score = scores_all[m.name][mask]
            e = estimate(m, y, score, resamples=resamples, max_rows=rows, seed=seed)
            base = baseline_all[mask]
            baseline = float("nan")
            if not m.interval and not np.isnan(base).any():
                baseline = estimate(m, y, base, resamples=0).value
            promise = reference.promise(task.name, m.name) if segment == "" else None
            out.append(
                {
                    "as_of": entry.as_of,
                    "model_version": entry.model_version,
                    "backfilled": entry.backfilled,
                    "task": task.name,
                    "segment": segment,
                    "metric": m.name,
                    "customers": int(mask.sum()),
                    "value": e.value,
                    "baseline": baseline,
                    "lower": e.lower,
                    "upper": e.upper,
                    "promised": promise["value"] if promise else float("nan"),
                    "promised_lower": promise["lower"] if promise else float("nan"),
                    "promised_upper": promise["upper"] if promise else float("nan"),
                    "status": status(m, e.value, e.lower, e.upper, promise),
                }
            )
    return out


def judge_entries(
    entries: list[Entry],
    lines: Table,
    as_of: pd.Timestamp,
    con: ibis.BaseBackend,
    *,
    resamples: int = 200,
    max_rows: int = 20_000,
    seed: int = 0,
) -> Judged:
    """The realised accuracy of every entry with a closed task window by `as_of`.

    The next entry's labels are built on the engine while this one's tasks are judged, and
    the tasks are judged two at a time: both are mostly numpy sorts and sums, which release
    the interpreter lock, and the engine is used by one thread at a time."""
    judged = Judged()
    newest: dict[str, tuple] = {}
    due = [(e, t) for e in entries if (t := closed_tasks(e, as_of))]
    with ThreadPoolExecutor(1) as engine_thread, ThreadPoolExecutor(2) as workers:
        coming = engine_thread.submit(labelled, due[0][0], lines, con) if due else None
        for i, (entry, tasks) in enumerate(due):
            frame = coming.result()
            if i + 1 < len(due):
                coming = engine_thread.submit(labelled, due[i + 1][0], lines, con)
            if frame.empty:
                continue
            _judge_entry(judged, newest, entry, tasks, frame, workers, resamples, max_rows, seed)
    for name, (day, y, score, baseline) in newest.items():
        judged.reliability[name] = {
            "as_of": day,
            "custlens": metrics.reliability_table(y, score),
            "BG/NBD": metrics.reliability_table(y, baseline.clip(0, 1).fillna(0.5)),
        }
    return judged


def _judge_entry(
    judged: Judged,
    newest: dict[str, tuple],
    entry: Entry,
    tasks: list[Task],
    frame: pd.DataFrame,
    workers: ThreadPoolExecutor,
    resamples: int,
    max_rows: int,
    seed: int,
) -> None:
    """One labelled entry's tasks judged into `judged`, in the registry's order."""
    reference = Reference.from_dict(entry.reference) if entry.reference else Reference("", 0)
    settings = {"resamples": resamples, "max_rows": max_rows, "seed": seed}
    rows = [workers.submit(judge_task, t, frame, entry, reference, **settings) for t in tasks]
    for task, done in zip(tasks, rows, strict=True):
        judged.rows += done.result()
        if isinstance(task, ProbabilityTask):  # the newest judged entry's, drawn below
            newest[task.name] = (  # copies: a column can hold its frame's whole block
                entry.as_of, task.target(frame), frame[task.score_column].copy(),
                frame[baseline_column(task.name)].copy(),
            )  # fmt: skip
    value = next((t for t in tasks if isinstance(t, ValueTask)), None)
    if value is not None:
        judged.totals.append(
            {
                "as_of": entry.as_of,
                "model_version": entry.model_version,
                "predicted": float(frame[value.score_column].sum()),
                "realised": float(frame[value.label].sum()),
                "baseline": float(frame[baseline_column(value.name)].sum()),
            }
        )


def implied_order_share(frame: pd.DataFrame, entry: Entry, days: int) -> float:
    """The share of customers the scores say will have ordered within `days` of the as_of:
    each customer's chance by each day of the timing curve and each probability task's
    window (0 at the as_of), linear in between."""
    points = {0: np.zeros(len(frame))}
    for task in TASKS.values():
        if isinstance(task, ProbabilityTask) and task.score_column in frame:
            window = task.window_days(entry.horizon_days, entry.repurchase_days)
            points[window] = task.order_chance(frame[task.score_column].to_numpy(float))
    for t, column in curve_columns(frame.columns).items():
        points[t] = frame[column].to_numpy(float)
    ordered = sorted(points.items())
    days_at = np.array([d for d, _ in ordered], float)
    chances = np.maximum.accumulate(np.vstack([c for _, c in ordered]), axis=0)
    if days >= days_at[-1]:
        return float(chances[-1].mean())
    k = int(np.searchsorted(days_at, days, side="right"))
    share = (days - days_at[k - 1]) / (days_at[k] - days_at[k - 1])
    return float(((1 - share) * chances[k - 1] + share * chances[k]).mean())


def open_entries(
    entries: list[Entry], lines: Table, as_of: pd.Timestamp, con: ibis.BaseBackend
) -> list[dict]:
    """For each entry whose horizon is still open: the share of its customers who have
    ordered so far against the share its scores imply by now, and for each probability task
    still open the expected positives and ROC-AUC its probabilities promise (label-free,
    valid only while the probabilities are calibrated)."""
    out = []
    for entry in entries:
        elapsed = (as_of - entry.day).days
        if elapsed < 1 or entry.closes(entry.horizon_days) <= as_of:
            continue
        frame = labelled(entry, lines, con, days=elapsed)
        if frame.empty:
            continue
        row = {
            "as_of": entry.as_of,
            "model_version": entry.model_version,
            "elapsed_days": elapsed,
            "customers": len(frame),
            "ordered_so_far": float(1 - frame["churned"].astype(float).mean()),
            "implied_so_far": implied_order_share(frame, entry, elapsed),
        }
        for task in TASKS.values():
            window = task.window_days(entry.horizon_days, entry.repurchase_days)
            if isinstance(task, ProbabilityTask) and window > elapsed:
                p = frame[task.score_column].to_numpy(float)
                row[f"{task.name}_expected_positives"] = float(p.sum())
                try:
                    row[f"{task.name}_expected_roc_auc"] = metrics.expected_roc_auc(p)
                except CustlensError:
                    row[f"{task.name}_expected_roc_auc"] = float("nan")
        out.append(row)
    return out


def day(value: str | date | pd.Timestamp) -> pd.Timestamp:
    """A day as a timestamp at midnight."""
    return pd.Timestamp(value).normalize()
