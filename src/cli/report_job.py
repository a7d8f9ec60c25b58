"""The report and explanation jobs behind scripts/report.py, scripts/explain.py, the end of the
main pipeline, and the SHAP plots logged with every training run."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from custlens.cli.output import check_output, save_figure_atomically, write_text_atomically
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.cli.score_job import default_model
from custlens.config import run_settings, to_spec
from custlens.config.settings import LedgerSettings, ReportSettings
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.models.tasks import EXPLAINED, TASKS
from custlens.monitoring import ledger
from custlens.monitoring.monitor import MonitorSettings, came_true, monitor
from custlens.plan import PlanSettings
from custlens.privacy import new_salt, pseudonym
from custlens.reporting import figures, shap_views
from custlens.reporting.aggregates import ScoredBase
from custlens.reporting.report import Drivers, build_report, explain_drivers, render
from custlens.scoring.batch import (
    DEFAULT_CHUNK,
    check_reconciliation,
    features_as_of,
    levels_as_of,
)
from custlens.scoring.blocks import score_in_blocks
from custlens.scoring.scorer import Scorer
from custlens.tracking import mlflow_io, registry

REPORTS = Path("reports")


def customer_outputs(output: str | None, customer_id: str, overwrite: bool) -> dict[str, Path]:
    """One checked image path per model: OUTPUT_<task>.png (default reports/customer_<id>)."""
    stem = Path(output) if output else REPORTS / f"customer_{customer_id}.png"
    if not output:
        REPORTS.mkdir(exist_ok=True)
    suffix = stem.suffix or ".png"
    return {
        task: check_output(
            stem.with_name(f"{stem.stem}_{task}{suffix}"), overwrite, suffixes=(".png", ".svg")
        )
        for task in EXPLAINED
    }


def default_report_path(data_name: str, as_of: str) -> Path:
    """reports/<data>_<as_of>.html, the folder created."""
    REPORTS.mkdir(exist_ok=True)
    return REPORTS / f"{data_name}_{as_of}.html"


def report_path(settings: ReportSettings, data_name: str, as_of: str) -> Path:
    """The checked output path of the report (refused before any work if unusable)."""
    path = settings.output or default_report_path(data_name, as_of)
    return check_output(path, settings.overwrite, suffixes=(".html",))


def run(
    loaded: LoadedData,
    as_of: str,
    scorer: Scorer,
    data_name: str,
    settings: ReportSettings,
    *,
    con: ibis.BaseBackend | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    came_true: list[str] | None = None,
    plan: PlanSettings | None = None,
) -> Path:
    """Score the customers as of `as_of` in blocks (memory follows the block), keeping only the
    report's aggregates, SHAP sample and (with `plan`) the retention plan's outline; explain
    the sample, build the report, write and log it."""
    output = report_path(settings, data_name, as_of)
    base = ScoredBase(settings.shap_rows, settings.seed, plan)
    check, _ = score_in_blocks(
        loaded, as_of, scorer, chunk_size=chunk_size, con=con, threads=threads, observe=base
    )
    check_reconciliation(check)
    drivers = explain_drivers(scorer, base.sample(), settings.seed)
    return write(base, scorer, data_name, loaded, settings, drivers, output, came_true)


def write(
    base: ScoredBase,
    scorer: Scorer,
    data_name: str,
    loaded: LoadedData,
    settings: ReportSettings,
    drivers: Drivers,
    output: Path | None = None,
    came_true: list[str] | None = None,
) -> Path:
    """Build the report from the scored base and the run's SHAP views (and the monitor's
    sentences on past scores); write it, log it."""
    output = output or report_path(settings, data_name, str(base.as_of.date()))
    report = build_report(
        base, scorer, data_name, loaded.report, settings.id_salt or new_salt(), drivers,
        came_true,
    )  # fmt: skip
    write_text_atomically(render(report), output)
    mlflow_io.log_file(output, "report")
    mlflow_io.log_metrics({"report.shap_rows": drivers.rows})
    print(f"Report on {base.customers:,} customers written to {output}")
    return output


def log_drivers(drivers: Drivers) -> None:
    """The SHAP views of every model, logged to the active run under explain/<model>/, with
    each model's importance table."""
    for key, image in drivers.images.items():
        mlflow_io.log_image(image, f"explain/{key}.png")
    for task, explained in drivers.explanations.items():
        mlflow_io.log_table(
            shap_views.importance(explained).rename("mean_abs_shap").reset_index(),
            f"explain/{task}/importance.csv",
        )


