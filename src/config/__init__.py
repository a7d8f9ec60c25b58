"""The project's Hydra configs (`conf/`) as typed settings: for the commands, the notebooks and
the tests.

`register()` installs the resolvers and the schemas (each config group checked against its
dataclass, so unknown keys and bad values fail at composition); `compose_config` composes a
primary config as the scripts do; `to_spec` turns a node into its dataclass, and
`training_spec` a whole config into the `custlens.training.TrainingSpec` the library trains
from. The library itself never sees a config.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from custlens.config.settings import (
    ExplainSettings,
    LedgerSettings,
    RegisterSettings,
    ReportSettings,
    RunSettings,
    TuningSettings,
    segmentation_node,
)
from custlens.data.spec import DataSpec
from custlens.engines.spec import EngineSpec
from custlens.errors import CustlensError
from custlens.features.spec import FeatureSpec, FrameSpec, LabelSpec
from custlens.models.estimators.training import ModelSettings
from custlens.models.rules import ScoringSettings
from custlens.models.tasks import default_settings
from custlens.monitoring.monitor import MonitorSettings
from custlens.plan import PlanSettings
from custlens.tracking.mlflow_io import TrackingSettings
from custlens.training import TrainingSpec

T = TypeVar("T")


def project_root() -> Path:
    """The repository holding conf/ (editable installs), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "conf").is_dir() else Path.cwd()


def shared_data_dir() -> Path:
    """Where the shared real data lives: $CUSTLENS_SHARED_DATA or ../shared/data."""
    configured = os.environ.get("CUSTLENS_SHARED_DATA")
    return Path(configured) if configured else project_root().parent / "shared" / "data"


def register() -> None:
    """Register resolvers (`${repo:}`, `${shared_data:}`) and the config-group schemas."""
    OmegaConf.register_new_resolver("repo", lambda: str(project_root()), replace=True)
    OmegaConf.register_new_resolver("shared_data", lambda: str(shared_data_dir()), replace=True)
    store = ConfigStore.instance()
    # As plain values: a structured node at the root would close the whole config.
    store.store(name="run_defaults", node=asdict(RunSettings()))
    store.store(group="data", name="schema", node=DataSpec)
    store.store(group="tracking", name="schema", node=TrackingSettings)
    store.store(group="features", name="schema", node=FeatureSpec)
    store.store(group="labels", name="schema", node=LabelSpec)
    store.store(group="engine", name="schema", node=EngineSpec)
    store.store(group="frames", name="default", node=FrameSpec)
    store.store(group="models", name="default", node=models_node())
    store.store(group="segmentation", name="default", node=segmentation_node())
    store.store(group="scoring", name="default", node=ScoringSettings)
    store.store(group="register", name="default", node=RegisterSettings)
    store.store(group="explain", name="default", node=ExplainSettings)
    store.store(group="report", name="default", node=ReportSettings)
    store.store(group="tuning", name="default", node=TuningSettings)
    store.store(group="ledger", name="default", node=LedgerSettings)
    store.store(group="monitor", name="default", node=MonitorSettings)
    store.store(group="plan", name="default", node=PlanSettings)


# Set from the run's `seed` and `threads`, not per model.
RUN_SETTINGS = ("random_state", "n_jobs")


def models_node() -> dict[str, dict[str, Any]]:
    """`models.<task>` as the code defines it (each task's defaults, custlens.models.tasks):
    the config repeats none of it, and overrides any."""
    return {
        task: {k: v for k, v in vars(settings).items() if k not in RUN_SETTINGS}
        for task, settings in default_settings().items()
    }


def compose_config(name: str, overrides: list[str] | None = None) -> DictConfig:
    """A primary config composed as the scripts compose it (for notebooks and tests)."""
    register()
    with initialize_config_dir(config_dir=str(project_root() / "conf"), version_base=None):
        return compose(config_name=name, overrides=overrides or [])


def to_spec(node: DictConfig, kind: type[T]) -> T:
    """A resolved config node as its dataclass; a value its schema refuses is one
    CustlensError naming it."""
    try:
        obj = OmegaConf.to_object(node)
    except OmegaConfBaseException as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, CustlensError) else None
        raise cause or CustlensError(str(exc).splitlines()[0]) from None
    if not isinstance(obj, kind):
        obj = kind(**obj)  # type: ignore[arg-type]
    return obj


def run_settings(cfg: DictConfig) -> RunSettings:
    """The run-level keys of a composed config, checked."""
    return RunSettings(**{k: cfg[k] for k in RunSettings.__dataclass_fields__ if k in cfg})


def training_spec(cfg: DictConfig) -> TrainingSpec:
    """The `TrainingSpec` a training config describes (`model.tasks`, `features`, `labels`,
    `frames`, `models`, `segmentation`, `scoring`, `seed`, `threads`)."""
    run = run_settings(cfg)
    models = {}
    for task in cfg.models:
        values = OmegaConf.to_container(cfg.models[task], resolve=True)
        try:
            models[task] = ModelSettings(**values)
        except TypeError as exc:  # an unknown key under models.<task>
            raise CustlensError(f"models.{task}: {exc}") from None
    segmentation = OmegaConf.to_container(cfg.segmentation, resolve=True)
    target = segmentation.pop("_target_")
    try:
        segmenter = get_class(target)
    except (HydraException, ImportError, ValueError) as exc:
        raise CustlensError(f"segmentation._target_ {target!r}: {exc}") from None
    return TrainingSpec(
        features=to_spec(cfg.features, FeatureSpec),
        labels=to_spec(cfg.labels, LabelSpec),
        frames=to_spec(cfg.frames, FrameSpec),
        models=models,
        segmenter=segmenter,
        segmentation=segmentation,
        scoring=to_spec(cfg.scoring, ScoringSettings),
        tasks=tuple(cfg.model.tasks),
        seed=run.seed,
        threads=run.threads,
    )


def resolved_yaml(cfg: DictConfig) -> str:
    """The fully resolved config as YAML, as it is logged with every run."""
    return OmegaConf.to_yaml(cfg, resolve=True)


def flat_params(cfg: DictConfig) -> dict[str, Any]:
    """Resolved config flattened to dotted keys, for run parameters."""
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix.rstrip(".")] = node

    walk(OmegaConf.to_container(cfg, resolve=True), "")
    return flat
