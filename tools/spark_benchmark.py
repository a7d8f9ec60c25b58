"""Features and scoring on a Spark standalone cluster next to DuckDB, with the driver's and
each executor's peak memory, at growing log sizes:

    .venv/bin/python tools/spark_benchmark.py                       # ~1M and ~10M lines
    .venv/bin/python tools/spark_benchmark.py sizes=[96000] repeats=3

The cluster is the test fixture's shape (tests/spark/cluster.py): a master and two one-core
workers on 127.0.0.1, started here and stopped at the end. The logs and the scorer are those
of tools/benchmark.py (same generator, same default configuration). Every variant is the
user's command in its own process: scripts/build_features.py and scripts/score.py with
`data=parquet_log`, on `engine=duckdb` or on the cluster. The driver's peak is that of the
command's process tree (Python and the driver JVM it starts); an executor's is that of its JVM
and the Python workers it forks, sampled every 0.25 s. Medians over the repeats.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import hydra
from benchmark import SCRIPTS, run, trained_model, tree_rss_gb, write_log
from omegaconf import DictConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' cluster launcher
from tests.spark.cluster import LOOPBACK, start_cluster  # noqa: E402

SAMPLE_SECONDS = 0.25
EXECUTOR_CLASS = "CoarseGrainedExecutorBackend"


def executor_pids() -> list[int]:
    """The executor JVMs running now, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if EXECUTOR_CLASS in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


class ExecutorPeaks:
    """Peak resident memory of every executor's process tree while it runs."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ExecutorPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid in executor_pids():
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), tree_rss_gb(pid))
            time.sleep(SAMPLE_SECONDS)


def command(
    variant: str,
    log: str,
    as_of: str,
    model: tuple[str, str],
    cfg: DictConfig,
    master: str,
    folder: str,
) -> list[str]:
    """The user's command of a variant: {duckdb,spark}_{features,score}."""
    engine, job = variant.split("_")
    output = Path(folder, f"{job}.parquet")
    args = [
        sys.executable,
        str(SCRIPTS / ("build_features.py" if job == "features" else "score.py")),
        "data=parquet_log",
        f"data.path={log}",
        f"as_of={as_of}",
        f"output={output}",
        f"tracking.uri={model[0]}",
        f"hydra.run.dir={folder}",
    ]
    if job == "score":
        args.append(f"model_uri={model[1]}")
    if engine == "spark":
        conf = {
            "spark.driver.host": LOOPBACK,
            "spark.driver.bindAddress": LOOPBACK,
            "spark.ui.enabled": "false",
            "spark.driver.memory": cfg.driver_memory,
            "spark.executor.memory": cfg.executor_memory,
            "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
            "spark.pyspark.python": sys.executable,
        }
        pairs = ",".join(f"{k}:'{v}'" for k, v in conf.items())
        args += ["engine=spark", f"engine.master={master}", f"+engine.conf={{{pairs}}}"]
    return args


def table(results: dict[tuple[int, str], list[dict]]) -> str:
    """Markdown rows: medians, the driver's peak and the executors' peaks."""
    lines = [
        "| lines | customers | variant | seconds (median) | driver peak GB | executor peaks GB |",
        "|---|---|---|---|---|---|",
    ]
    for (_, variant), runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        executors = max((r["executor_peaks_gb"] for r in runs), key=len)
        shown = ", ".join(f"{p:.2f}" for p in executors) or "-"
        lines.append(
            f"| {runs[0]['lines']:,} | {runs[0]['customers']:,} | {variant} | {seconds:.1f} "
            f"| {max(r['peak_gb'] for r in runs):.2f} | {shown} |"
        )
    return "\n".join(lines)


@hydra.main(config_path="../conf", config_name="spark_benchmark", version_base=None)
def main(cfg: DictConfig) -> None:
    """Generate, train once, start the cluster, then every variant at every size."""
    folder = Path(cfg.workdir)
    model = trained_model(folder, cfg)
    results: dict[tuple[int, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="custlens-cluster-") as logs:
        cluster = start_cluster(Path(logs), memory=cfg.worker_memory)
        try:
            print(f"machine: {os.cpu_count()} cores; cluster {cluster.url}; model {model[1]}")
            for customers in cfg.sizes:
                log, as_of, lines = write_log(folder, customers, cfg.seed, cfg.chunk_customers)
                print(f"{lines:,} lines, as_of {as_of}: {log}", flush=True)
                for _ in range(cfg.repeats):
                    for variant in cfg.variants:
                        with tempfile.TemporaryDirectory(prefix="custlens-bench-") as out:
                            args = command(variant, log, as_of, model, cfg, cluster.url, out)
                            with ExecutorPeaks() as executors:
                                result = run(args)
                        peaks = sorted(executors.peaks.values(), reverse=True)
                        result = {
                            **result,
                            "lines": lines,
                            "customers": customers,
                            "executor_peaks_gb": peaks,
                        }
                        results.setdefault((customers, variant), []).append(result)
                        print(json.dumps({"variant": variant, **result}), flush=True)
        finally:
            cluster.processes.stop()
    print(table(results))


if __name__ == "__main__":
    main()
