"""Shared fixtures: paths, Hydra composition, the shared real data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from custlens.cli.config import register, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

# Models and features must not grab both cores while the test runner uses the other.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def compose_config(name: str, overrides: list[str] | None = None) -> DictConfig:
    """Compose a primary config the way the scripts do."""
    register()
    with initialize_config_dir(config_dir=str(CONF), version_base=None):
        return compose(config_name=name, overrides=overrides or [])


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
