"""scripts/build_features.py: a feature file, atomic and never overwritten by accident."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd

from tests.features.handlog import hand_log
from tests.helpers import run_script


def test_writes_features_and_logs_summary(tmp_path: Path, tracking_uri: str) -> None:
    log = tmp_path / "log.csv"
    hand_log().to_csv(log, index=False)
    out = tmp_path / "features.parquet"
    args = [
        "data=transactions_csv",
        f"data.path={log}",
        "as_of=2024-03-01",
        f"output={out}",
        f"hydra.run.dir={tmp_path / 'h'}",
    ]
    done = run_script("build_features", *args, f"tracking.uri={tracking_uri}")
    assert done.returncode == 0, done.stderr
    features = pd.read_parquet(out)
    assert features.columns[0] == "customer_id"
    assert list(features["customer_id"]) == ["A", "B", "C", "D"]
    mlflow.set_tracking_uri(tracking_uri)
    [r] = mlflow.search_runs(experiment_names=["custlens"], output_format="list")
    assert r.data.metrics["features.rows"] == 4 and r.data.metrics["features.buyers"] == 3
    summary = mlflow.artifacts.load_text(r.info.artifact_uri + "/features/summary.csv")
    assert "recency_days" in summary
    before = out.stat().st_mtime_ns
    again = run_script("build_features", *args, "tracking=disabled")
    assert again.returncode == 2 and "overwrite=true" in again.stderr
    assert out.stat().st_mtime_ns == before
    assert list(tmp_path.glob(".features.parquet.*")) == []


def test_as_of_is_required(tmp_path: Path) -> None:
    done = run_script(
        "build_features",
        "tracking=disabled",
        f"output={tmp_path / 'f.parquet'}",
        f"hydra.run.dir={tmp_path / 'h'}",
    )
    assert done.returncode == 2 and "as_of is required" in done.stderr
    assert not (tmp_path / "f.parquet").exists()
