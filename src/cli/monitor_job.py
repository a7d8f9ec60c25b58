"""The monitoring job behind scripts/monitor.py (and the end of the main pipeline): judge the
ledger, write the tables, the verdict and the page, log them, and exit with code 3 when the
verdict reaches `monitor.fail_on`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from custlens.cli.output import write_atomically, write_text_atomically
from custlens.cli.runs import load_data, tracked
from custlens.config import run_settings, to_spec
from custlens.config.settings import LedgerSettings
from custlens.data import LoadedData
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.monitoring import page
from custlens.monitoring.monitor import MonitorResult, MonitorSettings, headline_rows, monitor
from custlens.tracking import mlflow_io

EPOCH = pd.Timestamp("1970-01-01")


def ledger_path(cfg: DictConfig) -> str:
    """The configured ledger, which the monitor cannot do without."""
    path = to_spec(cfg.ledger, LedgerSettings).path
    if not path:
        raise CustlensError("the monitor reads the ledger: set ledger.path=FOLDER")
    if not Path(path).is_dir():
        raise CustlensError(f"no ledger at {path}: score with ledger.path={path} first")
    return path


def step_of(day: str | pd.Timestamp) -> int:
    """A date as an MLflow step: days since 1970-01-01."""
    return int((pd.Timestamp(day) - EPOCH).days)


def write(result: MonitorResult, folder: Path, title: str) -> dict[str, Path]:
    """The monitor's tables, verdict and page into `folder`, each file atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in (
        "metrics.csv", "open.csv", "drift.csv", "migration.csv", "verdict.json", "monitor.html"
    )}  # fmt: skip
    write_atomically(result.metrics, paths["metrics.csv"])
    write_atomically(result.open, paths["open.csv"])
    write_atomically(result.drift, paths["drift.csv"])
    write_atomically(result.migration, paths["migration.csv"])
    verdict = {
        "as_of": str(result.as_of.date()),
        "verdict": result.verdict,
        "reasons": result.reasons,
        "entries": len(result.entries),
        "judged_entries": int(result.metrics["as_of"].nunique()) if len(result.metrics) else 0,
    }
    write_text_atomically(json.dumps(verdict, indent=2), paths["verdict.json"])
    write_text_atomically(page.render(result, title), paths["monitor.html"])
    return paths


def log(result: MonitorResult, paths: dict[str, Path]) -> None:
    """Realised metrics with the scored date as their step, the drift, the verdict, the files."""
    overall = result.metrics.loc[result.metrics["segment"] == ""]
    for as_of, rows in overall.groupby("as_of"):
        values = {f"{r.task}.{r.metric}": r.value for r in rows.itertuples()}
        values |= {f"{r.task}.{r.metric}.bgnbd": r.baseline for r in rows.itertuples()}
        mlflow_io.log_metrics(values, step=step_of(as_of))
    summary = {f"drift.{k}": v for k, v in result.drift_summary.items()}
    if len(result.drift):
        summary["drift.max_psi"] = float(result.drift["psi"].max())
    summary["verdict"] = ("ok", "watch", "retrain").index(result.verdict)
    mlflow_io.log_metrics(summary, step=step_of(result.as_of))
    for path in paths.values():
        mlflow_io.log_file(path, "monitor")


def run(
    loaded: LoadedData,
    cfg: DictConfig,
    con: object,
    output: Path,
    title: str,
    features: pd.DataFrame | None = None,
) -> MonitorResult:
    """Judge, write, log and print; returns the result (`features`: the newest entry's
    feature rows, when built already)."""
    settings = to_spec(cfg.monitor, MonitorSettings)
    result = monitor(loaded, ledger_path(cfg), cfg.get("as_of"), settings, con, features)
    paths = write(result, output, title)
    log(result, paths)
    heads = headline_rows(result)
    if len(heads):
        shown = heads[["as_of", "task", "metric", "value", "lower", "upper", "promised", "status"]]
        print(f"Realised against promised:\n{shown.round(4).to_string(index=False)}")
    print(f"Monitor verdict as of {result.as_of.date()}: {result.verdict}")
    for reason in result.reasons:
        print(f"  - {reason}")
    print(f"Monitoring page written to {paths['monitor.html']}")
    return result


def command(cfg: DictConfig) -> None:
    """scripts/monitor.py: settings checked first; then load the log and judge the ledger."""
    settings = to_spec(cfg.monitor, MonitorSettings)
    ledger_path(cfg)
    threads = run_settings(cfg).threads
    with tracked(cfg), open_engine(to_spec(cfg.engine, EngineSpec), threads) as con:
        loaded = load_data(cfg, in_place=True)
        result = run(loaded, cfg, con, Path(cfg.output), f"Monitoring {cfg.data.name}")
    code = result.exit_code(settings.fail_on)
    if code:
        raise SystemExit(code)
