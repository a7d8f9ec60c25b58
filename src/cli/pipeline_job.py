"""The main job behind scripts/pipeline.py (`make demo`): train, score every customer into the
output and the ledger, plan the retention contacts, backfill past entries, judge them, and
report.

Everything is computed once: the last day's features built for training are the rows scored,
the report is gathered from the scored blocks, the SHAP views logged with the model are the
report's, and the backfilled entries are scored from the training frame's rows.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from custlens import training
from custlens.cli import monitor_job, plan_job, report_job, score_job, train_job
from custlens.cli.output import check_output
from custlens.cli.runs import tracked
from custlens.config import run_settings, to_spec, training_spec
from custlens.config.settings import ReportSettings
from custlens.engines import EngineSpec, open_engine
from custlens.monitoring.monitor import came_true
from custlens.plan import PlanSettings
from custlens.reporting.aggregates import ScoredBase, shap_sample
from custlens.reporting.report import explain_drivers


def command(cfg: DictConfig) -> None:
    """Refuse unusable outputs and settings before training; train, register, score, backfill,
    monitor and report."""
    run = run_settings(cfg)
    output = Path(cfg.scores.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    check_output(output, overwrite=cfg.scores.overwrite)  # refuse before hours of training
    settings = to_spec(cfg.report, ReportSettings)
    if settings.output:  # the default path is only known once the data's last day is
        check_output(settings.output, settings.overwrite, suffixes=(".html",))
    book = score_job.ledger_root(cfg)
    plan = to_spec(cfg.plan, PlanSettings)
    with tracked(cfg) as tracked_run:
        result = train_job.run(cfg)
        trained = result.trained
        if trained.scorer is not None:
            last_day = str(trained.frame.last)
            base = ScoredBase(plan=plan)
            with (
                open_engine(to_spec(cfg.engine, EngineSpec), run.threads) as con,
                score_job.ledger_writer(book, trained.scorer, last_day, cfg.data.name) as entry,
            ):
                score_job.run(
                    result.loaded, last_day, trained.scorer, output,
                    overwrite=cfg.scores.overwrite, chunk_size=run.chunk_size, con=con,
                    threads=run.threads, features=trained.today, observe=base, record=entry,
                )  # fmt: skip
                plan_job.run(plan_job.read_scores(str(output)), plan, Path(cfg.plan_output), True)
                sentences = None
                if book is not None:
                    backfill(cfg, trained, book)
                    judged = monitor_job.run(
                        result.loaded, cfg, con, Path(cfg.monitor_output),
                        f"Monitoring {cfg.data.name}", trained.today,
                    )  # fmt: skip
                    sentences = came_true(judged)
            drivers = result.drivers or explain_drivers(
                trained.scorer, shap_sample(trained.today, settings.shap_rows, settings.seed),
                settings.seed,
            )  # fmt: skip
            report_job.write(
                base, trained.scorer, cfg.data.name, result.loaded, settings, drivers,
                came_true=sentences,
            )  # fmt: skip
        if tracked_run is not None:
            print(f"Tracked as MLflow run {tracked_run.info.run_id} ({cfg.tracking.uri})")


def backfill(cfg: DictConfig, trained: training.Trained, book: Path) -> None:
    """`cfg.backfill` past entries of the ledger, a horizon apart, each scored by a model
    trained only on what was known before its date (from the training frame)."""
    spec = training_spec(cfg)
    days = training.spaced_cutoffs(trained.frame, cfg.backfill, spec.horizon_days)
    for done in training.backfill(trained.frame, spec, days, previous=trained.segmenter):
        score_job.record_backfilled(book, done, cfg.data.name)
