"""The monitor measured: its false alarms and its detections on synthetic logs, and its time
and memory on a ledger of twelve monthly entries of a million customers.

    .venv/bin/python tools/monitor_benchmark.py                       # alarms: 3 scenarios
    .venv/bin/python tools/monitor_benchmark.py part=scale            # 12 x 1M customers

part=alarms: a stationary synthetic log (customers arrive at a constant rate for years, every
one following the same BG/NBD-style process), one model trained on everything before
`train_until`, scoring every month for a year into a ledger, and the monitor run at each of
those months: how often its verdict is not `ok` (false alarms). Then the same year with a shift
injected from `shift_from` on (every price tripled; or every other order dropped, purchase
frequency halved): the first month whose verdict is `watch` or `retrain`, and the features it
names. Everything in process, through the library.

part=scale: the benchmark log of tools/benchmark.py (`sizes[0]` customers, Parquet), twelve
monthly entries scored by scripts/score.py into a private ledger (not timed), then
scripts/monitor.py on it, timed from launch to exit with the peak memory of its process tree,
`repeats` times.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from custlens import training
from custlens.config import register
from custlens.data.load import LoadedData
from custlens.data.synthetic import generate_transactions
from custlens.monitoring import ledger
from custlens.monitoring.monitor import MonitorSettings, monitor
from custlens.scoring.blocks import score_in_blocks

register()
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import benchmark  # noqa: E402 - the speed benchmark's log, model and process timing


def months(start: str, count: int) -> list[str]:
    """The last days of `count` months from `start`'s month on."""
    return [str(d.date()) for d in pd.date_range(start, periods=count, freq="ME")]


def shifted(log: pd.DataFrame, kind: str, start: str, seed: int) -> pd.DataFrame:
    """The log with a shift from `start` on: prices tripled, or every other order dropped."""
    later = log["timestamp"] >= pd.Timestamp(start)
    out = log.copy()
    if kind == "prices":
        out.loc[later, ["amount", "unit_price"]] *= 3
    elif kind == "frequency":
        orders = out.loc[later, "order_id"].unique()
        rng = np.random.default_rng(seed)
        dropped = set(orders[rng.random(orders.size) < 0.5])
        out = out.loc[~(later & out["order_id"].isin(dropped))]
    return out.reset_index(drop=True)


def scored_year(log: pd.DataFrame, scorer: object, days: list[str], book: Path) -> None:
    """The scorer's scores of every month into the ledger."""
    loaded = LoadedData(log, None, None)
    for day in days:
        with ledger.EntryWriter(book, ledger.entry_for(scorer, day, "synthetic")) as writer:
            score_in_blocks(loaded, day, scorer, observe=ledger.Recorder(writer))
            writer.commit()


def verdicts(log: pd.DataFrame, book: Path, days: list[str], settings: MonitorSettings) -> list:
    """The monitor's verdict at each month, with its reasons."""
    loaded = LoadedData(log, None, None)
    out = []
    for day in days:
        result = monitor(loaded, book, day, settings)
        out.append((day, result.verdict, result.reasons))
        print(f"  {day}: {result.verdict} {result.reasons[:2]}", flush=True)
    return out


