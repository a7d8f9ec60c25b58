"""The main script end to end: tracked runs, and user errors without a traceback."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from tests.conftest import ROOT

CSV = (
    "customer_id,order_id,timestamp,amount,quantity,country\n"
    "c1,o1,2024-01-02 10:00:00,12.5,1,UK\n"
    "c1,o2,2024-02-03 11:00:00,-2.5,-1,UK\n"
    "c2,o3,2024-01-05 09:30:00,40,4,FR\n"
)


def run_pipeline(*overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pipeline.py"), *overrides],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_pipeline_tracks_config_commit_and_quality(tmp_path: Path, tracking_uri: str) -> None:
    log = tmp_path / "log.csv"
    log.write_text(CSV)
    done = run_pipeline(
        "data=transactions_csv",
        f"data.path={log}",
        f"tracking.uri={tracking_uri}",
        "hydra.run.dir=" + str(tmp_path / "hydra"),
    )
    assert done.returncode == 0, done.stderr
    assert "rows kept" in done.stdout
    mlflow.set_tracking_uri(tracking_uri)
    [run] = mlflow.search_runs(experiment_names=["custlens"], output_format="list")
    assert run.data.metrics["quality.rows_in"] == 3
    assert run.data.metrics["quality.netted_rows.returns"] == 1
    assert run.data.metrics["quality.revenue_kept"] == 50.0
    assert run.data.params["data.name"] == "transactions_csv"
    assert len(run.data.tags["mlflow.source.git.commit"]) in (40, len("unknown"))
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "config")}
    assert artifacts == {"config/resolved.yaml"}
    config = mlflow.artifacts.load_text(run.info.artifact_uri + "/config/resolved.yaml")
    assert str(log) in config
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        ("customer_id,timestamp,amount\nc1,not a date,1\n", "unparseable timestamps"),
    ],
)
def test_user_errors_exit_2_without_traceback(
    tmp_path: Path, content: str | None, message: str
) -> None:
    log = tmp_path / "log.csv"
    if content is not None:
        log.write_text(content)
        before = hashlib.sha256(log.read_bytes()).hexdigest()
    done = run_pipeline(
        "data=transactions_csv",
        f"data.path={log}",
        "tracking=disabled",
        "hydra.run.dir=" + str(tmp_path / "hydra"),
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("custlens: error: ")
    assert message in done.stderr
    if content is not None:
        assert hashlib.sha256(log.read_bytes()).hexdigest() == before
