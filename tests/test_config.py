"""Every primary config composes with every option of its groups, and typos fail early."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError

from custlens.config import flat_params, run_settings, to_spec, training_spec
from custlens.data.load import load_canonical
from custlens.data.spec import DataSpec
from custlens.errors import CustlensError, DataError
from custlens.models.tasks import default_settings
from custlens.tracking.mlflow_io import TrackingSettings
from tests.helpers import CONF, compose_config

DATA_OPTIONS = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))
PRIMARY = sorted(p.stem for p in CONF.glob("*.yaml"))
WITH_DATA = sorted(p.stem for p in CONF.glob("*.yaml") if "  - data:" in p.read_text())


@pytest.mark.parametrize("data", DATA_OPTIONS)
def test_each_data_source_is_named_after_its_file(data: str) -> None:
    # The registered model (custlens-<data.name>) and score.py's default champion use the name.
    cfg = compose_config("train", [f"data={data}"])
    assert cfg.data.name == data
    assert cfg.register.name == f"custlens-{data}"


@pytest.mark.parametrize("primary", WITH_DATA)
@pytest.mark.parametrize("data", DATA_OPTIONS)
def test_every_data_source_composes(primary: str, data: str) -> None:
    cfg = compose_config(primary, [f"data={data}", "data.path=some.csv"])
    spec = to_spec(cfg.data, DataSpec)
    assert isinstance(spec, DataSpec)
    assert spec.all_files() or spec.synthetic is not None


@pytest.mark.parametrize("tracking", ["local", "disabled"])
def test_tracking_options(tracking: str) -> None:
    cfg = compose_config("pipeline", [f"tracking={tracking}"])
    settings = to_spec(cfg.tracking, TrackingSettings)
    assert settings.enabled is (tracking == "local")
    if settings.enabled:
        assert settings.uri.endswith("mlruns/mlflow.db")


def test_transactions_csv_needs_a_path() -> None:
    spec = to_spec(compose_config("pipeline", ["data=transactions_csv"]).data, DataSpec)
    with pytest.raises(DataError, match="set data.path=FILE"):
        load_canonical(spec)


def test_typo_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException):
        compose_config("pipeline", ["data.colums.customer_id=x"])
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_config("pipeline", ["data.cleaning.retrns=drop"])


def test_sample_inherits_online_retail_rules() -> None:
    sample = to_spec(compose_config("pipeline").data, DataSpec)
    full = to_spec(compose_config("pipeline", ["data=online_retail"]).data, DataSpec)
    assert sample.cleaning == full.cleaning and sample.columns == full.columns
    assert sample.all_files()[0].path.endswith("data/online_retail_sample.parquet")


def test_params_are_flat_and_resolved() -> None:
    params = flat_params(compose_config("pipeline"))
    assert params["data.name"] == "sample"
    assert params["seed"] == 42
    assert not any("${" in str(v) for v in params.values())


@pytest.mark.parametrize("primary", PRIMARY)
def test_every_primary_config_resolves_completely(primary: str) -> None:
    resolved = flat_params(compose_config(primary))
    assert resolved and not any("${" in str(v) for v in resolved.values())


@pytest.mark.parametrize("primary", ["train", "pipeline", "backtest", "tune"])
def test_commands_train_the_python_apis_default_models(primary: str) -> None:
    cfg = compose_config(primary, ["seed=7", "threads=1"])
    expected = {
        task: replace(settings, random_state=7, n_jobs=1)
        for task, settings in default_settings().items()
    }
    assert training_spec(cfg).model_settings() == expected
    changed = training_spec(
        compose_config(primary, ["models.clv.params.num_leaves=31"])
    ).model_settings()
    assert changed["clv"].params["num_leaves"] == 31
    assert changed["clv"].params["learning_rate"] == expected["clv"].params["learning_rate"]


def test_an_unknown_model_setting_is_one_clear_error() -> None:
    cfg = compose_config("train", ["+models.churn.n_trees=5"])
    with pytest.raises(CustlensError, match="models.churn"):
        training_spec(cfg)


@pytest.mark.parametrize("primary", ["build_features", "score", "train", "pipeline", "tune"])
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_every_engine_composes(primary: str, engine: str) -> None:
    from custlens.engines import EngineSpec

    spec = to_spec(compose_config(primary, [f"engine={engine}"]).engine, EngineSpec)
    assert spec.name == engine
    if engine == "spark":
        assert spec.master == "local[2]" and spec.conf["spark.sql.shuffle.partitions"] == "4"


def test_engine_typo_fails_at_composition() -> None:
    with pytest.raises(ConfigCompositionException):
        compose_config("score", ["engine=spark", "engine.mastr=x"])


def test_segmenter_class_and_settings_come_from_the_config() -> None:
    from custlens.models.estimators.segmentation import CustomerSegmenter
    from custlens.training import fit_segmenter

    cfg = compose_config("train", ["segmentation.method=gmm", "segmentation.k_range=[3,5]"])
    spec = training_spec(cfg)
    segmenter = spec.segmenter(**spec.segmentation)
    assert isinstance(segmenter, CustomerSegmenter)
    assert (segmenter.method, segmenter.k_range) == ("gmm", [3, 5])
    assert compose_config("train").segmentation.k_range == list(CustomerSegmenter().k_range)
    unknown = training_spec(compose_config("train", ["+segmentation.n_clusters=3"]))
    with pytest.raises(CustlensError, match="segmentation"):
        fit_segmenter(None, unknown)
    with pytest.raises(CustlensError, match="segmentation._target_"):
        training_spec(compose_config("train", ["segmentation._target_=custlens.Nope"]))


def test_settings_nodes_refuse_unknown_keys() -> None:
    for override in ("scoring.risk_band=[0.5,0.8]", "register.nam=x", "tuning.n_trial=3"):
        with pytest.raises((ConfigCompositionException, ConfigKeyError)):
            compose_config("tune", [override])
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        compose_config("report", ["report.shap_row=5"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("chunk_size=0", "chunk_size must be a whole number of at least 1, not 0"),
        ("threads=0", "threads must be a whole number of at least 1"),
        ("horizon_days=0", "horizon_days must be a whole number of days"),
        ("repurchase_days=120", "repurchase_days \\(120\\) must not exceed horizon_days"),
        ("frames.customer_share=1.5", "frames.customer_share must be in"),
        ("frames.step_days=-3", "frames.step_days must be a whole number of days"),
        ("models.churn.calibration=platt", "calibration must be one of"),
        ("scoring.interval_level=1.2", "scoring.interval_level must lie between 0 and 1"),
        ("scoring.risk_bands=[0.8,0.4]", "scoring.risk_bands must be two probabilities"),
        ("register.promote=sometimes", "register.promote must be auto, force or never"),
    ],
)
def test_bad_settings_are_one_clear_error_before_any_work(override: str, message: str) -> None:
    """Typed settings check themselves when the config becomes settings: the commands call
    these before loading any data."""
    from custlens.config.settings import RegisterSettings

    cfg = compose_config("train", [override])
    with pytest.raises(CustlensError, match=message):
        run_settings(cfg)
        training_spec(cfg)
        to_spec(cfg.register, RegisterSettings)


@pytest.mark.parametrize("primary", ["train", "score"])
def test_the_protocol_experiment_bundle(primary: str) -> None:
    cfg = compose_config(primary, ["+experiment=protocol"])
    assert cfg.data.name == "transactions_csv" and cfg.horizon_days == 90
    assert cfg.data.path.endswith("custlens-protocol/HISTORY.csv")