def alarms(cfg: DictConfig) -> None:
    """False alarms on a stationary log, and detections of two injected shifts."""
    log, _ = generate_transactions(
        cfg.customers, cfg.start, cfg.end, seed=cfg.seed, birth_share=1.0
    )
    history = log.loc[log["timestamp"] < pd.Timestamp(cfg.train_until) + pd.Timedelta(days=1)]
    spec = training.TrainingSpec(seed=cfg.seed, threads=cfg.threads)
    trained = training.train(LoadedData(history, None, None), spec)
    scorer = trained.scorer
    scorer.model_version = "stationary/1"
    days = months(str(pd.Timestamp(cfg.train_until) + pd.Timedelta(days=1)), 12)
    settings = MonitorSettings(seed=cfg.seed)
    folder = Path(cfg.workdir)
    rows = []
    for kind in cfg.scenarios:
        print(f"scenario {kind}", flush=True)
        data = shifted(log, kind, cfg.shift_from, cfg.seed)
        book = folder / f"ledger_{kind}_{cfg.customers}_{cfg.seed}"
        scored_year(data, scorer, days, book)
        for day, verdict, reasons in verdicts(data, book, days, settings):
            after = pd.Timestamp(day) >= pd.Timestamp(cfg.shift_from)
            rows.append({"scenario": kind, "month": day, "after_shift": after and kind != "none",
                         "verdict": verdict, "reasons": len(reasons),
                         "first_reason": reasons[0] if reasons else ""})  # fmt: skip
    table = pd.DataFrame(rows)
    table.to_csv(folder / f"alarms_{cfg.customers}_{cfg.seed}.csv", index=False)
    for kind, part in table.groupby("scenario", sort=False):
        alarm = part["verdict"] != "ok"
        if kind == "none":
            print(f"{kind}: {int((~alarm).sum())} of {len(part)} months ok (false alarms "
                  f"{int(alarm.sum())})")  # fmt: skip
        else:
            before, after = part.loc[~part["after_shift"]], part.loc[part["after_shift"]]
            first = after.loc[after["verdict"] != "ok"].head(1)
            print(f"{kind}: before the shift {int((before['verdict'] != 'ok').sum())} alarms in "
                  f"{len(before)} months; first alarm after it: "
                  f"{first['month'].iloc[0] if len(first) else 'none'} "
                  f"({first['first_reason'].iloc[0] if len(first) else ''})")  # fmt: skip


def scale(cfg: DictConfig) -> None:
    """scripts/monitor.py on twelve monthly entries of `sizes[0]` customers."""
    folder = Path(cfg.workdir)
    bench = cfg.bench
    log, _, lines = benchmark.write_log(folder, bench.sizes[0], bench.seed, bench.chunk_customers)
    uri, model = benchmark.trained_model(folder, bench)
    book = folder / f"ledger_scale_{bench.sizes[0]}"
    days = months(cfg.scale_from, 12)
    done = {e.as_of for e in ledger.entries(book)} if book.exists() else set()
    for day in days:
        if day in done:
            continue
        out = folder / f"scores_{day}.parquet"
        benchmark.run([sys.executable, str(benchmark.SCRIPTS / "score.py"), "data=parquet_log",
                       f"data.path={log}", f"as_of={day}", f"output={out}", "overwrite=true",
                       f"model_uri={model}", f"tracking.uri={uri}", f"ledger.path={book}",
                       f"hydra.run.dir={folder / 'h'}"])  # fmt: skip
        out.unlink(missing_ok=True)
        print(f"scored {day}", flush=True)
    command = [sys.executable, str(benchmark.SCRIPTS / "monitor.py"), "data=parquet_log",
               f"data.path={log}", f"ledger.path={book}", f"output={folder / 'monitor'}",
               f"tracking.uri={uri}", f"hydra.run.dir={folder / 'h'}"]  # fmt: skip
    runs = []
    for _ in range(cfg.repeats):
        result = benchmark.run(command)
        runs.append(result)
        print(f"monitor: {result['seconds']:.1f} s, peak {result['peak_gb']:.2f} GB", flush=True)
    entries = ledger.entries(book)
    print(
        f"| {lines:,} lines | {len(entries)} entries x {entries[0].rows:,} customers | "
        f"median {statistics.median(r['seconds'] for r in runs):.1f} s | "
        f"peak {max(r['peak_gb'] for r in runs):.2f} GB |"
    )


@hydra.main(config_path="../conf", config_name="monitor_benchmark", version_base=None)
def main(cfg: DictConfig) -> None:
    """One part of the measurement."""
    Path(cfg.workdir).mkdir(parents=True, exist_ok=True)
    {"alarms": alarms, "scale": scale}[cfg.part](cfg)


if __name__ == "__main__":
    main()
