"""The feature job behind scripts/build_features.py: one row per customer as of a date."""

from __future__ import annotations

from omegaconf import DictConfig

from custlens.cli.config import to_spec
from custlens.cli.output import check_output, write_atomically
from custlens.cli.runs import load_data, required_as_of, tracked
from custlens.engines import EngineSpec, open_engine
from custlens.features.build import build_features
from custlens.features.spec import FeatureSpec
from custlens.features.summary import summarise
from custlens.tracking import mlflow_io


def command(cfg: DictConfig) -> None:
    """Refuse an unusable output first; then load, build on the configured engine, write
    atomically, and log the summary."""
    as_of = required_as_of(cfg)
    output = check_output(cfg.output, cfg.overwrite)
    with tracked(cfg), open_engine(to_spec(cfg.engine, EngineSpec), cfg.threads) as con:
        loaded = load_data(cfg)
        spec = to_spec(cfg.features, FeatureSpec)
        features = build_features(
            loaded.transactions, as_of, spec, loaded.customers_as_of(as_of), con=con
        )
        write_atomically(features, output)
        mlflow_io.log_table(summarise(features), "features/summary.csv")
        mlflow_io.log_metrics(
            {
                "features.rows": len(features),
                "features.buyers": int(features["has_purchase"].sum()),
            }
        )
        print(f"wrote {len(features):,} customers x {features.shape[1] - 1} features to {output}")
