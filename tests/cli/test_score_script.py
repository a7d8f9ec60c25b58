"""scripts/score.py on a CSV log with a registered champion: reconciled, atomic, no overwrite."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pandas as pd

from custlens.data.synthetic import generate_transactions
from custlens.tracking import registry
from tests.helpers import loaded_of, run_script


def test_score_script_end_to_end(trained, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    from custlens.tracking.mlflow_io import use_store

    use_store(uri, "custlens")
    features = trained.scorer.feature_dtypes
    log, _ = generate_transactions(800, start="2021-01-01", end="2023-06-30", seed=21)
    # Postage lines: one customer has nothing else before as_of, one has them only after it.
    fees = log.iloc[:2].assign(
        customer_id=["FEES-ONLY", "FEES-LATER"],
        order_id=["F1", "F2"],
        timestamp=pd.to_datetime(["2022-03-01", "2023-06-20"]),
        product_id="POST",
    )
    csv = tmp_path / "log.csv"
    pd.concat([log, fees]).to_csv(csv, index=False)
    from custlens.features.build import build_features

    example = build_features(log, "2023-06-01", trained.scorer.feature_spec)
    example.insert(1, "as_of", pd.Timestamp("2023-06-01"))
    with mlflow.start_run():
        info = registry.log_scorer(
            trained.scorer, example[["customer_id", "as_of", *list(features)[1:]]]
        )
    version = registry.register(info.model_uri, "custlens-transactions_csv", {})
    registry.promote("custlens-transactions_csv", version)
    out = tmp_path / "scores.csv"
    args = [
        "data=transactions_csv",
        f"data.path={csv}",
        "as_of=2023-06-01",
        f"output={out}",
        f"tracking.uri={uri}",
        f"hydra.run.dir={tmp_path / 'h'}",
        "data.cleaning.non_product_codes=[POST]",
    ]
    done = run_script("score", *args)
    assert done.returncode == 0, done.stderr[-3000:]
    scores = pd.read_csv(out)
    assert list(scores.columns) == list(trained.scorer.output_columns)
    known = log.loc[log["timestamp"] < "2023-06-02", "customer_id"].nunique()
    assert len(scores) == known + 1 and scores["customer_id"].is_unique
    assert "FEES-ONLY" in set(scores["customer_id"]) - set(log["customer_id"])
    assert re.search(r"only non-product lines \(fees\), scored\s+1\n", done.stdout)
    assert (scores["model_version"] == "custlens-transactions_csv/1").all()
    before = out.stat().st_mtime_ns
    again = run_script("score", *args)
    assert again.returncode == 2 and "overwrite=true" in again.stderr
    assert out.stat().st_mtime_ns == before
    early = run_script(
        "score", *[a.replace("2023-06-01", "2019-01-01") for a in args], "overwrite=true"
    )
    assert early.returncode == 2 and "before the start" in early.stderr
    assert out.stat().st_mtime_ns == before


def test_invalid_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "log.csv"
    bad.write_text("customer_id,timestamp,amount\nc1,2024-01-01,ten\n")
    out = tmp_path / "scores.parquet"
    done = run_script(
        "score",
        "data=transactions_csv",
        f"data.path={bad}",
        "as_of=2024-01-01",
        f"output={out}",
        "tracking=disabled",
        f"hydra.run.dir={tmp_path / 'h'}",
        "model_uri=models:/nowhere@champion",
    )
    assert done.returncode == 2 and "non-numeric values in column 'amount'" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_parquet_log_is_scored_where_it_lies(champion_store, trained, tmp_path: Path) -> None:
    """data=parquet_log: the same scores as scoring the log in memory, in small blocks."""
    from custlens.scoring.blocks import score_transactions

    uri, _ = champion_store
    log = trained.loaded.transactions
    folder = tmp_path / "log"
    folder.mkdir()
    first = log["customer_id"] < sorted(log["customer_id"].unique())[700]
    for index, part in enumerate((log[first], log[~first])):
        part.to_parquet(folder / f"part-{index}.parquet", index=False, coerce_timestamps="us")
    out = tmp_path / "scores.parquet"
    as_of = str(trained.last_day)
    done = run_script(
        "score", "data=parquet_log", f"data.path={folder}", f"as_of={as_of}", f"output={out}",
        "model_uri=models:/custlens-synthetic@champion", "chunk_size=333",
        f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'h'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    expected, _ = score_transactions(loaded_of(log), as_of, trained.scorer)
    written = pd.read_parquet(out)
    assert written["model_version"].eq("custlens-synthetic/1").all()
    expected["as_of"] = expected["as_of"].astype(written["as_of"].dtype)  # Parquet: no seconds
    pd.testing.assert_frame_equal(
        written.drop(columns="model_version"), expected.drop(columns="model_version")
    )
    refused = run_script(
        "train", "data=parquet_log", f"data.path={folder}", "tracking=disabled",
        f"hydra.run.dir={tmp_path / 'h2'}",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "only scripts/score.py and scripts/build_features.py accept" in refused.stderr


def test_bad_scoring_settings_and_a_stale_as_of(champion_store, trained, tmp_path: Path) -> None:
    """chunk_size=0 is one clear error before any work; an as_of far past the log's last line
    scores, with one warning naming both dates."""
    uri, _ = champion_store
    log = tmp_path / "log.parquet"
    trained.loaded.transactions.to_parquet(log, index=False, coerce_timestamps="us")
    model = "model_uri=models:/custlens-synthetic@champion"
    args = ["data=parquet_log", f"data.path={log}", model, f"tracking.uri={uri}",
            f"hydra.run.dir={tmp_path / 'h'}"]  # fmt: skip
    out = tmp_path / "scores.parquet"
    zero = run_script("score", *args, f"as_of={trained.last_day}", f"output={out}", "chunk_size=0")
    assert zero.returncode == 2 and not out.exists()
    assert zero.stderr.strip().splitlines()[-1] == (
        "custlens: error: chunk_size must be a whole number of at least 1, not 0"
    )
    late = run_script("score", *args, "as_of=2041-06-30", f"output={out}")
    assert late.returncode == 0, late.stderr[-2000:]
    warning = [line for line in late.stderr.splitlines() if line.startswith("custlens: warning")]
    assert len(warning) == 1
    assert "as_of 2041-06-30 is" in warning[0] and f"({trained.last_day})" in warning[0]
