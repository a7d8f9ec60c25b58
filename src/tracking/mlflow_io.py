"""Every MLflow call of the project lives here; model and feature code never import mlflow.

The default store is SQLite plus a file artifact root, both under `mlruns/`: MLflow 3 refuses
new plain file stores, and SQLite needs no server.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from custlens.data.quality import QualityReport

_MAX_PARAM_LENGTH = 500


def git_commit(root: Path) -> tuple[str, bool]:
    """The checkout's commit and whether it has uncommitted changes ("unknown" outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False
    return commit, bool(status.strip())


def artifact_root_for(uri: str) -> str | None:
    """Artifacts of a SQLite store go next to the database, under `artifacts/`."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.parent / "artifacts").resolve().as_uri()


def quiet() -> None:
    """Keep MLflow's progress bars and informational logs out of the user's terminal (the
    commands print what was logged and registered themselves)."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)


def use_store(uri: str, experiment: str) -> str:
    """Point MLflow at `uri` and return the id of `experiment`, creating both if needed."""
    import mlflow

    quiet()
    with _first_use(uri):
        mlflow.set_tracking_uri(uri)
        found = mlflow.get_experiment_by_name(experiment)  # creates and migrates the store
        if found is None:
            mlflow.create_experiment(experiment, artifact_location=artifact_root_for(uri))
        # Active, so that nested runs land in it too.
        return mlflow.set_experiment(experiment).experiment_id


@contextmanager
def _first_use(uri: str) -> Iterator[None]:
    """A SQLite store's creation and migration, and the experiment's, one process at a time:
    two runs starting together on a new store would otherwise both create its tables."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    from custlens.storage import Claim

    database = Path(uri.removeprefix("sqlite:///"))
    database.parent.mkdir(parents=True, exist_ok=True)
    with Claim(database.with_name(database.name + ".lock")):
        yield


@dataclass
class TrackingSettings:
    """Where runs are tracked; `enabled=false` tracks nothing."""

    enabled: bool = True
    uri: str | None = None
    experiment: str = "custlens"


@contextmanager
def tracked_run(
    settings: TrackingSettings,
    *,
    run_name: str,
    config_yaml: str,
    params: Mapping[str, Any],
    root: Path,
) -> Iterator[Any]:
    """One MLflow run with the resolved config, its parameters and the git commit logged.

    Yields the active run, or None when tracking is disabled (the log_* helpers then do nothing).
    """
    if not settings.enabled:
        yield None
        return
    import mlflow

    experiment_id = use_store(settings.uri or "sqlite:///mlruns/mlflow.db", settings.experiment)
    commit, dirty = git_commit(root)
    tags = {"mlflow.source.git.commit": commit, "custlens.git_dirty": str(dirty).lower()}
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
        mlflow.log_text(config_yaml, "config/resolved.yaml")
        mlflow.log_params({k: _param(v) for k, v in params.items()})
        yield run


def _param(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return text if len(text) <= _MAX_PARAM_LENGTH else text[: _MAX_PARAM_LENGTH - 3] + "..."


def log_quality_report(report: QualityReport) -> None:
    """The data-quality report as metrics, a JSON document, a text table and a CSV."""
    import mlflow

    if mlflow.active_run() is None:
        return
    mlflow.log_metrics(report.metrics())
    mlflow.log_dict(report.to_dict(), "data_quality/report.json")
    mlflow.log_text(report.format(), "data_quality/report.txt")
    mlflow.log_text(report.to_frame().to_csv(index=False), "data_quality/rules.csv")


def log_table(frame: pd.DataFrame, artifact: str) -> None:
    """A small DataFrame as a CSV artifact of the active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_text(frame.to_csv(index=False), artifact)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """The finite metrics of the active run, at `step` when given (nothing when tracking is
    off; undefined values, NaN, are left out)."""
    import mlflow

    if mlflow.active_run() is not None:
        finite = {k: float(v) for k, v in metrics.items() if math.isfinite(float(v))}
        mlflow.log_metrics(finite, step=step)


def tracking_active() -> bool:
    """Whether a run is active (tracking on)."""
    import mlflow

    return mlflow.active_run() is not None


@contextmanager
def child_run(name: str) -> Iterator[Any]:
    """A nested run under the active one (nothing when tracking is off)."""
    import mlflow

    if mlflow.active_run() is None:
        yield None
        return
    with mlflow.start_run(run_name=name, nested=True) as run:
        yield run


def log_figure(figure: Any, artifact: str) -> None:
    """A matplotlib figure as a PNG artifact of the active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_figure(figure, artifact)


def log_image(data: bytes, artifact: str) -> None:
    """Image bytes (a PNG already drawn) as an artifact of the active run."""
    import mlflow

    if mlflow.active_run() is None:
        return
    with tempfile.TemporaryDirectory(prefix="custlens-image-") as folder:
        path = Path(folder, Path(artifact).name)
        path.write_bytes(data)
        parent = str(Path(artifact).parent)
        mlflow.log_artifact(str(path), None if parent == "." else parent)


def log_params(params: Mapping[str, Any]) -> None:
    """Parameters of the active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_params({k: _param(v) for k, v in params.items()})


def log_text(text: str, artifact: str) -> None:
    """A text artifact of the active run."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_text(text, artifact)


def log_file(path: Path, folder: str) -> None:
    """A local file as an artifact of the active run, under `folder`."""
    import mlflow

    if mlflow.active_run() is not None:
        mlflow.log_artifact(str(path), folder)
