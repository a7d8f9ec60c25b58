"""The training job behind scripts/train.py: frames, backtest, final models, scorer, registry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import pandas as pd
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from custlens import runtime
from custlens.cli.config import to_spec
from custlens.cli.report_job import log_drivers
from custlens.cli.runs import load_data, tracked
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.explain.aggregates import shap_sample
from custlens.explain.report import Drivers, explain_drivers
from custlens.features.build import ATTRIBUTE_PREFIX, build_features
from custlens.features.catalogue import catalogue
from custlens.features.frames import can_judge, data_span, rolling_cutoffs, training_frame
from custlens.features.source import Transactions
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from custlens.models import rules
from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.models.estimators.training import ModelSettings
from custlens.models.evaluation import leaderboard, plots
from custlens.models.evaluation.pipeline import (
    BacktestSummary,
    Evaluation,
    backtest,
    fit_models,
    summarise,
)
from custlens.models.tasks import SUPERVISED
from custlens.scoring.scorer import Scorer
from custlens.tracking import mlflow_io, registry


def settings_of(cfg: DictConfig) -> dict[str, ModelSettings]:
    """Per-task LightGBM settings (`models.<task>`), with the run's seed and thread count."""
    run = {"random_state": cfg.seed, "n_jobs": runtime.thread_count(cfg.threads)}
    out = {}
    for task in SUPERVISED:
        values = OmegaConf.to_container(cfg.models[task], resolve=True)
        try:
            out[task] = ModelSettings(**values, **run)
        except TypeError as exc:  # an unknown key under models.<task>
            raise CustlensError(f"models.{task}: {exc}") from None
    return out


def build_frame(
    cfg: DictConfig, transactions: Transactions, con: ibis.BaseBackend
) -> tuple[pd.DataFrame, list[date], date, date]:
    """The training frame `cfg` describes, built on `con`: features and labels at rolling
    cutoffs over the history; with the cutoffs and the first and last days of data."""
    frames = FrameSpec(**cfg.frames)
    first, last = data_span(transactions, con)
    cutoffs = rolling_cutoffs(first, last, cfg.horizon_days, frames)
    frame = training_frame(
        transactions,
        cutoffs,
        to_spec(cfg.features, FeatureSpec),
        to_spec(cfg.labels, LabelSpec),
        con,
        frames.customer_share,
    )
    return frame, cutoffs, first, last


