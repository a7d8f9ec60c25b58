"""scripts/backtest.py end to end: several cutoffs, each trained on what was known before it,
the comparison printed, written and logged."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from tests.helpers import SMOKE_DATA, run_script


def test_backtest_writes_and_logs_every_cutoff(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "backtest"
    done = run_script(
        "backtest",
        *SMOKE_DATA,
        "horizon_days=60",
        "frames.step_days=30",
        "frames.min_history_days=120",
        "cutoffs=3",
        "step_days=60",
        "resamples=50",
        "seed=7",
        "models.churn.n_estimators=30",
        "models.repurchase.n_estimators=30",
        "models.clv.n_estimators=30",
        f"tracking.uri={uri}",
        f"output={out}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(out / "backtest.csv")
    cutoffs = ["2022-12-31", "2023-03-01", "2023-04-30"]
    assert set(table["cutoff"]) == {*cutoffs, "pooled"}
    assert {"roc_auc", "ece", "gini", "top_decile_capture", "spearman"} <= set(table["metric"])
    assert (table["low"] <= table["high"]).all()
    values = pd.read_csv(out / "scorers.csv")
    assert set(values["cutoff"]) == set(cutoffs) and "bgnbd" in set(values["scorer"])
    page = (out / "backtest.md").read_text()
    assert "scripts/backtest.py" in page and "| roc_auc | pooled |" in page
    assert "Seed 7." in page
    assert (out / "backtest.png").stat().st_size > 10_000
    mlflow.set_tracking_uri(uri)
    (run,) = mlflow.search_runs(experiment_names=["custlens"], output_format="list")
    assert "pooled.churn.roc_auc.difference" in run.data.metrics
