"""Faults, with real processes: a killed scoring leaves no output and its staging is cleared by
the next run; two runs racing for one new output: exactly one wins; two runs scoring different
dates both land in the ledger; a killed run leaves the ledger as it was; bad Parquet input and
a damaged ledger entry are named; two trainings start together on a new MLflow store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from custlens.monitoring import ledger
from tests.helpers import ROOT, run_script

MODEL = "model_uri=models:/custlens-synthetic@champion"


def command(name: str, *overrides: str) -> list[str]:
    return [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *overrides]


def start(name: str, *overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        command(name, *overrides), cwd=tempfile.mkdtemp(prefix="custlens-run-"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def setup(champion_store, trained, tmp_path_factory: pytest.TempPathFactory) -> dict:
    uri, _ = champion_store
    folder = tmp_path_factory.mktemp("faults")
    log = folder / "log.parquet"
    trained.loaded.transactions.to_parquet(log, index=False, coerce_timestamps="us")
    return {"uri": uri, "log": log, "folder": folder, "last": str(trained.last_day)}


def score_args(setup: dict, as_of: str, output: Path, book: Path, *extra: str) -> list[str]:
    return ["data=parquet_log", f"data.path={setup['log']}", MODEL, f"as_of={as_of}",
            f"output={output}", f"ledger.path={book}", f"tracking.uri={setup['uri']}",
            f"hydra.run.dir={output.parent / 'h'}", *extra]  # fmt: skip


def writes(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("w-"))


def test_a_killed_scoring_leaves_nothing_and_the_next_run_clears_its_staging(
    setup: dict, tmp_path: Path
) -> None:
    book, day = tmp_path / "ledger", "2023-04-01"
    done = run_script("score", *score_args(setup, day, tmp_path / "first.parquet", book))
    assert done.returncode == 0, done.stderr[-2000:]
    entry = ledger.entry_folder(book, day, "custlens-synthetic/1")
    (before,) = writes(entry)
    out = tmp_path / "scores.parquet"
    args = score_args(setup, day, out, book, "chunk_size=20")
    process = start("score", *args)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        staged = list(tmp_path.glob(".custlens-staging-scores.parquet-*"))
        if staged and len(writes(entry)) == 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    assert list(tmp_path.glob(".custlens-staging-scores.parquet-*"))  # left by the killed run
    (kept,) = ledger.entries(book)
    assert kept.files[0].startswith(str(entry / before)) and kept.rows > 0  # as it was
    again = run_script("score", *args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert pd.read_parquet(out)["customer_id"].is_unique
    assert not list(tmp_path.glob(".custlens-staging-*"))  # the killed run's staging cleared
    assert len(writes(entry)) == 1 and writes(entry) != [before]  # replaced, leftovers gone


def test_two_runs_racing_for_one_new_output_exactly_one_wins(setup: dict, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    runs = [start("score", *score_args(setup, setup["last"], out, tmp_path / "ledger"))
            for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], [err[-1500:] for _, err in results]
    loser = next(err for code, err in results if code == 2)
    assert "exists" in loser.strip().splitlines()[-1] and "Traceback" not in loser
    assert pd.read_parquet(out)["customer_id"].is_unique
    assert not list(tmp_path.glob(".custlens-staging-*"))
    assert len(ledger.entries(tmp_path / "ledger")) == 1


def test_two_runs_scoring_different_dates_at_once_both_land(setup: dict, tmp_path: Path) -> None:
    book = tmp_path / "ledger"
    runs = [
        start("score", *score_args(setup, day, tmp_path / f"s{i}.parquet", book))
        for i, day in enumerate(("2023-03-01", "2023-04-01"))
    ]
    for p in runs:
        assert p.wait(timeout=300) == 0, p.stderr.read()[-2000:]
    assert [e.as_of for e in ledger.entries(book)] == ["2023-03-01", "2023-04-01"]


def test_a_truncated_parquet_input_is_bad_input_naming_the_file(
    setup: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    log = pd.read_parquet(setup["log"])
    log.iloc[:1000].to_parquet(folder / "part-0.parquet", coerce_timestamps="us")
    log.iloc[1000:].to_parquet(folder / "part-1.parquet", coerce_timestamps="us")
    part = folder / "part-1.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    out = tmp_path / "scores.parquet"
    args = score_args(setup, setup["last"], out, tmp_path / "ledger")
    args[1] = f"data.path={folder}"
    done = run_script("score", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"custlens: error: {part} is not a readable Parquet file: "
        + done.stderr.strip().split("Parquet file: ", 1)[1].splitlines()[0]
    )
    assert (
        not out.exists()
        and not (tmp_path / "ledger").exists()
        or not ledger.entries(tmp_path / "ledger")
    )


def test_a_damaged_ledger_entry_is_named_and_the_rest_is_judged(
    setup: dict, tmp_path: Path
) -> None:
    book = tmp_path / "ledger"
    for i, day in enumerate(("2023-03-01", "2023-04-01")):
        done = run_script("score", *score_args(setup, day, tmp_path / f"s{i}.parquet", book))
        assert done.returncode == 0, done.stderr[-2000:]
    damaged = ledger.entries(book)[1]
    part = Path(damaged.files[0])
    part.write_bytes(part.read_bytes()[:100])
    out = tmp_path / "monitor"
    done = run_script(
        "monitor", "data=parquet_log", f"data.path={setup['log']}", f"ledger.path={book}",
        f"output={out}", f"tracking.uri={setup['uri']}", f"hydra.run.dir={tmp_path / 'h'}",
        "monitor.resamples=30",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    warning = [x for x in done.stderr.splitlines() if x.startswith("custlens: warning")]
    assert (
        len(warning) == 1 and "as_of=2023-04-01" in warning[0] and "cannot be read" in warning[0]
    )
    judged = pd.read_csv(out / "metrics.csv")
    assert set(judged["as_of"]) == {"2023-03-01"}


def test_two_trainings_start_together_on_a_new_store(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}"
    args = ["data=synthetic", "data.synthetic.n_customers=300", "data.synthetic.end=2022-12-31",
            "horizon_days=60", "frames.step_days=60", "frames.min_history_days=120",
            "models.churn.n_estimators=5", "models.repurchase.n_estimators=5",
            "models.clv.n_estimators=5", "segmentation.k_range=[3,3]",
            f"tracking.uri={uri}"]  # fmt: skip
    runs = [start("train", *args, f"hydra.run.dir={tmp_path / f'h{i}'}") for i in range(2)]
    for p in runs:
        assert p.wait(timeout=600) == 0, p.stderr.read()[-2000:]
    mlflow.set_tracking_uri(uri)
    versions = mlflow.MlflowClient().search_model_versions("name='custlens-synthetic'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