def config_hash(cfg: DictConfig) -> str:
    """A short hash of the resolved config, stored with the model."""
    text = OmegaConf.to_yaml(cfg, resolve=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def log_evaluation(evaluation: Evaluation) -> None:
    """One child run per task: metrics of the model and every baseline, and the plots."""
    board = evaluation.leaderboard
    for task, group in board.groupby("task", sort=False):
        with mlflow_io.child_run(task):
            mlflow_io.log_metrics(
                {
                    f"{row['scorer']}.{metric}": row[metric]
                    for _, row in group.iterrows()
                    for metric in group.columns[2:]
                    if pd.notna(row[metric])
                }
            )
            y, scores = evaluation.outcomes[task], evaluation.scores[task]
            if task == "clv":
                mlflow_io.log_figure(plots.decile_figure(y, scores), "plots/clv_deciles.png")
                continue
            probabilities = {n: s for n, s in scores.items() if ((s >= 0) & (s <= 1)).all()}
            mlflow_io.log_figure(plots.roc_figure(y, scores), f"plots/{task}_roc.png")
            mlflow_io.log_figure(plots.pr_figure(y, scores), f"plots/{task}_pr.png")
            mlflow_io.log_figure(plots.gain_figure(y, scores), f"plots/{task}_gain.png")
            mlflow_io.log_figure(
                plots.reliability_figure(y, probabilities), f"plots/{task}_calibration.png"
            )


def fit_segmenter(cfg: DictConfig, features: pd.DataFrame, previous: Any) -> CustomerSegmenter:
    """Clustering of the customers known at the last day, ids matched to the champion's.

    `segmentation._target_` names the segmenter class (CustomerSegmenter's interface)."""
    try:
        segmenter = instantiate(
            cfg.segmentation, random_state=cfg.seed, previous=previous, _convert_="all"
        )
    except InstantiationException as exc:  # an unknown class or setting
        raise CustlensError(f"segmentation: {exc}") from None
    segmenter.fit(features)
    with mlflow_io.child_run("segmentation"):
        mlflow_io.log_table(segmenter.selection_, "segmentation/selection.csv")
        mlflow_io.log_table(segmenter.segments_.reset_index(), "segmentation/segments.csv")
        mlflow_io.log_metrics({"n_segments": segmenter.n_segments_})
        profile = segmenter.segments_.set_index("name").select_dtypes("number")
        mlflow_io.log_figure(plots.segment_profile_figure(profile), "plots/segments.png")
    return segmenter


def previous_segmenter(name: str) -> Any:
    """The champion's segmenter, so segment ids survive retraining (None without a champion)."""
    if registry.champion(name) is None:
        return None
    return registry.load_scorer(f"models:/{name}@{registry.ALIAS}").segmenter


@dataclass
class TrainingResult:
    """What a training run produced: the data, the leaderboard, the exported scorer, the
    features of every customer on the last day (as scoring builds them) and, when the run was
    tracked, the SHAP views logged with it."""

    loaded: LoadedData
    last_day: Any
    leaderboard: pd.DataFrame | None
    scorer: Scorer | None
    today: pd.DataFrame | None = None
    drivers: Drivers | None = None


def run(cfg: DictConfig) -> TrainingResult:
    """Train what `cfg.model.tasks` asks for; the scorer when every model was trained."""
    loaded = load_data(cfg, show=True)
    tasks = list(cfg.model.tasks)
    fspec = to_spec(cfg.features, FeatureSpec)
    tx, horizon = loaded.transactions, cfg.horizon_days
    # Features and labels on the configured engine; the frames are collected for training.
    runtime.use_threads(runtime.thread_count(cfg.threads))
    with open_engine(to_spec(cfg.engine, EngineSpec), cfg.threads) as con:
        frame, cutoffs, first, last = build_frame(cfg, tx, con)
        # As scoring builds them, so that a pipeline scores these rows without rebuilding.
        today = build_features(tx, last, fspec, loaded.customers_as_of(last), con=con)
    mlflow_io.log_metrics({"frame.rows": len(frame), "frame.cutoffs": len(cutoffs)})
    supervised = [t for t in SUPERVISED if t in tasks]
    settings = settings_of(cfg)
    board, summary = None, None
    if supervised and can_judge(cutoffs, horizon):
        evaluation = backtest(frame, horizon, settings, supervised)
        board = evaluation.leaderboard
        summary = summarise(evaluation, horizon)
        log_evaluation(evaluation)
        text = leaderboard.format_leaderboard(board)
        mlflow_io.log_text(text, "leaderboard.txt")
        mlflow_io.log_table(board, "leaderboard.csv")
        mlflow_io.log_table(leaderboard.baseline_gaps(board), "baseline_gaps.csv")
        print(
            f"Backtest at {evaluation.cutoff.date()} ({evaluation.rows:,} customers, "
            f"horizon {horizon} days; blend and calibration chosen on "
            f"{evaluation.design}):\n{text}"
        )
    elif supervised:
        span = (last - first).days
        print(
            f"Not judged: the history covers {span} days ({first}..{last}); an out-of-time "
            f"test needs {cfg.frames.min_history_days + 2 * horizon} (feature history, a labelled "
            f"horizon, then a second horizon to test on). The models are trained and "
            f"exported without a backtest."
        )
        mlflow_io.log_text("not judged: the history is too short", "leaderboard.txt")
    models = fit_models(frame, horizon, settings, supervised)
    today.insert(1, "as_of", pd.Timestamp(last))
    name = cfg.register.name
    segmenter = None
    if "segmentation" in tasks:
        segmenter = fit_segmenter(cfg, today, _safe_previous(name))
    scorer, drivers = None, None
    if set(tasks) >= {"segmentation", *SUPERVISED}:
        scorer = build_scorer(cfg, models, segmenter, today, frame, summary, first)
        drivers = publish(cfg, scorer, today, frame, summary)
    return TrainingResult(loaded, last, board, scorer, today, drivers)


def _safe_previous(name: str) -> Any:
    try:
        return previous_segmenter(name)
    except Exception:  # noqa: BLE001 - an unreadable old champion must not block training
        return None


def publish(
    cfg: DictConfig,
    scorer: Scorer,
    today: pd.DataFrame,
    frame: pd.DataFrame,
    summary: BacktestSummary | None,
) -> Drivers | None:
    """In a tracked run: log the scorer with its SHAP views, register it and decide on the
    champion alias; returns the views (None when the run is not tracked)."""
    if not mlflow_io.tracking_active():
        return None
    drivers = explain_drivers(
        scorer, shap_sample(today, cfg.explain.shap_rows, cfg.seed), cfg.seed
    )
    with mlflow_io.child_run("explanations"):
        log_drivers(drivers)
    version, tags = log_and_register(cfg, scorer, today, frame, summary)
    promote_if_better(cfg, scorer, version, tags)
    return drivers


def build_scorer(
    cfg: DictConfig,
    models: Any,
    segmenter: CustomerSegmenter,
    today: pd.DataFrame,
    frame: pd.DataFrame,
    summary: BacktestSummary | None,
    first: Any,
) -> Scorer:
    """The scorer of the trained models, with the cut points drawn from the last day's rows."""
    fspec = to_spec(cfg.features, FeatureSpec)
    inputs = model_inputs(today)
    clv_today = models.clv.predict(today)
    _, thresholds = rules.value_tiers(clv_today, shares=tuple(cfg.scoring.tier_shares))
    quantiles = cfg.models.clv.quantiles
    return Scorer(
        models=models,
        segmenter=segmenter,
        rfm_edges=rules.rfm_edges(today),
        tier_thresholds=thresholds,
        risk_bands=tuple(cfg.scoring.risk_bands),
        feature_dtypes={c: str(inputs[c].dtype) for c in inputs.columns if c != "as_of"},
        catalogue=catalogue(fspec),
        trained_through=str(frame["as_of"].max().date()),
        data_start=str(first),
        horizon_days=cfg.horizon_days,
        config_hash=config_hash(cfg),
        quantiles=(min(quantiles), max(quantiles)) if len(quantiles) >= 2 else None,
        feature_spec=fspec,
        backtest=summary,
    )


def model_inputs(today: pd.DataFrame) -> pd.DataFrame:
    """The feature rows without customer-table attributes: those are not model inputs, and
    scoring may come with or without them."""
    return today[[c for c in today.columns if not c.startswith(ATTRIBUTE_PREFIX)]]


def log_and_register(
    cfg: DictConfig,
    scorer: Scorer,
    today: pd.DataFrame,
    frame: pd.DataFrame,
    summary: BacktestSummary | None,
) -> tuple[str, dict[str, str]]:
    """Log the scorer as a pyfunc in the active run and register it; returns its version and
    its tags (what the champion decision compares)."""
    info = registry.log_scorer(scorer, model_inputs(today))
    score = float("nan") if summary is None else leaderboard.headline_score(summary.leaderboard)
    fingerprint = f"{cfg.data.name}|{frame['as_of'].max().date()}|{cfg.horizon_days}|{len(frame)}"
    tags = {
        "backtest_fingerprint": fingerprint,
        "headline_score": f"{score:.6f}",
        "config_hash": scorer.config_hash,
    }
    return registry.register(info.model_uri, cfg.register.name, tags), tags


def promote_if_better(cfg: DictConfig, scorer: Scorer, version: str, tags: dict[str, str]) -> bool:
    """Move the champion alias to `version` when `cfg.register.promote` and the comparison with
    the current champion say so; the scorer is named after its version either way."""
    name = cfg.register.name
    current = registry.champion(name)
    promote, why = leaderboard.should_promote(
        float(tags["headline_score"]),
        tags["backtest_fingerprint"],
        None if current is None else dict(current.tags),
        cfg.register.promote,
    )
    if promote:
        registry.promote(name, version)
    mlflow_io.log_text(
        f"version {version}: {'promoted' if promote else 'kept'} ({why})", "registry.txt"
    )
    print(
        f"Registered {name} version {version}; champion: "
        f"{'this version' if promote else 'unchanged'} ({why})"
    )
    scorer.model_version = f"{name}/{version}"
    return promote


def command(cfg: DictConfig) -> None:
    """scripts/train.py: one tracked run (a child run per model) around `run`."""
    with tracked(cfg):
        run(cfg)
