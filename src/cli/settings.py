"""The schemas of the commands' config nodes that no library dataclass describes.

Each field's default is the one default of that setting: the YAML files repeat none of them
(custlens.cli.config stores these as each group's `default`). Strings with `${...}` are
resolved by Hydra when the config is composed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from custlens.models.estimators.segmentation import CustomerSegmenter
from custlens.models.rules import DEFAULT_TIER_SHARES

SHAP_ROWS = 2000  # customers sampled for the global SHAP views


@dataclass
class ScoringSettings:
    """How scores become labels in the scored table."""

    risk_bands: list[float] = field(default_factory=lambda: [0.4, 0.7])  # medium, high from
    tier_shares: list[float] = field(default_factory=lambda: list(DEFAULT_TIER_SHARES))


@dataclass
class RegisterSettings:
    """The registered model's name and when a new version becomes the champion."""

    name: str = "custlens-${data.name}"
    promote: str = "auto"  # auto | force | never


@dataclass
class ExplainSettings:
    """The SHAP views logged with a training run."""

    shap_rows: int = SHAP_ROWS


@dataclass
class ReportSettings:
    """Where the stakeholder report goes and how much SHAP it computes."""

    output: str | None = None  # default: reports/<data>_<as_of>.html
    overwrite: bool = True
    shap_rows: int = SHAP_ROWS
    # Pseudonyms' salt; unset: a fresh salt per report, never stored.
    id_salt: str | None = "${oc.env:CUSTLENS_ID_SALT,null}"
    seed: int = "${seed}"  # type: ignore[assignment]  # resolved by Hydra


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
    """An Optuna study (TPE, median pruning, seeded) and where its best trial is written."""

    n_trials: int = 20
    timeout_seconds: float | None = None
    study_name: str = "${data.name}-${model.tasks[0]}-h${horizon_days}"
    storage: str = "sqlite:///${repo:}/optuna/${tuning.study_name}.db"
    sampler_seed: int = "${seed}"  # type: ignore[assignment]  # resolved by Hydra
    # The best parameters as an experiment bundle: scripts/train.py +experiment=STUDY_NAME.
    bundle: str = "${repo:}/conf/experiment/${tuning.study_name}.yaml"
    space: dict[str, Any] = field(default_factory=tuning_space)


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
