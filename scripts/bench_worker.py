"""One benchmark measurement in a fresh process: prints {"seconds": ..., "cpu_seconds": ...,
"peak_gb": ...}. CPU seconds (user + system, all threads) are much less sensitive than wall
time to other jobs competing for the cores, so variants stay comparable on a busy machine.

.venv/bin/python scripts/bench_worker.py VARIANT PARQUET AS_OF
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_memory_gb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def cpu_seconds() -> float:
    """User plus system time of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def score_from_parquet(path: str, as_of: str, scorer_path: str) -> object:
    """Features of every customer, then the scorer with reasons, in chunks."""
    import pickle  # noqa: S403 - the benchmark's own artifact

    import pandas as pd

    from custlens.features.build import build_features
    from custlens.scoring.batch import score_features

    scorer = pickle.loads(Path(scorer_path).read_bytes())  # noqa: S301
    features = build_features(path, as_of, scorer.feature_spec)
    features.insert(1, "as_of", pd.Timestamp(as_of))
    return score_features(features, scorer)


def train_scorer(scorer_path: str) -> None:
    """Train on the smoke configuration (small synthetic log) and pickle the scorer."""
    import pickle  # noqa: S403 - the benchmark's own artifact

    from hydra import compose, initialize_config_dir

    from custlens.cli import train_job
    from custlens.cli.config import register

    register()
    conf = str(Path(__file__).resolve().parents[1] / "conf")
    with initialize_config_dir(config_dir=conf, version_base=None):
        cfg = compose("train", ["debug=smoke", "tracking=disabled"])
    Path(scorer_path).write_bytes(pickle.dumps(train_job.run(cfg).scorer))


def main(variant: str, path: str, as_of: str, scorer_path: str = "") -> None:
    """Import first, then time only the work."""
    if variant == "train":
        train_scorer(scorer_path)
        return
    from custlens.features import reference
    from custlens.features.build import build_features

    work = {
        "floor": lambda: reference.duckdb_floor(path),
        "order_pass": lambda: reference.duckdb_order_pass(path),
        "product_pass": lambda: reference.duckdb_product_pass(path),
        "both_passes": lambda: reference.duckdb_both_passes(path),
        "features": lambda: build_features(path, as_of),
        "pandas_rfm": lambda: reference.pandas_rfm(path, as_of),
        "score": lambda: score_from_parquet(path, as_of, scorer_path),
    }[variant]
    cpu_start, start = cpu_seconds(), time.perf_counter()
    rows = len(work())
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
    peak_gb = peak_memory_gb()
    print(
        json.dumps(
            {
                "variant": variant,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_gb": peak_gb,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
