"""The multi-cutoff backtest behind scripts/backtest.py.

For each test cutoff t (the data's last day minus the horizon, then `step_days` earlier, ...)
the models are trained exactly as `scripts/train.py` would train them on a log ending at
t + horizon: on the rolling cutoffs up to t whose labels end by t. Every baseline is scored on
the same rows. The features of every cutoff of every test's training are built once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from custlens import training
from custlens.cli import score_job
from custlens.cli.output import save_figure_atomically, write_atomically, write_text_atomically
from custlens.cli.runs import load_data, tracked
from custlens.config import to_spec, training_spec
from custlens.engines import EngineSpec, open_engine
from custlens.features.frames import data_span, training_frame
from custlens.features.source import as_table
from custlens.models.evaluation import backtest as bt
from custlens.models.evaluation import plots
from custlens.models.evaluation.pipeline import Evaluation
from custlens.models.levels import daily_orders
from custlens.tracking import mlflow_io


@dataclass
class BacktestResult:
    """The evaluations at each cutoff and the comparisons drawn from them."""

    evaluations: list[Evaluation]
    table: pd.DataFrame  # bt.table: per cutoff and pooled, custlens against the best baseline
    values: pd.DataFrame  # every scorer's metrics at every cutoff
    seed: int  # of the models and of the bootstrap


def run(cfg: DictConfig) -> BacktestResult:
    """Train and judge at every test cutoff; compare with the uncertainty."""
    loaded = load_data(cfg, show=True)
    spec = training_spec(cfg)
    horizon = spec.horizon_days
    with open_engine(to_spec(cfg.engine, EngineSpec), spec.threads) as con:
        first, last = data_span(loaded.transactions, con)
        tests = bt.backtest_cutoffs(
            last - timedelta(days=horizon), cfg.cutoffs, cfg.step_days or horizon
        )
        grids = {t: training.training_cutoffs(first, t, spec) for t in tests}
        days = sorted({day for grid in grids.values() for day in grid})
        frame = training_frame(
            loaded.transactions, days, spec.features, spec.labels, con, spec.frames.customer_share
        )
        daily = daily_orders(as_table(loaded.transactions, con))
    evaluations = []
    book = score_job.ledger_root(cfg) if cfg.backfill else None
    for t in tests:
        part = frame.loc[frame["as_of"].isin([pd.Timestamp(d) for d in grids[t]])]
        evaluations.append(training.judge(part, spec, daily=daily))
        print(f"cutoff {t}: {evaluations[-1].rows:,} customers, {evaluations[-1].design}")
        if book is not None:  # the same training, with every model, recorded in the ledger
            past = training.Frame(part, grids[t], first, last, horizon, daily)
            for done in training.backfill(past, spec, [t]):
                score_job.record_backfilled(book, done, cfg.data.name)
    table = bt.table(bt.compare(evaluations, cfg.resamples, spec.seed))
    return BacktestResult(evaluations, table, bt.scorer_values(evaluations), spec.seed)


def write(result: BacktestResult, folder: Path, command: str) -> dict[str, Path]:
    """The comparison table (CSV), every scorer's metrics (CSV), the figure and a Markdown
    page into `folder`; the same logged to the active run."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "table": folder / "backtest.csv",
        "values": folder / "scorers.csv",
        "figure": folder / "backtest.png",
        "page": folder / "backtest.md",
    }
    write_atomically(result.table, paths["table"])
    write_atomically(result.values, paths["values"])
    figure = plots.backtest_figure(result.values)
    save_figure_atomically(figure, paths["figure"])
    write_text_atomically(markdown(result, command), paths["page"])
    mlflow_io.log_table(result.table, "backtest/backtest.csv")
    mlflow_io.log_table(result.values, "backtest/scorers.csv")
    mlflow_io.log_figure(figure, "backtest/backtest.png")
    pooled = result.table.loc[result.table["cutoff"] == bt.POOLED]
    mlflow_io.log_metrics(
        {f"pooled.{r.task}.{r.metric}.{k}": getattr(r, k)
         for r in pooled.itertuples() for k in ("custlens", "difference", "low", "high")}
    )  # fmt: skip
    return paths


def printed(table: pd.DataFrame) -> str:
    """The comparison table for a terminal."""
    shown = table.assign(
        interval=[
            f"[{lo:+.4f}, {hi:+.4f}]" for lo, hi in zip(table["low"], table["high"], strict=True)
        ]
    )
    columns = ["task", "metric", "cutoff", "custlens", "baseline", "baseline_value",
               "difference", "interval", "at_least_best"]  # fmt: skip
    return shown[columns].round(4).to_string(index=False)


def markdown(result: BacktestResult, command: str) -> str:
    """A page of the results: the command, the cutoffs, one table per task."""
    e = result.evaluations
    lines = [
        "# Backtest over several cutoffs",
        "",
        "Generated by",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Seed {result.seed}. "
        f"Test cutoffs {', '.join(str(x.cutoff.date()) for x in e)}; each with its own "
        f"training on what was known before it; {', '.join(f'{x.rows:,}' for x in e)} "
        "customers judged. For every metric: custlens, the best baseline at that cutoff (pooled: "
        "over the cutoffs), custlens minus it and the 95% bootstrap interval of that difference "
        "(customers resampled within each cutoff; pooled: the mean of the cutoffs' differences). "
        "Lower is better for ECE, Brier and decile MAPE.",
    ]
    for task, rows in result.table.groupby("task", sort=False):
        lines += [
            "",
            f"## {task}",
            "",
            "| metric | cutoff | custlens | best baseline | difference | 95% interval "
            "| at least the best |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows.itertuples():
            lines.append(
                f"| {r.metric} | {r.cutoff} | {r.custlens:.4f} | {r.baseline} "
                f"{r.baseline_value:.4f} | {r.difference:+.4f} | [{r.low:+.4f}, {r.high:+.4f}] "
                f"| {'yes' if r.at_least_best else 'no'} |"
            )
    return "\n".join(lines) + "\n"


def command(cfg: DictConfig) -> None:
    """scripts/backtest.py: train, judge and compare at every cutoff in one tracked run; print
    the table and write it, every scorer's metrics, a figure and a page into `cfg.output`."""
    with tracked(cfg):
        result = run(cfg)
        print(printed(result.table))
        command_line = " ".join([".venv/bin/python scripts/backtest.py", *sys.argv[1:]])
        paths = write(result, Path(cfg.output), command_line)
        print(f"Written to {paths['page'].parent}: " + ", ".join(p.name for p in paths.values()))
