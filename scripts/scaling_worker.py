"""One scaling measurement in a fresh process: prints one JSON line with time and memory.

.venv/bin/python scripts/scaling_worker.py VARIANT ENGINE PARQUET AS_OF MODEL_DIR [MASTER] [LIMIT]

VARIANT is features (the whole table in pandas, as training reads it), feature_blocks (kept on
the engine and read in blocks of 50,000 customers, as scoring reads it) or score; ENGINE duckdb
or spark; LIMIT DuckDB's memory_limit (such as 2GB; "none" for DuckDB's default). Peak memory
is the largest sum of the resident memory of this process and its children (the JVM and Python
workers for Spark), sampled every 0.2 s; the engine starts before the clock does.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

SAMPLE_SECONDS = 0.2


def tree_rss_gb(root: int) -> float:
    """Resident memory of `root` and all its descendants, from /proc."""
    parents, rss = {}, {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0"))
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        frontier = [c for c in children if c not in tree]
        tree.update(frontier)
    return sum(rss.get(p, 0) for p in tree) / 1024**2


class PeakSampler(threading.Thread):
    """Keeps the peak of `tree_rss_gb` for this process while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        import os

        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss_gb(os.getpid()))
            self.done.wait(SAMPLE_SECONDS)


def features(con: object, path: str, as_of: str, model_dir: str, out: Path) -> int:
    """The full feature build (every family, BTYD fits included), collected on the driver."""
    from custlens.features.build import build_features

    return len(build_features(path, as_of, con=con))


def feature_blocks(con: object, path: str, as_of: str, model_dir: str, out: Path) -> int:
    """The same features kept on the engine and fetched in blocks of customers."""
    from custlens.features.blocks import features_on_engine
    from custlens.scoring.batch import DEFAULT_CHUNK

    with features_on_engine(path, as_of, con=con) as built:
        return sum(len(block) for block in built.blocks(DEFAULT_CHUNK))


def score(con: object, path: str, as_of: str, model_dir: str, out: Path) -> int:
    """Features plus scores with reasons, written as Parquet: on DuckDB in blocks of customers
    (as scripts/score.py does), on Spark by the model's UDF."""
    import pandas as pd

    from custlens.cli.output import StagedTable
    from custlens.scoring.batch import check_reconciliation, features_as_of
    from custlens.scoring.blocks import score_in_blocks
    from custlens.tracking import registry

    uri = Path(model_dir, "model_uri.txt").read_text().strip()
    scorer = registry.load_scorer(uri)
    if con.name != "pyspark":
        with StagedTable(out / "scores.parquet") as staged:
            check, _ = score_in_blocks(path, as_of, scorer, staged.write, con=con)
            check_reconciliation(check)
            staged.commit()
        return check.scored
    from custlens.engines.spark import session_of
    from custlens.scoring import spark

    frame = features_as_of(path, as_of, scorer, con=con)
    session = session_of(con)
    udf, inputs = registry.spark_scorer_udf(session, uri)
    parts = int(session.conf.get("spark.sql.shuffle.partitions"))
    scored = spark.apply_scorer(spark.to_spark(session, frame, parts), udf, inputs, "bench")
    scored.write.partitionBy(spark.PARTITION_COLUMN).parquet(str(out / "scores.parquet"))
    return int(pd.read_parquet(out / "scores.parquet", columns=["customer_id"]).shape[0])


def log_model(model_dir: str) -> None:
    """Log the pickled benchmark scorer as an MLflow model; its URI goes to model_uri.txt."""
    import pickle  # noqa: S403 - the benchmark's own artifact

    import mlflow

    from custlens.data.synthetic import generate_transactions
    from custlens.scoring.batch import features_as_of
    from custlens.tracking import registry
    from custlens.tracking.mlflow_io import use_store

    folder = Path(model_dir)
    use_store(f"sqlite:///{folder / 'mlflow.db'}", "scaling")
    scorer = pickle.loads((folder / "scorer.pkl").read_bytes())  # noqa: S301
    log, _ = generate_transactions(300, start="2021-01-01", end="2023-06-30", seed=1)
    example = features_as_of(log, "2023-06-01", scorer).head(200)
    with mlflow.start_run():
        info = registry.log_scorer(scorer, example)
    (folder / "model_uri.txt").write_text(info.model_uri)


def main(
    variant: str, engine: str, path: str, as_of: str, model_dir: str, master: str, limit: str
) -> None:
    """Start the engine, then time only the work."""
    import mlflow

    from custlens.engines import EngineSpec, open_engine

    if variant == "log":
        log_model(model_dir)
        return
    mlflow.set_tracking_uri(f"sqlite:///{Path(model_dir) / 'mlflow.db'}")
    sampler = PeakSampler()
    sampler.start()
    # 4g: a local session runs everything in the driver JVM, whose default heap is 1g
    spec = EngineSpec(
        name=engine,
        master=master,
        conf={"spark.driver.memory": "4g"},
        memory_limit=None if limit == "none" else limit,
    )
    out = Path(tempfile.mkdtemp(prefix="custlens-scaling-out-"))
    try:
        started = time.perf_counter()
        with open_engine(spec) as con:
            ready = time.perf_counter()
            variants = {"features": features, "feature_blocks": feature_blocks, "score": score}
            rows = variants[variant](con, path, as_of, model_dir, out)
            seconds = time.perf_counter() - ready
    finally:
        shutil.rmtree(out, ignore_errors=True)
    sampler.done.set()
    sampler.join()
    result = {
        "variant": variant,
        "engine": engine,
        "memory_limit": limit,
        "seconds": seconds,
        "startup_seconds": ready - started,
        "peak_gb": sampler.peak,
        "rows": rows,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:6], *(sys.argv[6:7] or ["local[2]"]), *(sys.argv[7:8] or ["none"]))
