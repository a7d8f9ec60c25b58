"""The MLflow run every script opens, made from its composed config."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from omegaconf import DictConfig

from custlens.config import flat_params, project_root, resolved_yaml, to_spec
from custlens.data import DataSpec, LoadedData, load, load_for_scoring
from custlens.errors import CustlensError
from custlens.tracking import mlflow_io
from custlens.tracking.mlflow_io import TrackingSettings


def tracked(cfg: DictConfig) -> AbstractContextManager[Any]:
    """One run with the resolved config, its parameters and the git commit (see mlflow_io)."""
    return mlflow_io.tracked_run(
        to_spec(cfg.tracking, TrackingSettings),
        run_name=cfg.run_name,
        config_yaml=resolved_yaml(cfg),
        params=flat_params(cfg),
        root=project_root(),
    )


def required_as_of(cfg: DictConfig) -> str:
    """The configured as_of, which has no default: nothing defaults to the data's last day."""
    if not cfg.as_of:
        raise CustlensError("as_of is required: the last day of known history, as_of=YYYY-MM-DD")
    return str(cfg.as_of)


def load_data(cfg: DictConfig, in_place: bool = False, show: bool = False) -> LoadedData:
    """The configured data source, read, validated and cleaned (`in_place`: an `on_engine` log
    stays where it lies), its quality report logged to the active run and, with `show`,
    printed."""
    spec = to_spec(cfg.data, DataSpec)
    loaded = load_for_scoring(spec) if in_place else load(spec)
    if show:
        print(loaded.report.format())
    mlflow_io.log_quality_report(loaded.report)
    return loaded
