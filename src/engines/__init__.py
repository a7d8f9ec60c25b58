"""Where the Ibis feature definitions run: embedded DuckDB (default) or Spark.

`open_engine(EngineSpec(...))` yields an Ibis backend for `build_features(..., con=...)`,
`build_labels` and `training_frame`; the definitions themselves are the same on both.
"""

from custlens.engines.backend import open_engine
from custlens.engines.spec import EngineSpec

__all__ = ["EngineSpec", "open_engine"]
