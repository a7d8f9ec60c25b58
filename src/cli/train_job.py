"""The training job behind scripts/train.py: compose -> TrainingSpec -> custlens.training.train
-> log, register and decide on the champion."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from custlens import training
from custlens.cli.report_job import log_drivers
from custlens.cli.runs import load_data, tracked
from custlens.config import to_spec, training_spec
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensWarning
from custlens.models.evaluation import leaderboard, plots
from custlens.models.evaluation.pipeline import Evaluation
from custlens.models.tasks import TASKS
from custlens.reporting.aggregates import shap_sample
from custlens.reporting.report import Drivers, explain_drivers
from custlens.tracking import mlflow_io, registry


@dataclass
class TrainingResult:
    """What a training run produced: the data, what the library trained, and, when the run
    was tracked and a scorer exported, the SHAP views logged with it."""

    loaded: LoadedData
    trained: training.Trained
    drivers: Drivers | None = None


def run(cfg: DictConfig) -> TrainingResult:
    """Train what `cfg.model.tasks` asks for; log, register and promote the scorer when every
    model was trained."""
    loaded = load_data(cfg, show=True)
    spec = training_spec(cfg)
    previous = None
    if training.SEGMENTATION in spec.tasks:
        previous = previous_segmenter(cfg.register.name)
    with open_engine(to_spec(cfg.engine, EngineSpec), spec.threads) as con:
        trained = training.train(loaded, spec, previous=previous, con=con)
    frame = trained.frame
    mlflow_io.log_metrics({"frame.rows": len(frame.rows), "frame.cutoffs": len(frame.cutoffs)})
    if trained.evaluation is not None:
        show_evaluation(trained.evaluation)
    elif spec.supervised:
        span = (frame.last - frame.first).days
        print(
            f"Not judged: the history covers {span} days ({frame.first}..{frame.last}); an "
            f"out-of-time test needs {training.needed_history_days(spec)} (feature history, a "
            f"labelled horizon, then a second horizon to test on). The models are trained and "
            f"exported without a backtest."
        )
        mlflow_io.log_text("not judged: the history is too short", "leaderboard.txt")
    if trained.segmenter is not None:
        log_segmenter(trained.segmenter)
    result = TrainingResult(loaded, trained)
    if trained.scorer is not None:
        result.drivers = publish(cfg, trained)
    return result


def show_evaluation(evaluation: Evaluation) -> None:
    """Print the leaderboard; log it, every scorer's metrics and the plots (a child run per
    task)."""
    board = evaluation.leaderboard
    for task, group in board.groupby("task", sort=False):
        with mlflow_io.child_run(task):
            mlflow_io.log_metrics(
                {
                    f"{row['scorer']}.{metric}": row[metric]
                    for _, row in group.iterrows()
                    for metric in group.columns[2:]
                }
            )
            y, scores = evaluation.outcomes[task], evaluation.scores[task]
            figures = TASKS[task].figures(y, scores) if task in TASKS else {}
            for stem, figure in figures.items():
                mlflow_io.log_figure(figure, f"plots/{stem}.png")
    text = leaderboard.format_leaderboard(board)
    mlflow_io.log_text(text, "leaderboard.txt")
    mlflow_io.log_table(board, "leaderboard.csv")
    mlflow_io.log_table(leaderboard.baseline_gaps(board), "baseline_gaps.csv")
    print(
        f"Backtest at {evaluation.cutoff.date()} ({evaluation.rows:,} customers; blend and "
        f"calibration chosen on {evaluation.design}):\n{text}"
    )


def log_segmenter(segmenter: Any) -> None:
    """The number of segments chosen, the segments and their profile, in a child run."""
    with mlflow_io.child_run("segmentation"):
        mlflow_io.log_table(segmenter.selection_, "segmentation/selection.csv")
        mlflow_io.log_table(segmenter.segments_.reset_index(), "segmentation/segments.csv")
        mlflow_io.log_metrics({"n_segments": segmenter.n_segments_})
        profile = segmenter.segments_.set_index("name").select_dtypes("number")
        mlflow_io.log_figure(plots.segment_profile_figure(profile), "plots/segments.png")


def previous_segmenter(name: str) -> Any:
    """The champion's segmenter, so segment ids survive retraining (None without a champion).
    A champion that cannot be loaded is one warning naming it, and training goes on."""
    current = registry.champion(name)
    if current is None:
        return None
    try:
        return registry.load_scorer(f"models:/{name}@{registry.ALIAS}").segmenter
    except Exception as exc:  # noqa: BLE001 - whatever broke the old model, training goes on
        warnings.warn(
            f"the champion {name} version {current.version} could not be loaded "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}): the new "
            "segments are not matched to its segment ids, which may change",
            CustlensWarning,
            stacklevel=2,
        )
        return None


def publish(cfg: DictConfig, trained: training.Trained) -> Drivers | None:
    """In a tracked run: log the scorer with its SHAP views, register it and decide on the
    champion alias; returns the views (None when the run is not tracked)."""
    if not mlflow_io.tracking_active():
        return None
    scorer, seed = trained.scorer, cfg.seed
    drivers = explain_drivers(
        scorer, shap_sample(trained.today, cfg.explain.shap_rows, seed), seed
    )
    with mlflow_io.child_run("explanations"):
        log_drivers(drivers)
    info = registry.log_scorer(scorer, training.model_inputs(trained.today))
    summary = trained.summary
    score = float("nan") if summary is None else leaderboard.headline_score(summary.leaderboard)
    frame = trained.frame
    fingerprint = (
        f"{cfg.data.name}|{frame.rows['as_of'].max().date()}|{frame.horizon_days}|"
        f"{len(frame.rows)}"
    )
    tags = {
        "backtest_fingerprint": fingerprint,
        "headline_score": f"{score:.6f}",
        "config_hash": scorer.spec_hash,
    }
    version = registry.register(info.model_uri, cfg.register.name, tags)
    promote_if_better(cfg, scorer, version, tags)
    return drivers


def promote_if_better(cfg: DictConfig, scorer: Any, version: str, tags: dict[str, str]) -> bool:
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
