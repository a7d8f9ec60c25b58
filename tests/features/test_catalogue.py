"""The feature catalogue: documented, unique names, and the builder's defaults match config."""

from __future__ import annotations

from custlens.config import to_spec
from custlens.features.catalogue import DTYPES, catalogue
from custlens.features.spec import FeatureSpec
from tests.helpers import ROOT, compose_config, load_script


def test_docs_are_in_sync_with_the_catalogue() -> None:
    render = load_script("feature_catalogue", "tools").render
    assert (ROOT / "docs" / "features.md").read_text() == render()


def test_names_are_unique_and_described() -> None:
    features = catalogue(FeatureSpec())
    assert len({f.name for f in features}) == len(features)
    assert all(f.definition and f.family and f.kind in DTYPES for f in features)


def test_config_windows_match_the_documented_defaults() -> None:
    configured = to_spec(compose_config("build_features").features, FeatureSpec)
    assert configured.windows == FeatureSpec().windows
    assert configured.trends == FeatureSpec().trends
