"""A backtest over several cutoffs, with the uncertainty of every comparison.

Each test cutoff gets its own training on only what was known before it (an `Evaluation` of
`custlens.models.evaluation.pipeline.backtest`); this module turns a list of them into one
table: per cutoff and pooled over the cutoffs, every headline metric of custlens and of every
baseline, and custlens's paired difference to the best baseline with a 95% bootstrap interval
(customers resampled within each cutoff; the pooled difference is the mean over the cutoffs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.models.evaluation.metrics import Metric
from custlens.models.evaluation.pipeline import PLAN, Evaluation, judged_metrics
from custlens.models.tasks import TASKS

POOLED = "pooled"


def backtest_cutoffs(latest: date, count: int, step_days: int) -> list[date]:
    """`count` test cutoffs `step_days` apart, ascending, the last one `latest`."""
    if count < 1 or step_days < 1:
        raise CustlensError(
            f"need at least one cutoff a day or more apart, not {count}, {step_days}"
        )
    return [latest - timedelta(days=step_days * k) for k in reversed(range(count))]


@dataclass(frozen=True)
class Comparison:
    """One metric of custlens against the best baseline at one cutoff (or pooled)."""

    cutoff: str
    task: str
    metric: str
    custlens: float
    baseline: str
    baseline_value: float
    difference: float  # custlens minus the baseline (lower-is-better metrics: still so)
    low: float
    high: float

    @property
    def better(self) -> bool:
        """Whether custlens's point estimate is at least the baseline's."""
        metric = next(m for m in judged_metrics(self.task) if m.name == self.metric)
        return metric.better(self.custlens, self.baseline_value)


def _value(metric: Metric, y: np.ndarray, score: np.ndarray) -> float:
    try:
        return metric(y, score)
    except CustlensError:  # undefined on this sample (no positives, no value)
        return float("nan")


def _eligible(evaluation: Evaluation, task: str, metric: Metric) -> list[str]:
    """Baselines judged on `metric`: probability metrics only for probability scorers, an
    interval's coverage only for scorers with an interval."""
    scores = evaluation.scores[task]
    return [
        name
        for name, scored in scores.items()
        if name != "custlens"
        and (scored.probability or not metric.probability)
        and (metric.name in scored.extra or not metric.interval)
    ]


def _best(values: dict[str, float], metric: Metric) -> str | None:
    finite = {k: v for k, v in values.items() if np.isfinite(v)}
    if not finite:
        return None
    if metric.target is not None:
        return min(finite, key=lambda k: abs(finite[k] - metric.target))
    pick = min if metric.lower_is_better else max
    return pick(finite, key=finite.get)


def compare(
    evaluations: list[Evaluation], resamples: int = 500, seed: int = 0
) -> list[Comparison]:
    """Per cutoff and pooled, every metric of every task (custlens.models.tasks): custlens
    against its best baseline."""
    rng = np.random.default_rng(seed)
    boots = [_Bootstrap(e, rng.integers(0, e.rows, size=(resamples, e.rows))) for e in evaluations]
    out: list[Comparison] = []
    for task in [*TASKS, PLAN]:
        judged = [b for b in boots if task in b.evaluation.scores]
        for metric in judged_metrics(task) if judged else ():
            out += _compare_metric(judged, task, metric)
    return out


@dataclass
class _Bootstrap:
    """One cutoff's resamples of its customers, and each scorer's metric on them (cached)."""

    evaluation: Evaluation
    draws: np.ndarray  # resamples x rows: row positions
    cache: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)

    def point(self, task: str, metric: Metric, name: str) -> float:
        e = self.evaluation
        return _value(metric, e.outcomes[task], e.scores[task][name].of(metric))

    def resampled(self, task: str, metric: Metric, name: str) -> np.ndarray:
        key = (task, metric.name, name)
        if key not in self.cache:
            y = self.evaluation.outcomes[task]
            score = self.evaluation.scores[task][name].of(metric)
            self.cache[key] = np.array(
                [_value(metric, y[rows], score[rows]) for rows in self.draws]
            )
        return self.cache[key]

    def gap(self, task: str, metric: Metric, baseline: str) -> np.ndarray:
        """custlens minus `baseline` on each resample."""
        return self.resampled(task, metric, "custlens") - self.resampled(task, metric, baseline)


def _compare_metric(boots: list[_Bootstrap], task: str, metric: Metric) -> list[Comparison]:
    names = set.intersection(*(set(_eligible(b.evaluation, task, metric)) for b in boots))
    if not names:
        return []
    out, point = [], {n: [] for n in ["custlens", *sorted(names)]}
    values_at = [{n: b.point(task, metric, n) for n in point} for b in boots]
    if any(_best({n: v[n] for n in names}, metric) is None for v in values_at):
        return []  # no baseline has a value at some cutoff: nothing to compare with
    for b, values in zip(boots, values_at, strict=True):
        for n, v in values.items():
            point[n].append(v)
        best = _best({n: values[n] for n in names}, metric)
        low, high = np.nanpercentile(b.gap(task, metric, best), [2.5, 97.5])
        out.append(
            Comparison(str(b.evaluation.cutoff.date()), task, metric.name, values["custlens"],
                       best, values[best], values["custlens"] - values[best], low, high)
        )  # fmt: skip
    pooled = {n: float(np.mean(v)) for n, v in point.items()}
    best = _best({n: pooled[n] for n in names}, metric)
    # Per resample, the mean over the cutoffs of custlens minus that baseline.
    gaps = np.mean([b.gap(task, metric, best) for b in boots], axis=0)
    low, high = np.nanpercentile(gaps, [2.5, 97.5])
    out.append(
        Comparison(POOLED, task, metric.name, pooled["custlens"], best, pooled[best],
                   pooled["custlens"] - pooled[best], low, high)
    )  # fmt: skip
    return out


def table(comparisons: list[Comparison]) -> pd.DataFrame:
    """The comparisons as rows, with whether custlens is at least the best baseline."""
    frame = pd.DataFrame([vars(c) for c in comparisons])
    frame["at_least_best"] = [c.better for c in comparisons]
    frame["interval_excludes_zero"] = (frame["low"] > 0) | (frame["high"] < 0)
    return frame


def scorer_values(evaluations: list[Evaluation]) -> pd.DataFrame:
    """Every scorer's metrics at every cutoff (the leaderboards, stacked)."""
    return pd.concat(
        [e.leaderboard.assign(cutoff=str(e.cutoff.date())) for e in evaluations],
        ignore_index=True,
    )
