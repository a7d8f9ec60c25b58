"""Speed and memory of the feature build and of scoring with reasons, in one run.

    .venv/bin/python tools/benchmark.py                      # 1M customers (~10M lines)
    .venv/bin/python tools/benchmark.py sizes=[1000000,10000000,50000000] repeats=1
    .venv/bin/python tools/benchmark.py variants=[floor,both_passes,features,pandas_rfm]

Writes each synthetic log (about 10.4 lines per customer) as a folder of Parquet files once,
and trains the scorer once with the default configuration (`scripts/train.py
data=synthetic`, `train_customers` customers) into a private MLflow store under `workdir`.
Every variant then runs as its own process, round-robin over the repeats, timed from launch
to exit (interpreter start and imports included) with the peak resident memory of its whole
process tree sampled every 0.25 s. `score` is exactly the user's command, `scripts/score.py
data=parquet_log` with the trained model; `features` builds the same features the same way
(on DuckDB, read in blocks) and stops there; `score_ledger` is `score` recording every score
in a ledger (custlens.monitoring.ledger); the other variants are floors and alternatives
(tools/bench_worker.py). Times are medians; ratios are to `floor` at the same size.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import hydra
import pyarrow.parquet as pq
from hydra import compose
from omegaconf import DictConfig

from custlens.config import register, training_spec
from custlens.data.synthetic import generate_transactions

register()
HERE = Path(__file__).parent
SCRIPTS = HERE.parent / "scripts"  # the user commands the benchmark times
SAMPLE_SECONDS = 0.25
SCORING = ("score", "score_ledger")  # the user's command, without and with the score ledger
LINES_PER_CUSTOMER = 10.44  # the generator's defaults: 10,438,520 lines for 1M customers


def write_log(folder: Path, customers: int, seed: int, chunk: int) -> tuple[str, str, int]:
    """A folder of Parquet chunks of the synthetic log; its glob, last day and line count."""
    path = folder / f"log_{customers}_{seed}"
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


def trained_model(folder: Path, cfg: DictConfig) -> tuple[str, str]:
    """The default configuration's scorer, trained once per configuration (the hash of its
    training settings names the store); (tracking URI, model URI)."""
    args = [
        "data=synthetic",
        f"data.synthetic.n_customers={cfg.train_customers}",
        f"seed={cfg.seed}",
        "register.name=custlens-bench",
    ]
    spec = training_spec(compose("train", args))  # inside this Hydra app
    store = folder / f"model_{spec.fingerprint()}"
    uri, model = f"sqlite:///{store / 'mlflow.db'}", "models:/custlens-bench/1"
    if not (store / "_DONE").exists():
        store.mkdir(parents=True, exist_ok=True)
        done = run(
            [sys.executable, str(SCRIPTS / "train.py"), *args, f"tracking.uri={uri}"], store
        )
        print(f"trained the default configuration in {done['seconds']:.1f} s ({store})")
        (store / "_DONE").touch()
    return uri, model


def tree_rss_gb(root: int) -> float:
    """Resident memory of `root` and all its descendants, from /proc (reading only the tree's
    own entries, so the sampling costs the measured process next to nothing)."""
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            tasks = Path(f"/proc/{pid}/task").iterdir()
            for task in tasks:
                frontier += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the process ended meanwhile
            continue
        rss = next((line for line in status.splitlines() if line.startswith("VmRSS:")), None)
        total += int(rss.split()[1]) if rss else 0
    return total / 1024**2


def run(command: list[str], cwd: Path | None = None) -> dict:
    """Run a command to its end: wall seconds, peak tree memory, its last output line."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own scripts
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0.0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_gb(process.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err[-2000:]}")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return {"seconds": seconds, "peak_gb": peak[0], "last": last}


def measure(variant: str, log: str, as_of: str, model: tuple[str, str], cfg: DictConfig) -> dict:
    """One run of a variant in a fresh process."""
    if variant not in SCORING:
        result = run([sys.executable, str(HERE / "bench_worker.py"), variant, log, as_of])
        return {**result, "rows": json.loads(result["last"])["rows"]}
    with tempfile.TemporaryDirectory(prefix="custlens-bench-") as folder:
        output = Path(folder, "scores.parquet")
        command = [
            sys.executable,
            str(SCRIPTS / "score.py"),
            "data=parquet_log",
            f"data.path={log}",
            f"as_of={as_of}",
            f"output={output}",
            f"model_uri={model[1]}",
            f"tracking.uri={model[0]}",
            f"engine.memory_limit={cfg.memory_limit or 'null'}",
            f"hydra.run.dir={folder}",
            f"ledger.path={Path(folder, 'ledger') if variant == 'score_ledger' else 'null'}",
        ]
        result = run(command)
        return {**result, "rows": pq.ParquetFile(output).metadata.num_rows}


def table(results: dict[tuple[int, str], list[dict]]) -> str:
    """Markdown rows: medians, ratios to the floor, customers per second, peak memory."""
    lines = [
        "| lines | customers | variant | seconds (median) | x floor | customers per second "
        "| peak GB |",
        "|---|---|---|---|---|---|---|",
    ]
    for (size, variant), runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        floor = results.get((size, "floor"))
        ratio = f"{seconds / statistics.median(r['seconds'] for r in floor):.2f}" if floor else ""
        rows = runs[0]["rows"]
        lines.append(
            f"| {runs[0]['lines']:,} | {rows:,} | {variant} | {seconds:.1f} | {ratio} "
            f"| {rows / seconds:,.0f} | {max(r['peak_gb'] for r in runs):.2f} |"
        )
    return "\n".join(lines)


@hydra.main(config_path="../conf", config_name="benchmark", version_base=None)
def main(cfg: DictConfig) -> None:
    """Generate, train once, then every variant at every size, round-robin."""
    folder = Path(cfg.workdir)
    model = trained_model(folder, cfg) if set(SCORING) & set(cfg.variants) else ("", "")
    limit = cfg.memory_limit or "DuckDB's default (80% of RAM)"
    print(f"machine: {os.cpu_count()} cores; scoring memory_limit {limit}; model {model[1]}")
    results: dict[tuple[int, str], list[dict]] = {}
    for customers in cfg.sizes:
        log, as_of, lines = write_log(folder, customers, cfg.seed, cfg.chunk_customers)
        print(f"{lines:,} lines, as_of {as_of}: {log}", flush=True)
        for _ in range(cfg.repeats):  # round-robin: a busy spell hits every variant alike
            for variant in cfg.variants:
                result = {**measure(variant, log, as_of, model, cfg), "lines": lines}
                results.setdefault((customers, variant), []).append(result)
                print(json.dumps({"customers": customers, "variant": variant, **result}))
    print(table(results))


if __name__ == "__main__":
    main()
