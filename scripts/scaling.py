"""How the feature build and scoring grow with the data: synthetic logs of 1M to 50M lines.

    .venv/bin/python scripts/scaling.py                     # sizes, engines: conf/scaling.yaml
    .venv/bin/python scripts/scaling.py sizes=[1000000] variants=[features]

Each log is generated and written in chunks of customers (bounded memory) as a folder of
Parquet files, once, under `workdir`; each variant then runs in a fresh process
(scripts/scaling_worker.py) and the table prints time, peak memory of the whole process tree
(the JVM included) and the ratios to the smallest size, all measured in this one run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hydra
import pyarrow.parquet as pq
from omegaconf import DictConfig

from custlens.cli.config import register
from custlens.data.synthetic import generate_transactions

register()
HERE = Path(__file__).parent
LINES_PER_CUSTOMER = 10.44  # measured on the generator's defaults (10,438,520 for 1M)


def write_log(folder: Path, lines: int, seed: int, chunk: int) -> tuple[str, str, int]:
    """A folder of Parquet chunks with about `lines` transactions; its glob, last day, rows."""
    customers = max(1, round(lines / LINES_PER_CUSTOMER))
    path = folder / f"log_{lines}_{seed}"
    if not (path / "_DONE").exists():
        path.mkdir(parents=True, exist_ok=True)
        for index, start in enumerate(range(0, customers, chunk)):
            log, _ = generate_transactions(min(chunk, customers - start), seed=seed + index)
            for column in ("customer_id", "order_id"):  # unique across chunks
                log[column] = f"k{index}-" + log[column]
            # microseconds: Spark cannot read pandas' default nanosecond timestamps
            log.to_parquet(path / f"part-{index:04d}.parquet", coerce_timestamps="us")
        (path / "_DONE").touch()
    files = sorted(path.glob("part-*.parquet"))
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    last = max(
        pq.read_table(f, columns=["timestamp"]).column("timestamp").to_pandas().max()
        for f in files
    )
    return str(path / "*.parquet"), last.date().isoformat(), rows


def logged_model(folder: Path, seed: int) -> Path:
    """The smoke-configuration scorer, trained and logged to an MLflow store once."""
    model_dir = folder / f"model_smoke_{seed}"
    if not (model_dir / "model_uri.txt").exists():
        model_dir.mkdir(parents=True, exist_ok=True)
        trainer = [str(HERE / "bench_worker.py"), "train", "", "", str(model_dir / "scorer.pkl")]
        subprocess.run([sys.executable, *trainer], check=True)
        logger = [str(HERE / "scaling_worker.py"), "log", "", "", "", str(model_dir)]
        subprocess.run([sys.executable, *logger], check=True)
    return model_dir


def measure(variant: str, engine: str, log: str, as_of: str, model: Path, cfg: DictConfig) -> dict:
    """One run of a variant in a fresh interpreter (its last output line is the result)."""
    limit = str(cfg.duckdb_memory_limit or "none")
    args = [variant, engine, log, as_of, str(model), cfg.spark_master, limit]
    done = subprocess.run(
        [sys.executable, str(HERE / "scaling_worker.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=cfg.timeout_seconds,
    )
    if done.returncode != 0:
        return {"variant": variant, "engine": engine, "error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    """Markdown rows with time and memory, and time per line relative to the smallest size."""
    lines = [
        "| lines | customers | engine | variant | seconds | s per 1M lines | x smallest "
        "| peak GB | engine start s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {}
    for r in results:
        key = (r["engine"], r["variant"])
        if "error" in r:
            lines.append(f"| {r['lines']:,} | | {r['engine']} | {r['variant']} | failed | | | | |")
            continue
        per_million = r["seconds"] / (r["lines"] / 1e6)
        base.setdefault(key, r["seconds"])
        lines.append(
            f"| {r['lines']:,} | {r['rows']:,} | {r['engine']} | {r['variant']} "
            f"| {r['seconds']:.1f} | {per_million:.2f} | {r['seconds'] / base[key]:.1f} "
            f"| {r['peak_gb']:.2f} | {r['startup_seconds']:.1f} |"
        )
    return "\n".join(lines)


@hydra.main(config_path="../conf", config_name="scaling", version_base=None)
def main(cfg: DictConfig) -> None:
    """Generate each size once, then every variant on DuckDB (and Spark where asked)."""
    folder = Path(cfg.workdir)
    model = logged_model(folder, cfg.seed) if "score" in cfg.variants else folder
    print(
        f"machine: {os.cpu_count()} cores; model {model}; "
        f"DuckDB memory_limit {cfg.duckdb_memory_limit or 'default (80% of RAM)'}"
    )
    results = []
    for lines in cfg.sizes:
        log, as_of, rows = write_log(folder, lines, cfg.seed, cfg.chunk_customers)
        print(f"{rows:,} transactions as of {as_of}: {log}", flush=True)
        engines = ["duckdb", *(["spark"] if lines in cfg.spark_sizes else [])]
        for engine in engines:
            for variant in cfg.variants:
                if engine == "spark" and variant == "feature_blocks":
                    continue  # Spark scores on its executors: no blocks on the driver
                result = measure(variant, engine, log, as_of, model, cfg)
                results.append({**result, "lines": rows})
                print(json.dumps(results[-1]), flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
