"""Shared fixtures: paths, Hydra composition, the shared real data (skipped when absent)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from custlens.cli.config import compose_config, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

# One thread per test worker (scripts run by the tests inherit it): models, SHAP and DuckDB
# must not grab both cores while the test runner uses the other.
os.environ.setdefault("CUSTLENS_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_script(name: str, *overrides: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/NAME.py with Hydra overrides, as a user would, from the repository root."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *overrides],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def java_available() -> bool:
    """Java for Spark: `java` on PATH or a JAVA_HOME."""
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin").is_dir()))


def load_script(name: str) -> ModuleType:
    """Import scripts/NAME.py as a module (scripts are not part of the package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


__all__ = ["CONF", "ROOT", "compose_config", "load_script", "run_script"]


@pytest.fixture(autouse=True)
def isolated_mlflow():
    """Tests that point MLflow somewhere leave no tracking URI or experiment behind."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID")}
    yield
    import sys

    if "mlflow" in sys.modules:
        import mlflow
        from mlflow.tracking import fluent

        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder, or a skip that says why."""
    folder = shared_data_dir()
    if not (folder / "online_retail" / "online_retail.parquet").exists():
        pytest.skip(f"shared real data not found at {folder} (set CUSTLENS_SHARED_DATA)")
    return folder


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    """A throwaway MLflow store."""
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture(scope="session")
def trained():
    """A scorer trained once per session on the smoke configuration, without tracking."""
    from custlens.cli import train_job

    result = train_job.run(compose_config("train", ["debug=smoke", "tracking=disabled"]))
    assert result.scorer is not None
    return result


SMOKE_DATA = [
    "data=synthetic",
    "data.synthetic.n_customers=1500",
    "data.synthetic.start=2021-01-01",
    "data.synthetic.end=2023-06-30",
]  # the data of debug=smoke, for scripts whose configs have no debug group


@pytest.fixture(scope="session")
def champion_store(trained, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The smoke scorer registered as custlens-synthetic@champion in a throwaway store."""
    import mlflow

    from custlens.scoring.batch import features_as_of
    from custlens.tracking import registry
    from custlens.tracking.mlflow_io import use_store

    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    use_store(uri, "custlens")
    loaded = trained.loaded
    example = features_as_of(loaded.transactions, str(trained.last_day), trained.scorer)
    with mlflow.start_run():
        info = registry.log_scorer(trained.scorer, example)
    version = registry.register(info.model_uri, "custlens-synthetic", {})
    registry.promote("custlens-synthetic", version)
    return uri, folder
