"""The monitor on a ledger of the smoke scorer: realised accuracy equal to the metrics on the
outcomes built apart, statuses against the promise, entries still open, drift that names a
shifted feature, migration that adds up, and the verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custlens.features.labels import build_labels
from custlens.features.spec import FeatureSpec
from custlens.models.evaluation import metrics
from custlens.monitoring import ledger
from custlens.monitoring.monitor import MonitorSettings, came_true, monitor
from custlens.scoring.blocks import score_in_blocks
from tests.helpers import loaded_of

DAYS = ("2023-03-01", "2023-04-15", "2023-05-20")
FAST = MonitorSettings(resamples=60)


def score_into(root: Path, loaded, scorer, as_of: str) -> None:
    with ledger.EntryWriter(root, ledger.entry_for(scorer, as_of, "synthetic")) as writer:
        check, _ = score_in_blocks(loaded, as_of, scorer, observe=ledger.Recorder(writer))
        assert check.missing == 0
        writer.commit()


@pytest.fixture(scope="module")
def book(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ledger")
    for as_of in (*DAYS, str(trained.last_day)):
        score_into(root, trained.loaded, trained.scorer, as_of)
    return root


@pytest.fixture(scope="module")
def result(trained, book: Path):
    return monitor(trained.loaded, book, None, FAST)


def test_realised_accuracy_equals_the_metrics_on_outcomes_built_apart(trained, book, result):
    entry = next(e for e in ledger.entries(book) if e.as_of == DAYS[0])
    rows = pd.concat([pd.read_parquet(f) for f in entry.files])
    rows = rows.loc[rows["lifecycle_stage"] != "prospect"]
    windows = FeatureSpec(horizon_days=entry.horizon_days, repurchase_days=entry.repurchase_days)
    labels = build_labels(trained.loaded.transactions, entry.as_of, rows["customer_id"], windows)
    table = result.metrics.set_index(["as_of", "task", "segment", "metric"])
    expected = {
        ("churn", "roc_auc"): metrics.roc_auc(labels["churned"], rows["churn_probability"]),
        ("churn", "ece"): metrics.expected_calibration_error(
            labels["churned"], rows["churn_probability"]
        ),
        ("repurchase", "brier"): metrics.brier(
            labels["repurchased"], rows["repurchase_probability"]
        ),
        ("clv", "gini"): metrics.normalized_gini(labels["future_value"], rows["clv"]),
        ("clv", "value_bias"): rows["clv"].sum() / labels["future_value"].sum() - 1,
    }
    for (task, metric), value in expected.items():
        row = table.loc[(DAYS[0], task, "", metric)]
        assert row["value"] == pytest.approx(value, abs=1e-12)
        assert row["lower"] <= row["value"] <= row["upper"]
    baseline = table.loc[(DAYS[0], "churn", "", "roc_auc"), "baseline"]
    assert baseline == pytest.approx(metrics.roc_auc(labels["churned"], rows["churn_baseline"]))


def test_statuses_compare_the_overall_rows_with_the_promise(result) -> None:
    table = result.metrics
    overall = table.loc[table["segment"] == ""]
    bounded = overall["lower"].notna() & overall["upper"].notna()
    assert set(overall.loc[bounded, "status"]) <= {"as promised", "better", "worse"}
    # without an interval (concordance has no bootstrap) a metric is shown, not judged
    assert (overall.loc[~bounded, "status"] == "").all()
    assert "concordance" in set(overall.loc[~bounded, "metric"])
    assert (overall.loc[overall["metric"] == "roc_auc", "promised"].notna()).all()
    assert (table.loc[table["segment"] != "", "status"] == "").all()
    assert set(table["task"]) == {"churn", "repurchase", "clv", "timing"}
    timing = set(overall.loc[overall["task"] == "timing", "metric"])
    assert {"date_precision", "date_recall", "order_gap_30d"} <= timing
    assert "order_gap_90d" not in timing  # beyond the 60-day horizon the outcome is unknown
    judged = set(table["as_of"])
    assert judged == set(DAYS)  # the last day's horizon has not closed
    # 2023-05-20 + 60 days is open on the last day, its 30-day repurchase window is not
    late = table.loc[table["as_of"] == DAYS[2]]
    assert set(late["task"]) == {"repurchase"}


def test_open_entries_compare_what_happened_with_what_the_scores_imply(result) -> None:
    (row,) = result.open.loc[result.open["as_of"] == DAYS[2]].to_dict("records")
    assert row["elapsed_days"] == (pd.Timestamp(result.as_of) - pd.Timestamp(DAYS[2])).days
    assert 0 < row["ordered_so_far"] < 1 and 0 < row["implied_so_far"] < 1
    assert row["churn_expected_positives"] > 0 and 0.5 < row["churn_expected_roc_auc"] < 1
    assert "repurchase_expected_roc_auc" not in row or np.isnan(row["repurchase_expected_roc_auc"])


def test_no_drift_against_the_models_own_day_and_migration_adds_up(trained, result) -> None:
    assert result.drift["as_of"].eq(str(trained.last_day)).all()
    assert (result.drift["status"] == "ok").all() and result.drift["psi"].max() < 0.01
    assert "as_of_day_of_year" not in set(result.drift["column"])  # context, never an alarm
    assert {"churn_probability", "clv"} <= set(result.drift["column"])
    moves = result.migration
    for (_, b), part in moves.groupby(["from_as_of", "to_as_of"]):
        later = next(e for e in result.entries if e.as_of == b)
        arrived = part.loc[part["to_segment"] != "(gone)", "customers"].sum()
        assert arrived == later.rows
    assert list(dict.fromkeys(moves["from_as_of"])) == [*DAYS]
    assert any("Monitor verdict" in s for s in came_true(result))


def test_tripled_prices_raise_the_alarm_and_name_the_features(trained, book) -> None:
    log = trained.loaded.transactions.copy()
    later = log["timestamp"] >= pd.Timestamp("2023-01-01")
    log.loc[later, "amount"] *= 3
    shifted = monitor(loaded_of(log), book, None, FAST)
    flagged = set(shifted.drift.loc[shifted.drift["status"] != "ok", "column"])
    assert {"revenue_90d", "revenue_180d"} <= flagged
    assert shifted.verdict == "retrain"
    assert any("revenue_90d" in r for r in shifted.reasons)
    assert shifted.exit_code("retrain") == 3 and shifted.exit_code(None) == 0


def test_halved_orders_are_named_by_the_shift_of_the_mean_where_the_psi_is_blind(
    trained, book
) -> None:
    log = trained.loaded.transactions
    last = pd.Timestamp(trained.last_day)
    recent = log.loc[log["timestamp"] > last - pd.Timedelta(days=30), "order_id"].unique()
    dropped = set(np.random.default_rng(0).permutation(recent)[: recent.size // 2])
    shifted = monitor(loaded_of(log.loc[~log["order_id"].isin(dropped)]), book, None, FAST)
    row = shifted.drift.set_index("column").loc["orders_30d"]
    assert row["psi"] < row["watch"] and row["shift"] <= -row["shift_watch"]
    assert row["status"] != "ok" and shifted.verdict != "ok"
    assert any("orders_30d" in r and "standard deviations" in r for r in shifted.reasons)


def test_a_ledger_with_nothing_to_judge_is_one_clear_error(trained, tmp_path: Path) -> None:
    from custlens.errors import CustlensError

    with pytest.raises(CustlensError, match="holds no readable entry"):
        monitor(trained.loaded, tmp_path, None, FAST)
