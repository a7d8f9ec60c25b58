"""The main script end to end: training tracked and registered, the scorer loadable elsewhere,
and user errors without a traceback."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.helpers import run_script


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("smoke")
    uri = f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"
    done = run_script(
        "pipeline",
        "debug=smoke",
        f"tracking.uri={uri}",
        f"hydra.run.dir={folder / 'hydra'}",
        f"scores.output={folder / 'scores.parquet'}",
        f"report.output={folder / 'report.html'}",
        f"ledger.path={folder / 'ledger'}",
        f"monitor_output={folder / 'monitor'}",
        f"plan_output={folder / 'plan'}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[churn]" in done.stdout and "rows kept" in done.stdout
    assert f"written to {folder / 'report.html'}" in done.stdout
    report = (folder / "report.html").read_text()
    assert report.startswith("<!DOCTYPE html>") and "Did the last scores come true?" in report
    assert "the retention plan" in report and "Plan: contact" in done.stdout
    # Nothing a user cannot act on: MLflow's integer hint, CloudPickle notice, progress bars.
    for noise in ("Hint: Inferred schema", "CloudPickle", "Downloading artifacts", "Warning"):
        assert noise not in done.stdout + done.stderr, noise
    return uri


def test_the_demo_ends_with_a_monitoring_page_of_matured_backfilled_entries(
    smoke_store: str,
) -> None:
    import json

    folder = Path(smoke_store.removeprefix("sqlite:///")).parents[1]
    from custlens.monitoring import ledger

    entries = ledger.entries(folder / "ledger")
    assert [e.backfilled for e in entries] == [True, True, False]
    for e in entries[:2]:  # each scored by a model whose training labels end by its date
        assert pd.Timestamp(e.trained_through) + pd.Timedelta(days=e.horizon_days) <= e.day
    verdict = json.loads((folder / "monitor" / "verdict.json").read_text())
    assert verdict["verdict"] in ("ok", "watch", "retrain") and verdict["judged_entries"] == 2
    judged = pd.read_csv(folder / "monitor" / "metrics.csv")
    assert set(judged["as_of"]) == {e.as_of for e in entries[:2]}
    page = (folder / "monitor" / "monitor.html").read_text()
    assert page.count("data:image/png;base64,") == 5


def test_the_demo_writes_a_plan_within_its_budget(smoke_store: str) -> None:
    folder = Path(smoke_store.removeprefix("sqlite:///")).parents[1]
    scores = pd.read_parquet(folder / "scores.parquet")
    plan = pd.read_csv(folder / "plan" / "plan.csv", parse_dates=["contact_by"])
    assert 0 < len(plan) <= int(0.10 * len(scores))  # the default budget: 10% of the base
    assert plan["expected_value_kept"].is_monotonic_decreasing
    assert (plan["contact_by"] > scores["as_of"].max()).all()
    assert plan["customer_id"].astype(str).isin(scores["customer_id"].astype(str)).all()
    by_segment = pd.read_csv(folder / "plan" / "plan_by_segment.csv")
    assert by_segment["contacts"].sum() == len(plan)


def test_pipeline_tracks_runs_models_and_registry(smoke_store: str) -> None:
    mlflow.set_tracking_uri(smoke_store)
    runs = mlflow.search_runs(experiment_names=["custlens"], output_format="list")
    parent = next(r for r in runs if r.data.tags.get("mlflow.runName") == "pipeline")
    children = {
        r.data.tags["mlflow.runName"]
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert children == {
        "churn", "repurchase", "clv", "timing", "plan", "segmentation", "explanations"
    }  # fmt: skip
    assert parent.data.metrics["quality.rows_in"] > 0
    assert parent.data.params["data.name"] == "synthetic"
    assert parent.data.tags["mlflow.source.git.commit"]
    client = mlflow.MlflowClient()
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"leaderboard.txt", "leaderboard.csv", "config", "registry.txt", "report"} <= names
    explained = next(r for r in runs if r.data.tags.get("mlflow.runName") == "explanations")
    churn_plots = {a.path for a in client.list_artifacts(explained.info.run_id, "explain/churn")}
    assert {"explain/churn/importance.png", "explain/churn/beeswarm.png"} <= churn_plots
    assert any(p.startswith("explain/churn/dependence_") for p in churn_plots)
    churn = next(r for r in runs if r.data.tags.get("mlflow.runName") == "churn")
    assert {"custlens.roc_auc", "bgnbd.roc_auc", "recency.roc_auc"} <= set(churn.data.metrics)
    champion = client.get_model_version_by_alias("custlens-synthetic", "champion")
    assert str(champion.version) == "1"


LOAD_AND_SCORE = textwrap.dedent("""
    import sys, mlflow, pandas as pd
    from custlens.data.synthetic import generate_transactions
    from custlens.features.build import build_features
    mlflow.set_tracking_uri(sys.argv[1])
    model = mlflow.pyfunc.load_model("models:/custlens-synthetic@champion")
    log, _ = generate_transactions(300, start="2021-01-01", end="2023-06-30", seed=3)
    features = build_features(log, "2023-06-30")
    features.insert(1, "as_of", pd.Timestamp("2023-06-30"))
    out = model.predict(features)
    print(",".join(model.unwrap_python_model().scorer.output_columns))
    print(",".join(out.columns)); print(len(out), len(features))
