"""Loading, validating and cleaning transaction logs and customer tables."""

from custlens.data.load import LoadedData, load, load_customers, load_for_scoring
from custlens.data.quality import QualityReport
from custlens.data.spec import DataSpec

__all__ = [
    "DataSpec",
    "LoadedData",
    "QualityReport",
    "load",
    "load_customers",
    "load_for_scoring",
]
