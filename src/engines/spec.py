"""Settings of the execution engine (a plain dataclass; the `engine` config group)."""

from __future__ import annotations

from dataclasses import dataclass, field

ENGINES = ("duckdb", "spark")


@dataclass
class EngineSpec:
    """Which engine runs the features and, for Spark, where it is and how it is tuned.

    `master`: `local[N]` (N cores of this machine, loopback only), a cluster manager URL such
    as `spark://host:7077`, `yarn` or `k8s://https://host:443`, or a Spark Connect address
    `sc://host:15002`. `conf` is passed to the session builder as is. DuckDB: `memory_limit`
    (such as 4GB; default 80% of RAM) bounds its memory, spilling the rest to `temp_directory`
    (default: a private temporary folder).
    """

    name: str = "duckdb"
    master: str = "local[2]"
    app_name: str = "custlens"
    conf: dict[str, str] = field(default_factory=dict)
    memory_limit: str | None = None
    temp_directory: str | None = None
