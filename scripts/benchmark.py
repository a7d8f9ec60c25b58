"""Feature-build speed against the DuckDB floor and a pandas groupby, in one run.

    .venv/bin/python scripts/benchmark.py [n_customers=1000000] [repeats=3]
    .venv/bin/python scripts/benchmark.py variants=[features,score] repeats=1   # scoring speed

Writes a synthetic log (about 10 transactions per customer) to Parquet once, then times each
variant in its own process (round-robin over the repeats) and prints wall and CPU seconds and
their ratios to the floor. Variants: floor (bare DuckDB GROUP BY customer_id count and sum),
order_pass / product_pass / both_passes (the bare GROUP BY (customer, order) and
(customer, product) that every build of this catalogue needs: the lower bound), features (the
full build), pandas_rfm (core RFM with a plain pandas groupby), score (features plus scoring).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from custlens.cli.config import register
from custlens.data.synthetic import generate_transactions

register()
WORKER = Path(__file__).with_name("bench_worker.py")


def synthetic_parquet(folder: Path, n_customers: int, seed: int) -> tuple[Path, str, int]:
    """The benchmark log (cached by its parameters), its last day and its row count."""
    path = folder / f"synthetic_{n_customers}_{seed}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        log, _ = generate_transactions(n_customers, seed=seed)
        log.to_parquet(path.with_suffix(".tmp"), index=False)
        os.replace(path.with_suffix(".tmp"), path)
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["timestamp"])
    last = max(table.column("timestamp").to_pylist()).date().isoformat()
    return path, last, table.num_rows


def scorer_pickle(folder: Path, seed: int) -> Path:
    """A scorer trained on the smoke configuration (small synthetic log), pickled once."""
    path = folder / f"scorer_smoke_{seed}.pkl"
    if not path.exists():  # trained in its own process: Hydra is already running in this one
        subprocess.run([sys.executable, str(WORKER), "train", "", "", str(path)], check=True)
    return path


def measure(variant: str, path: Path, as_of: str, scorer: Path | None = None) -> dict:
    """One run of a variant in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, str(WORKER), variant, str(path), as_of, str(scorer or "")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@hydra.main(config_path="../conf", config_name="benchmark", version_base=None)
def main(cfg: DictConfig) -> None:
    """Run every variant `repeats` times and print the table."""
    path, as_of, rows = synthetic_parquet(Path(cfg.workdir), cfg.n_customers, cfg.seed)
    print(f"{rows:,} transactions, {cfg.n_customers:,} customers, as_of {as_of}, {path}")
    scorer = scorer_pickle(Path(cfg.workdir), cfg.seed) if "score" in cfg.variants else None
    # Round-robin: each repeat runs every variant once, so a busy spell on the machine hits
    # them alike and the ratios stay fair.
    runs: dict[str, list[dict]] = {variant: [] for variant in cfg.variants}
    for _ in range(cfg.repeats):
        for variant in cfg.variants:
            runs[variant].append(measure(variant, path, as_of, scorer))
    results = {
        variant: {
            "seconds": statistics.median(r["seconds"] for r in done),
            "cpu": statistics.median(r["cpu_seconds"] for r in done),
            "peak_gb": max(r["peak_gb"] for r in done),
            "rows": done[0]["rows"],
        }
        for variant, done in runs.items()
    }
    floor = results.get("floor")
    print(
        f"{'variant':<14}{'seconds':>9}{'x floor':>9}{'cpu s':>8}{'cpu x floor':>13}"
        f"{'peak GB':>9}{'rows':>11}"
    )
    for variant, r in results.items():
        ratio = f"{r['seconds'] / floor['seconds']:.2f}" if floor else "-"
        cpu_ratio = f"{r['cpu'] / floor['cpu']:.2f}" if floor else "-"
        print(
            f"{variant:<14}{r['seconds']:>9.2f}{ratio:>9}{r['cpu']:>8.2f}{cpu_ratio:>13}"
            f"{r['peak_gb']:>9.2f}{r['rows']:>11,}"
        )
    for variant in ("features", "score"):
        if variant in results:
            rate = results[variant]["rows"] / results[variant]["seconds"]
            print(f"{variant}: {rate:,.0f} customers per second")
    if "features" in results and "pandas_rfm" in results:
        speedup = results["pandas_rfm"]["seconds"] / results["features"]["seconds"]
        print(f"full feature build is {speedup:.1f}x faster than the pandas RFM groupby")
    if "features" in results and "both_passes" in results:
        bound = results["features"]["seconds"] / results["both_passes"]["seconds"]
        print(f"full feature build is {bound:.1f}x the two unavoidable passes (lower bound)")


if __name__ == "__main__":
    main()
