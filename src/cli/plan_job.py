"""The retention plan behind scripts/plan.py (and the end of the main pipeline): read a scored
table or score first, choose whom to contact under the budget, write the plan and its outline,
print the totals and log them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from custlens.cli.output import check_output, write_atomically
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.cli.score_job import default_model
from custlens.config import run_settings, to_spec
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.plan import Plan, PlanSettings, horizon_of, make_plan
from custlens.scoring.blocks import score_transactions
from custlens.tracking import mlflow_io, registry

FILES = ("plan.csv", "plan_by_segment.csv", "budget_curve.csv")


def read_scores(path: str) -> pd.DataFrame:
    """A scored table written by scripts/score.py (.parquet, a file or a folder, or .csv)."""
    source = Path(path)
    if not source.exists():
        raise CustlensError(f"scored table not found: {path}")
    if source.suffix == ".csv":
        return pd.read_csv(source, parse_dates=["as_of"])
    if source.suffix == ".parquet":
        return pd.read_parquet(source)
    raise CustlensError(f"scores must be a .parquet or .csv scored table, not {path}")


def write(plan: Plan, folder: Path, overwrite: bool) -> dict[str, Path]:
    """The plan, its summary by segment and the budget curve into `folder`, atomically."""
    folder.mkdir(parents=True, exist_ok=True)  # a first run's folder
    paths = {name: check_output(folder / name, overwrite) for name in FILES}
    write_atomically(plan.rows, paths["plan.csv"])
    write_atomically(plan.outline.by_segment, paths["plan_by_segment.csv"])
    write_atomically(plan.outline.curve, paths["budget_curve.csv"])
    return paths


def report(plan: Plan, folder: Path) -> None:
    """Print and log the totals."""
    t = plan.outline.totals
    mlflow_io.log_metrics({f"plan.{k}": v for k, v in t.items()})
    mlflow_io.log_table(plan.outline.by_segment, "plan/plan_by_segment.csv")
    print(
        f"Plan: contact {int(t['contacts']):,} of {int(t['customers']):,} customers (the budget "
        f"pays for {int(t['affordable_contacts']):,}; {int(t['worth_contacting']):,} are worth "
        f"a contact); expected value kept {t['expected_value_kept']:,.0f}, cost "
        f"{t['cost']:,.0f}, net {t['net_value']:,.0f}, assuming a contact keeps "
        f"{t['save_rate']:.0%} of would-be lapsers. Written to {folder}"
    )
    print(plan.outline.by_segment.round(3).to_string(index=False))


def run(scores: pd.DataFrame, settings: PlanSettings, folder: Path, overwrite: bool) -> Plan:
    """The plan of a scored table, written and reported."""
    plan = make_plan(scores, settings, horizon_of(scores))
    write(plan, folder, overwrite)
    report(plan, folder)
    return plan


def command(cfg: DictConfig) -> None:
    """scripts/plan.py: check the settings and outputs first; read the scored table, or load
    the data and score it with the champion; then plan."""
    settings = to_spec(cfg.plan, PlanSettings)
    folder = Path(cfg.output)
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        check_output(folder / name, cfg.overwrite)
    with tracked(cfg):
        if cfg.scores:
            scores = read_scores(str(cfg.scores))
        else:
            as_of = required_as_of(cfg)
            run_ = run_settings(cfg)
            loaded = load_data(cfg)
            scorer = registry.load_scorer(cfg.model_uri or default_model(cfg.data.name))
            with open_engine(to_spec(cfg.engine, EngineSpec), run_.threads) as con:
                scores, _ = score_transactions(
                    loaded, as_of, scorer, chunk_size=run_.chunk_size, con=con,
                    threads=run_.threads,
                )  # fmt: skip
        run(scores, settings, folder, cfg.overwrite)
