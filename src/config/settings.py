"""The schemas of the config nodes no library dataclass describes: the run-level keys and the
commands' own settings.

Each field's default is the one default of that setting: the YAML files repeat none of them
(custlens.config stores these in Hydra's ConfigStore). Strings with `${...}` are resolved by
Hydra when the config is composed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from custlens import runtime
from custlens.errors import CustlensError
from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.scoring.batch import DEFAULT_CHUNK, check_chunk_size

SHAP_ROWS = 2000  # customers sampled for the global SHAP views


@dataclass
class RunSettings:
    """The keys every command shares, at the top of its config: the seed, the threads (null:
    every core, or $CUSTLENS_THREADS), the prediction windows and the scoring block size."""

    seed: int = 42
    threads: int | None = None
    horizon_days: int = 90
    repurchase_days: int = 30
    chunk_size: int = DEFAULT_CHUNK

    def __post_init__(self) -> None:
        if self.threads is not None:
            runtime.thread_count(self.threads)
        check_chunk_size(self.chunk_size)
        for name in ("horizon_days", "repurchase_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CustlensError(
                    f"{name} must be a whole number of days, at least 1, not {value!r}"
                )


@dataclass
class LedgerSettings:
    """Where every scoring is recorded for the monitor (`custlens.monitoring.ledger`); null:
    no ledger."""

    path: str | None = "outputs/ledger"


@dataclass
class RegisterSettings:
    """The registered model's name and when a new version becomes the champion."""

    name: str = "custlens-${data.name}"
    promote: str = "auto"  # auto | force | never

    def __post_init__(self) -> None:
        if self.promote not in ("auto", "force", "never"):
            raise CustlensError(
                f"register.promote must be auto, force or never, not {self.promote!r}"
            )


@dataclass
class ExplainSettings:
    """The SHAP views logged with a training run."""

    shap_rows: int = SHAP_ROWS

    def __post_init__(self) -> None:
        _at_least_one("explain.shap_rows", self.shap_rows)


@dataclass
class ReportSettings:
    """Where the stakeholder report goes and how much SHAP it computes."""

    output: str | None = None  # default: reports/<data>_<as_of>.html
    overwrite: bool = True
    shap_rows: int = SHAP_ROWS
    # Pseudonyms' salt; unset: a fresh salt per report, never stored.
    id_salt: str | None = "${oc.env:CUSTLENS_ID_SALT,null}"
    seed: int = "${seed}"  # type: ignore[assignment]  # resolved by Hydra

    def __post_init__(self) -> None:
        _at_least_one("report.shap_rows", self.shap_rows)


def _at_least_one(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CustlensError(f"{name} must be a whole number of at least 1, not {value!r}")


def tuning_space() -> dict[str, dict[str, Any]]:
    """LightGBM's search space: bounds, and whether integer or on a log scale."""
    return {
        "learning_rate": {"low": 0.01, "high": 0.2, "log": True},
        "num_leaves": {"low": 7, "high": 63, "int": True, "log": True},
        "max_depth": {"low": 3, "high": 8, "int": True},  # the defaults cap depth at 3
        "min_child_samples": {"low": 10, "high": 200, "int": True, "log": True},
        "subsample": {"low": 0.5, "high": 1.0},
        "colsample_bytree": {"low": 0.4, "high": 1.0},
        "reg_lambda": {"low": 0.001, "high": 30.0, "log": True},
    }


@dataclass
class TuningSettings:
    """An Optuna study (TPE, seeded) and where its best trial is written."""

    n_trials: int = 20
    timeout_seconds: float | None = None
    study_name: str = "${data.name}-${model.tasks[0]}-h${horizon_days}"
    storage: str = "sqlite:///${repo:}/optuna/${tuning.study_name}.db"
    sampler_seed: int = "${seed}"  # type: ignore[assignment]  # resolved by Hydra
    # The best parameters as an experiment bundle: scripts/train.py +experiment=STUDY_NAME.
    bundle: str = "${repo:}/conf/experiment/${tuning.study_name}.yaml"
    space: dict[str, Any] = field(default_factory=tuning_space)

    def __post_init__(self) -> None:
        _at_least_one("tuning.n_trials", self.n_trials)


# The segmenter's settings under `segmentation`, besides its class (`_target_`); the run's
# seed and the champion's segmenter are given when it is built.
SEGMENTER_SETTINGS = ("method", "k_range", "sample_size")


def segmentation_node() -> dict[str, Any]:
    """`segmentation` as the code defines it: the segmenter class and its defaults."""
    defaults = inspect.signature(CustomerSegmenter).parameters
    node: dict[str, Any] = {
        "_target_": f"{CustomerSegmenter.__module__}.{CustomerSegmenter.__qualname__}"
    }
    for name in SEGMENTER_SETTINGS:
        value = defaults[name].default
        node[name] = list(value) if isinstance(value, tuple) else value
    return node
