"""Point-in-time customer features: one row per customer from the lines on or before `as_of`."""

from custlens.features.build import build_features
from custlens.features.spec import FeatureSpec

__all__ = ["FeatureSpec", "build_features"]
