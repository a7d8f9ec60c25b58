"""Training as a library: typed settings and a log in, the trained models, their out-of-time
evaluation and the scorer out. No Hydra and no MLflow: the commands compose a config, turn it
into a `TrainingSpec` (custlens.config), call `train`, then log and register what it returns;
`custlens.train` calls the same function on a DataFrame.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from datetime import date, timedelta
from typing import Any

import ibis
import pandas as pd

from custlens import runtime
from custlens.data.load import LoadedData
from custlens.engines.local import borrowed
from custlens.errors import CustlensError
from custlens.features.build import ATTRIBUTE_PREFIX, build_features
from custlens.features.catalogue import catalogue, context_features
from custlens.features.frames import can_judge, data_span, rolling_cutoffs, training_frame
from custlens.features.labels import OUTCOMES
from custlens.features.source import as_table
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from custlens.models import rules
from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.models.estimators.training import ModelSettings, out_of_time
from custlens.models.evaluation.pipeline import (
    BacktestSummary,
    Evaluation,
    Models,
    backtest,
    fit_models,
    summarise,
)
from custlens.models.levels import Constants, Levels, daily_orders, sample_of
from custlens.models.rules import ScoringSettings
from custlens.models.tasks import SUPERVISED, TASKS, default_settings
from custlens.monitoring.reference import Reference, build_reference
from custlens.scoring.scorer import Scorer

SEGMENTATION = "segmentation"
ALL_TASKS = (SEGMENTATION, *SUPERVISED)


@dataclass
class TrainingSpec:
    """Everything training reads besides the log. The prediction windows are the features'
    (`features.horizon_days`, `features.repurchase_days`); `models` holds each task's
    settings (the task's defaults where absent); `segmenter` is the segmentation class (or a
    factory taking `random_state` and `previous`) and `segmentation` its other settings;
    `tasks` what to train (all of them to export a scorer)."""

    features: FeatureSpec = field(default_factory=FeatureSpec)
    labels: LabelSpec = field(default_factory=LabelSpec)
    frames: FrameSpec = field(default_factory=FrameSpec)
    models: dict[str, ModelSettings] = field(default_factory=default_settings)
    segmenter: Callable[..., Any] = CustomerSegmenter
    segmentation: dict[str, Any] = field(default_factory=dict)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    tasks: tuple[str, ...] = ALL_TASKS
    seed: int = 42
    threads: int | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tasks if t not in ALL_TASKS]
        if unknown:
            raise CustlensError(f"unknown task(s) {unknown}: choose among {', '.join(ALL_TASKS)}")
        for name in self.supervised:
            missing = [t for t in TASKS[name].needs if t not in self.tasks]
            if missing:
                raise CustlensError(f"task {name} needs {', '.join(missing)} trained with it")
        extra = [t for t in self.models if t not in TASKS]
        if extra:
            raise CustlensError(f"models: unknown task(s) {extra}; tasks are {', '.join(TASKS)}")
        self.models = {**default_settings(), **self.models}
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise CustlensError(f"seed must be a whole number, not {self.seed!r}")
        runtime.thread_count(self.threads)  # refuses a bad count

    @property
    def horizon_days(self) -> int:
        """The prediction horizon: churn and value are over the next `horizon_days`."""
        return self.features.horizon_days

    @property
    def supervised(self) -> list[str]:
        """The supervised tasks to train, in the registry's order."""
        return [t for t in SUPERVISED if t in self.tasks]

    @property
    def exports_scorer(self) -> bool:
        """Whether every model is trained, so that a scorer can be assembled."""
        return set(self.tasks) >= set(ALL_TASKS)

    def model_settings(self) -> dict[str, ModelSettings]:
        """Each task's settings with the run's seed and thread count."""
        n_jobs = runtime.thread_count(self.threads)
        return {
            t: replace(s, random_state=self.seed, n_jobs=n_jobs) for t, s in self.models.items()
        }

    def model_features(self) -> tuple[str, ...]:
        """The allow-list of model inputs: the feature catalogue's names."""
        return tuple(f.name for f in catalogue(self.features))

    def fingerprint(self) -> str:
        """A short hash of every setting, stored with the model."""
        text = json.dumps(_plain(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def of(cls, horizon_days: int | None = None, **settings: Any) -> TrainingSpec:
        """A spec from keyword settings (the Python API): each a field of this class, given as
        its dataclass or as a dict of its fields; `models` as {task: ModelSettings or dict of
        overrides of the task's defaults}; `horizon_days` and `repurchase_days` set the
        features' windows."""
        known = {f.name: f for f in fields(cls)}
        windows = (
            {"repurchase_days": settings.pop("repurchase_days")}
            if ("repurchase_days" in settings)
            else {}
        )
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise CustlensError(
                f"unknown training setting(s) {unknown}; known: horizon_days, repurchase_days, "
                + ", ".join(known)
            )
        values: dict[str, Any] = {}
        for name, value in settings.items():
            kind = {"features": FeatureSpec, "labels": LabelSpec, "frames": FrameSpec,
                    "scoring": ScoringSettings}.get(name)  # fmt: skip
            values[name] = _as(kind, value, name) if kind else value
        if "models" in values:
            values["models"] = _models(values["models"])
        features = values.get("features", FeatureSpec())
        if horizon_days is not None:
            windows["horizon_days"] = horizon_days
        values["features"] = _as(FeatureSpec, {**asdict(features), **windows}, "features")
        return cls(**values)


def _as(kind: type, value: Any, name: str) -> Any:
    if isinstance(value, kind):
        return value
    if not isinstance(value, dict):
        raise CustlensError(f"{name} must be a {kind.__name__} or a dict of its fields")
    try:
        return kind(**value)
    except TypeError as exc:
        raise CustlensError(f"{name}: {exc}") from None


def _models(given: dict[str, Any]) -> dict[str, ModelSettings]:
    out = {}
    for task, value in given.items():
        if task not in TASKS:
            raise CustlensError(f"models: unknown task {task!r}; tasks are {', '.join(TASKS)}")
        if isinstance(value, dict):
            merged = {**asdict(TASKS[task].defaults()), **value}
            out[task] = _as(ModelSettings, merged, f"models.{task}")
        else:
            out[task] = value
    return out


def _plain(value: Any) -> Any:
    """A spec as JSON-able values (classes and factories by their qualified names)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
    return value


@dataclass(frozen=True)
class Frame:
    """The stacked training frame (features and labels at rolling cutoffs), the span of the
    history it was built from and its daily orders."""

    rows: pd.DataFrame
    cutoffs: list[date]
    first: date
    last: date
    horizon_days: int
    daily: pd.Series | None = None  # orders per day of the whole log (for the levels)

    @property
    def judgeable(self) -> bool:
        """Whether a model can be trained on some cutoffs and tested on a later one."""
        return can_judge(self.cutoffs, self.horizon_days)


def build_frame(
    transactions: Any, spec: TrainingSpec, con: ibis.BaseBackend | None = None
) -> Frame:
    """The training frame `spec` describes, built on the engine `con`: features and labels at
    rolling cutoffs over the history."""
    with borrowed(con) as engine:
        first, last = data_span(transactions, engine)
        cutoffs = rolling_cutoffs(first, last, spec.horizon_days, spec.frames)
        rows = training_frame(
            transactions,
            cutoffs,
            spec.features,
            spec.labels,
            engine,
            spec.frames.customer_share,
        )
        daily = daily_orders(as_table(transactions, engine))
    return Frame(rows, cutoffs, first, last, spec.horizon_days, daily)


def training_cutoffs(first: date, test: date, spec: TrainingSpec) -> list[date]:
    """The cutoffs training would use on a log ending a horizon after `test` (the last of them
    is `test`): a backtest's grid for that test cutoff. Refused when none could train a model
    judged at `test`."""
    horizon, test = spec.horizon_days, pd.Timestamp(test).date()
    grid = rolling_cutoffs(first, test + timedelta(days=horizon), horizon, spec.frames)
    if not grid or grid[0] + timedelta(days=horizon) > test:
        raise CustlensError(
            f"no training before the test cutoff {test}: the history from {first} leaves no "
            f"labelled cutoff (frames.min_history_days={spec.frames.min_history_days}, horizon "
            f"{horizon} days) whose labels end by it; use fewer cutoffs or a smaller step_days"
        )
    return grid


def fit(rows: pd.DataFrame, spec: TrainingSpec, *, intervals: bool = True) -> Models:
    """The supervised models of `spec` fitted on every row of a training frame."""
    return fit_models(
        rows,
        spec.features,
        spec.model_settings(),
        spec.supervised,
        features=spec.model_features(),
        intervals=intervals,
    )


def judge(
    rows: pd.DataFrame, spec: TrainingSpec, cutoff: Any = None, daily: pd.Series | None = None
) -> Evaluation:
    """The supervised models trained on what was known at `cutoff` (default: the frame's
    latest) and judged on its rows against every task's baselines, strictly out of time, at
    that day's levels (from the log's `daily` orders up to it)."""
    return backtest(
        rows,
        spec.features,
        spec.model_settings(),
        spec.supervised,
        cutoff,
        features=spec.model_features(),
        daily=daily,
        scoring=spec.scoring,
    )


def fit_segmenter(
    today: pd.DataFrame, spec: TrainingSpec, previous: CustomerSegmenter | None = None
) -> CustomerSegmenter:
    """The segmentation of the customers known on the last day, ids matched to `previous`."""
    try:
        segmenter = spec.segmenter(**spec.segmentation, random_state=spec.seed, previous=previous)
    except TypeError as exc:  # an unknown setting of the segmenter
        raise CustlensError(f"segmentation: {exc}") from None
    return segmenter.fit(today)


def model_inputs(today: pd.DataFrame) -> pd.DataFrame:
    """The feature rows without customer-table attributes: those are not model inputs, and
    scoring may come with or without them."""
    return today[[c for c in today.columns if not c.startswith(ATTRIBUTE_PREFIX)]]


def assemble_scorer(
    models: Models,
    segmenter: CustomerSegmenter,
    today: pd.DataFrame,
    frame: Frame,
    summary: BacktestSummary | None,
    spec: TrainingSpec,
) -> Scorer:
    """The scorer of the trained models, its cut points drawn from the last day's rows."""
    inputs = model_inputs(today)
    constants = Constants.of(frame.rows)
    scorer = Scorer(
        models=models,
        segmenter=segmenter,
        rfm_edges=rules.rfm_edges(today),
        outputs={
            name: TASKS[name].output_settings(model, today, spec.scoring, constants)
            for name, model in models.items()
        },
        feature_dtypes={c: str(inputs[c].dtype) for c in inputs.columns if c != "as_of"},
        catalogue=catalogue(spec.features),
        trained_through=str(frame.rows["as_of"].max().date()),
        data_start=str(frame.first),
        horizon_days=spec.horizon_days,
        spec_hash=spec.fingerprint(),
        feature_spec=spec.features,
        backtest=summary,
        constants=constants,
        levelled=spec.scoring.levels,
    )
    scorer.trained_levels = scorer.levels_on(
        pd.Timestamp(frame.last), sample_of(today), frame.daily
    )
    scorer.reference = reference_of(scorer, today, frame, summary, spec)
    return scorer


def reference_of(
    scorer: Scorer,
    today: pd.DataFrame,
    frame: Frame,
    summary: BacktestSummary | None,
    spec: TrainingSpec,
) -> Reference:
    """What the monitor will compare this scorer's later scores with: the features' and the
    scores' distributions on the last day and their natural drift in the training frame (each
    day's scores at that day's levels), the segment shares, and the backtest's promise (with
    the interval's nominal coverage)."""
    promised = [] if summary is None else list(summary.promised)
    level = scorer.outputs.get("clv", {}).get("interval_level")
    if level:
        promised.append({"task": "clv", "metric": "interval_coverage", "value": level,
                         "lower": level, "upper": level})  # fmt: skip

    def scores(part: pd.DataFrame) -> pd.DataFrame:
        day = pd.Timestamp(part["as_of"].iloc[0])
        table = scorer.predictions(part, scorer.levels_on(day, part, frame.daily))
        return table[[c for c in scorer.watched if c in table]]

    context = context_features(spec.features)
    return build_reference(
        scores,
        [c for c in spec.model_features() if c not in context],
        today,
        frame.rows,
        scorer.segmenter.predict_named(today)["segment_name"],
        promised,
        spec.seed,
    )


@dataclass
class Trained:
    """What `train` produced: the frame, the out-of-time evaluation (None when the history is
    too short to judge), the fitted models and segmenter, the features of every customer on
    the last day (as scoring builds them, with `as_of`) and the scorer (when every task was
    trained)."""

    frame: Frame
    evaluation: Evaluation | None
    summary: BacktestSummary | None
    models: Models
    segmenter: CustomerSegmenter | None
    today: pd.DataFrame
    scorer: Scorer | None


def train(
    data: LoadedData,
    spec: TrainingSpec,
    *,
    previous: CustomerSegmenter | None = None,
    con: ibis.BaseBackend | None = None,
) -> Trained:
    """Train what `spec.tasks` asks for on a loaded log: the frame and the last day's features
    on the engine `con`, the out-of-time judgement, the final models, the segmentation (ids
    matched to `previous`) and, when everything was trained, the scorer."""
    runtime.use_threads(runtime.thread_count(spec.threads))
    tx = data.transactions
    with borrowed(con) as engine:
        frame = build_frame(tx, spec, engine)
        # As scoring builds them, so that a pipeline scores these rows without rebuilding.
        today = build_features(
            tx, frame.last, spec.features, data.customers_as_of(frame.last), con=engine
        )
    today.insert(1, "as_of", pd.Timestamp(frame.last))
    evaluation = summary = None
    if spec.supervised and frame.judgeable:
        evaluation = judge(frame.rows, spec, daily=frame.daily)
        summary = summarise(evaluation, spec.horizon_days, spec.seed)
    models = fit(frame.rows, spec)
    segmenter = fit_segmenter(today, spec, previous) if SEGMENTATION in spec.tasks else None
    scorer = None
    if spec.exports_scorer:
        scorer = assemble_scorer(models, segmenter, today, frame, summary, spec)
    return Trained(frame, evaluation, summary, models, segmenter, today, scorer)


@dataclass(frozen=True)
class Backfilled:
    """A scorer trained only on what was known at `cutoff`, and its scores of the customers
    the frame holds at that cutoff (with their feature rows)."""

    cutoff: pd.Timestamp
    scorer: Scorer
    features: pd.DataFrame
    scores: pd.DataFrame
    levels: Levels | None = None


def backfill(
    frame: Frame,
    spec: TrainingSpec,
    cutoffs: list[Any],
    *,
    previous: CustomerSegmenter | None = None,
) -> Iterator[Backfilled]:
    """For each cutoff: the scorer `train` would have made on a log ending at that cutoff (its
    models fitted on the frame's rows whose labels end by it, judged out of time where the
    history allows, its segments matched to `previous`), and its scores of the customers with
    a purchase by then: entries of the ledger scored afterwards, honestly."""
    for cutoff in cutoffs:
        day = pd.Timestamp(cutoff)
        known, at = out_of_time(frame.rows["as_of"], day, spec.horizon_days)
        if not known.any() or not at.any():
            raise CustlensError(
                f"cannot backfill {day.date()}: the frame needs rows at it and rows whose "
                f"{spec.horizon_days}-day labels end by it"
            )
        rows = frame.rows.loc[known]
        past = Frame(rows, sorted({d.date() for d in rows["as_of"]}), frame.first, day.date(),
                     spec.horizon_days, frame.daily)  # fmt: skip
        summary = (
            summarise(judge(rows, spec, daily=frame.daily), spec.horizon_days, spec.seed)
            if (past.judgeable)
            else None
        )
        today = frame.rows.loc[at].drop(columns=list(OUTCOMES)).reset_index(drop=True)
        segmenter = fit_segmenter(today, spec, previous)
        scorer = assemble_scorer(fit(rows, spec), segmenter, today, past, summary, spec)
        scorer.model_version = f"backfill/{day.date()}"
        levels = scorer.trained_levels  # the cutoff is its last training day
        yield Backfilled(day, scorer, today, scorer.score_features(today, levels), levels)


def spaced_cutoffs(frame: Frame, count: int, step_days: int) -> list[pd.Timestamp]:
    """Up to `count` cutoffs of the frame whose labels have ended, the latest first then
    about `step_days` apart, ascending: the dates a demo or a monitor backfills."""
    days = sorted(pd.to_datetime(frame.rows["as_of"]).unique())
    chosen: list[pd.Timestamp] = []
    target = days[-1] if days else None
    while target is not None and len(chosen) < count:
        day = min(days, key=lambda d: abs(d - target))
        if chosen and day >= chosen[-1]:
            break
        chosen.append(pd.Timestamp(day))
        target = day - pd.Timedelta(days=step_days)
    return sorted(chosen)


def needed_history_days(spec: TrainingSpec) -> int:
    """Days of history an out-of-time test needs: feature history, a labelled horizon, then a
    second horizon to test on."""
    return spec.frames.min_history_days + 2 * spec.horizon_days


__all__ = [
    "Frame",
    "Trained",
    "TrainingSpec",
    "build_frame",
    "fit",
    "judge",
    "train",
    "training_cutoffs",
]
