"""The tuning job behind scripts/tune.py: an Optuna study of one model, trials as nested runs."""

from __future__ import annotations

from pathlib import Path

import optuna
from omegaconf import DictConfig, OmegaConf

from custlens import training
from custlens.cli.output import check_output, write_text_atomically
from custlens.cli.runs import load_data, tracked
from custlens.config import to_spec, training_spec
from custlens.config.settings import TuningSettings
from custlens.engines import EngineSpec, open_engine
from custlens.errors import CustlensError
from custlens.models.tasks import task as registered
from custlens.tracking import mlflow_io
from custlens.tuning.objective import known_before_test, objective


def log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Each finished trial as a nested run: its parameters, state and value."""
    with mlflow_io.child_run(f"trial-{trial.number}"):
        mlflow_io.log_params({**trial.params, "state": trial.state.name})
        if trial.value is not None:
            mlflow_io.log_metrics({"validation_score": trial.value})


def experiment_bundle(cfg: DictConfig, task: str, best: optuna.trial.FrozenTrial) -> str:
    """The best trial's parameters as an experiment config (`+experiment=NAME`) for
    scripts/train.py: the tuned model's LightGBM parameters and the horizon they were tuned for."""
    params = {k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in best.params.items()}
    body = {"horizon_days": cfg.horizon_days, "models": {task: {"params": params}}}
    metric = registered(task).headline.name
    return (
        "# @package _global_\n"
        f"# Trial {best.number} of Optuna study {cfg.tuning.study_name} on data={cfg.data.name}: "
        f"validation {metric} {best.value:.4f}.\n"
        f"# Written by scripts/tune.py; train with it:\n"
        f"#   scripts/train.py data={cfg.data.name} +experiment={Path(cfg.tuning.bundle).stem}\n"
        + OmegaConf.to_yaml(OmegaConf.create(body))
    )


def command(cfg: DictConfig) -> None:
    """Build the frame once on the configured engine, then run the trials; write the best
    parameters as an experiment bundle for scripts/train.py."""
    spec = training_spec(cfg)
    if len(spec.supervised) != 1 or training.SEGMENTATION in spec.tasks:
        raise CustlensError("tune one model at a time: model=churn, repurchase or clv")
    if registered(spec.supervised[0]).needs:
        raise CustlensError(
            f"{spec.supervised[0]} is judged with the models it reads; tune churn, repurchase "
            "or clv"
        )
    task, horizon = spec.supervised[0], spec.horizon_days
    to_spec(cfg.tuning, TuningSettings)  # checked before any work
    storage = str(cfg.tuning.storage)
    Path(cfg.tuning.bundle).parent.mkdir(parents=True, exist_ok=True)
    bundle = check_output(cfg.tuning.bundle, overwrite=True, suffixes=(".yaml",))
    Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with tracked(cfg):
        loaded = load_data(cfg)
        with open_engine(to_spec(cfg.engine, EngineSpec), spec.threads) as con:
            frame = training.build_frame(loaded.transactions, spec, con).rows
        # The latest cutoff is the backtest's test fold: tuning never sees its labels.
        frame = known_before_test(frame, horizon)
        study = optuna.create_study(
            study_name=cfg.tuning.study_name,
            storage=storage,
            load_if_exists=True,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=cfg.tuning.sampler_seed),
        )
        space = OmegaConf.to_container(cfg.tuning.space, resolve=True)
        base, features = spec.model_settings()[task], spec.model_features()
        done = len(study.trials)
        study.optimize(
            lambda trial: objective(trial, frame, task, spec.features, base, space, features),
            n_trials=cfg.tuning.n_trials,
            timeout=cfg.tuning.timeout_seconds,
            callbacks=[log_trial],
        )
        best = study.best_trial
        mlflow_io.log_metrics({"best_validation_score": best.value})
        text = experiment_bundle(cfg, task, best)
        write_text_atomically(text, bundle)
        mlflow_io.log_text(text, "experiment.yaml")
        print(
            f"{len(study.trials) - done} new trials ({len(study.trials)} in the study); best "
            f"validation score {best.value:.4f} (trial {best.number}), written to {bundle}.\n"
            f"Train with:\n  .venv/bin/python scripts/train.py data={cfg.data.name} "
            f"+experiment={bundle.stem}"
        )