def explain_customer(
    loaded: LoadedData, as_of: str, scorer: Scorer, customer_id: str, outputs: dict[str, Path]
) -> pd.DataFrame:
    """A waterfall of one customer per model, saved to `outputs[task]`; returns the scores."""
    features = features_as_of(loaded.transactions, as_of, scorer, loaded.customers_as_of(as_of))
    found = features.index[features["customer_id"].astype(str) == str(customer_id)]
    if found.empty:
        raise CustlensError(
            f"customer {customer_id!r} has no transaction on or before {as_of} in this data"
        )
    row = features.loc[found]
    scores = scorer.score_features(row, levels_as_of(loaded.transactions, features, scorer))
    for task, path in outputs.items():
        explained = shap_views.explain(scorer, row, task)
        # Written locally only: a per-customer output is not logged to the shared store.
        save_figure_atomically(figures.waterfall(explained, 0), path)
        print(f"{TASKS[task].outcome.capitalize()} explained in {path}")
    return scores


def command(cfg: DictConfig) -> None:
    """scripts/report.py: refuse an unusable output first; then load, score in blocks,
    explain and write the page."""
    as_of = required_as_of(cfg)
    settings = to_spec(cfg.report, ReportSettings)
    run_ = run_settings(cfg)
    report_path(settings, cfg.data.name, as_of)
    model_uri = cfg.model_uri or default_model(cfg.data.name)
    with tracked(cfg):
        loaded = load_data(cfg)
        scorer = registry.load_scorer(model_uri)
        with open_engine(to_spec(cfg.engine, EngineSpec), run_.threads) as con:
            run(
                loaded, as_of, scorer, cfg.data.name, settings,
                con=con, chunk_size=run_.chunk_size, threads=run_.threads,
                came_true=past_scores(loaded, cfg, con), plan=to_spec(cfg.plan, PlanSettings),
            )  # fmt: skip


def past_scores(loaded: LoadedData, cfg: DictConfig, con: object) -> list[str] | None:
    """The monitor's sentences on the ledger's past scores, when there is a ledger to judge."""
    path = to_spec(cfg.ledger, LedgerSettings).path
    if not path or not ledger.entries(path):
        return None
    result = monitor(
        loaded, path, str(required_as_of(cfg)), to_spec(cfg.monitor, MonitorSettings), con
    )
    return came_true(result)


def explain_command(cfg: DictConfig) -> None:
    """scripts/explain.py: check the inputs and outputs first; then load, score and explain
    one customer. The run records the request under a pseudonym: logged artifacts name no
    real customer."""
    if cfg.customer_id is None or str(cfg.customer_id).strip() == "":
        raise CustlensError("customer_id is required: customer_id=ID")
    customer = str(cfg.customer_id)
    as_of = required_as_of(cfg)
    outputs = customer_outputs(cfg.output, customer, cfg.overwrite)
    model_uri = cfg.model_uri or default_model(cfg.data.name)
    with tracked(OmegaConf.merge(cfg, {"customer_id": pseudonym(customer, new_salt())})):
        loaded = load_data(cfg)
        scorer = registry.load_scorer(model_uri)
        scores = explain_customer(loaded, as_of, scorer, customer, outputs)
        print(scores.drop(columns=["as_of"]).T.to_string(header=False))