""")


def test_registered_scorer_loads_and_scores_in_a_fresh_process(smoke_store: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_SCORE, smoke_store],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    expected, columns, counts = done.stdout.strip().splitlines()[-3:]
    assert columns == expected and "next_order_date" in columns.split(",")
    rows_out, rows_in = counts.split()
    assert rows_out == rows_in


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        ("customer_id,timestamp,amount\nc1,not a date,1\n", "unparseable timestamps"),
        ("customer_id,timestamp,amount\nc1,2024-01-01,1\n", "the history covers 0 days"),
    ],
)
def test_user_errors_exit_2_without_traceback(
    tmp_path: Path, content: str | None, message: str
) -> None:
    log = tmp_path / "log.csv"
    if content is not None:
        log.write_text(content)
        before = hashlib.sha256(log.read_bytes()).hexdigest()
    done = run_script(
        "pipeline",
        "data=transactions_csv",
        f"data.path={log}",
        "tracking=disabled",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("custlens: error: ")
    assert message in done.stderr
    if content is not None:
        assert hashlib.sha256(log.read_bytes()).hexdigest() == before


def test_pipeline_computes_everything_once(tmp_path: Path, monkeypatch) -> None:
    """The last day's features are built once (for training, reused for scoring and the
    report), every customer is scored once, and the SHAP sample is explained once per model."""
    from custlens import training
    from custlens.config import compose_config
    from custlens.reporting import shap_views
    from custlens.scoring import blocks
    from custlens.scoring.scorer import Scorer
    from custlens.tracking import registry
    from tests.helpers import load_script

    calls = {"build_features": 0, "scored": 0, "explain": []}
    build, score, explain = training.build_features, Scorer.score_features, shap_views.explain

    def counting_build(*args, **kwargs):
        calls["build_features"] += 1
        return build(*args, **kwargs)

    def counting_score(self, features, levels=None):
        calls["scored"] += len(features)
        return score(self, features, levels)

    def counting_explain(scorer, features, task):
        calls["explain"].append((task, len(features)))
        return explain(scorer, features, task)

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the pipeline rebuilt the last day's features")

    monkeypatch.setattr(training, "build_features", counting_build)
    monkeypatch.setattr(Scorer, "score_features", counting_score)
    monkeypatch.setattr(shap_views, "explain", counting_explain)
    monkeypatch.setattr(blocks, "features_on_engine", no_rebuild)
    cfg = compose_config(
        "pipeline",
        [
            "debug=smoke",
            f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
            f"scores.output={tmp_path / 'scores.parquet'}",
            f"report.output={tmp_path / 'report.html'}",
            f"ledger.path={tmp_path / 'ledger'}",
            f"monitor_output={tmp_path / 'monitor'}",
            f"plan_output={tmp_path / 'plan'}",
            "backfill=0",
        ],
    )
    load_script("pipeline").main(cfg)
    scores = pd.read_parquet(tmp_path / "scores.parquet")
    assert calls["build_features"] == 1
    # Besides the scored table, only the rows that give the logged model its signature.
    extra = registry.SIGNATURE_ROWS + registry.EXAMPLE_ROWS
    assert calls["scored"] - extra == len(scores) == scores["customer_id"].nunique()
    assert sorted(task for task, _ in calls["explain"]) == ["churn", "clv", "repurchase"]
    html = (tmp_path / "report.html").read_text()
    assert f'<div class="value">{len(scores):,}</div>' in html
