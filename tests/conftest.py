"""Shared fixtures: the shared real data (skipped when absent), a trained scorer, a champion
store; one thread per test worker. Helpers live in tests/helpers.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from custlens.config import compose_config, shared_data_dir, to_spec, training_spec

# One thread per test worker (scripts run by the tests inherit it): models, SHAP and DuckDB
# must not grab both cores while the test runner uses the other.
os.environ.setdefault("CUSTLENS_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


TIERS = ("unit", "integration", "e2e", "spark", "browser")
# Fixtures that train, score, track or read the real data: a test using one is integration.
HEAVY_FIXTURES = {"trained", "champion_store", "scored", "synthetic_frame", "shared_data"}
HEAVY_FIXTURES |= {"tracking_uri"}


def tier_of(item: pytest.Item) -> str:
    """The test's tier, from where it lives and what it uses (an explicit marker wins)."""
    explicit = [m.name for m in item.iter_markers() if m.name in TIERS]
    if explicit:
        return explicit[0]
    folder = Path(item.path).parent.name
    if folder == "spark":
        return "spark"
    if "browser" in item.path.name:
        return "browser"
    if folder in ("cli", "notebooks", "packaging"):  # the commands, run as a user would
        return "e2e"
    if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test gets exactly one tier marker (`make test-fast`: unit and integration)."""
    for item in items:
        item.add_marker(tier_of(item))


def _mlflow_left_as_found() -> Iterator[None]:
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


@pytest.fixture(autouse=True)
def isolated_mlflow() -> Iterator[None]:
    """Tests that point MLflow somewhere leave no tracking URI or experiment behind."""
    yield from _mlflow_left_as_found()


@pytest.fixture(autouse=True, scope="module")
def isolated_mlflow_module() -> Iterator[None]:
    """Nor do a module's fixtures (set up before any test's own autouse fixture): the next
    file on the same worker sees the environment the module found."""
    yield from _mlflow_left_as_found()


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


@dataclass
class SmokeRun:
    """The smoke data loaded and what the training library made of it."""

    loaded: Any
    trained: Any

    @property
    def scorer(self) -> Any:
        return self.trained.scorer

    @property
    def last_day(self) -> Any:
        return self.trained.frame.last


@pytest.fixture(scope="session")
def trained() -> SmokeRun:
    """A scorer trained once per session by the library on the smoke configuration."""
    from custlens import training
    from custlens.data import DataSpec, load

    cfg = compose_config("train", ["debug=smoke", "tracking=disabled"])
    loaded = load(to_spec(cfg.data, DataSpec))
    result = training.train(loaded, training_spec(cfg))
    assert result.scorer is not None
    return SmokeRun(loaded, result)


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
