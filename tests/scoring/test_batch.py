"""Batch scoring: schema and order, reconciliation, refusals, reasons and determinism."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import custlens
from custlens.cli.output import check_output, write_atomically
from custlens.errors import CustlensError
from custlens.features.build import build_features
from custlens.scoring.blocks import score_transactions
from tests.helpers import loaded_of, reconcile


def extra_customers(log: pd.DataFrame) -> pd.DataFrame:
    """One single-purchase customer, one with only a return, one who buys after as_of."""
    rows = pd.DataFrame(
        {
            "customer_id": ["ONE", "RET", "LATE"],
            "order_id": ["x1", "Cx2", "x3"],
            "timestamp": pd.to_datetime(
                ["2023-05-01 10:00", "2023-05-02 10:00", "2023-06-30 10:00"]
            ),
            "amount": [25.0, -10.0, 40.0],
            "quantity": [1.0, -1.0, 2.0],
            "unit_price": [25.0, 10.0, 20.0],
            "product_id": ["P1", "P2", "P3"],
            "country": ["France"] * 3,
        }
    )
    out = pd.concat(
        [
            log,
            rows.astype(
                {c: "string" for c in ("customer_id", "order_id", "product_id", "country")}
            ),
        ]
    )
    return out.reset_index(drop=True)


AS_OF = "2023-06-15"


def test_every_customer_exactly_once_in_order(trained) -> None:
    log = extra_customers(trained.loaded.transactions)
    table = pd.DataFrame({"customer_id": ["ONE", "NEWBIE"], "segment": ["web", "store"]})
    scores, check = score_transactions(
        loaded_of(log, table), AS_OF, trained.scorer, chunk_size=400
    )
    assert list(scores.columns) == list(trained.scorer.output_columns)
    ids = scores.set_index("customer_id")
    assert {"ONE", "RET", "NEWBIE"} <= set(ids.index) and "LATE" not in ids.index
    assert check.table_only == 1 and check.only_after_as_of == 1
    assert check.scored == check.expected == len(scores) and not ids.index.duplicated().any()
    assert ids.loc["NEWBIE", "segment_name"] == "Prospects"
    assert ids.loc["RET", "lifecycle_stage"] == "prospect"  # no purchase, only a return
    assert ids.loc["ONE", "rfm_segment"] != "No purchase yet"
    assert list(scores["customer_id"]) == sorted(scores["customer_id"])
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["churn_risk"]) <= {"low", "medium", "high"}
    assert set(scores["value_tier"]) <= {"A", "B", "C"}
    assert ((scores["clv_low"] <= scores["clv"]) & (scores["clv"] <= scores["clv_high"])).all()
    assert (scores["as_of"] == pd.Timestamp(AS_OF)).all()


def test_reasons_are_plain_language(trained) -> None:
    scores, _ = score_transactions(trained.loaded, AS_OF, trained.scorer)
    risky = scores.loc[scores["churn_risk"] == "high", "top_reasons"]
    assert len(risky) and (risky.str.len() > 0).mean() > 0.9
    assert risky.str.split("; ").map(len).max() <= 3
    assert risky.str.contains("no order for").any()
    assert not risky.str.contains("day of the year").any()  # the date is no customer's reason
    valuable = scores.nlargest(50, "clv")["value_reasons"]
    assert (valuable.str.len() > 0).all() and valuable.str.split("; ").map(len).max() <= 3
    assert not valuable.str.contains("ime of year").any()


def test_reconciliation_catches_a_short_result(trained) -> None:
    log = trained.loaded.transactions
    scores, _ = score_transactions(trained.loaded, AS_OF, trained.scorer)
    short = reconcile(log, pd.Timestamp(AS_OF), None, scores.iloc[1:])
    assert short.missing == 1 and short.scored == short.expected - 1
    doubled = reconcile(log, pd.Timestamp(AS_OF), None, pd.concat([scores, scores.iloc[:1]]))
    assert doubled.duplicated == 1


def test_refusals(trained) -> None:
    log = trained.loaded.transactions
    with pytest.raises(CustlensError, match="before the start of the model's training data"):
        score_transactions(trained.loaded, "2020-01-01", trained.scorer)
    features = build_features(log, AS_OF, trained.scorer.feature_spec)
    features.insert(1, "as_of", pd.Timestamp(AS_OF))
    with pytest.raises(CustlensError, match="missing \\['recency_days'\\]"):
        trained.scorer.score_features(features.drop(columns="recency_days"))
    with pytest.raises(CustlensError, match="dtype"):
        trained.scorer.score_features(features.astype({"frequency": "float64"}))


def test_scoring_is_deterministic_to_the_byte(trained, tmp_path: Path) -> None:
    paths = []
    for run in range(2):
        scores, _ = score_transactions(
            trained.loaded, AS_OF, trained.scorer, chunk_size=300 + run * 200
        )
        path = tmp_path / f"scores{run}.parquet"
        write_atomically(scores, path)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    bad = pd.DataFrame({"x": [object()]})  # pyarrow cannot write it
    with pytest.raises(Exception):  # noqa: B017, PT011
        write_atomically(bad, target)
    assert list(tmp_path.iterdir()) == []
    target.write_text("keep me")
    with pytest.raises(CustlensError, match="overwrite=true"):
        check_output(target, overwrite=False)
    with pytest.raises(CustlensError, match="must end in"):
        check_output(tmp_path / "out.xlsx", overwrite=False)
    assert target.read_text() == "keep me"


def test_python_api_scores_a_dataframe(trained, tmp_path: Path) -> None:
    import mlflow

    from custlens.tracking import registry
    from custlens.tracking.mlflow_io import use_store

    use_store(f"sqlite:///{tmp_path / 'mlflow.db'}", "custlens")
    sample = trained.loaded.transactions.drop(columns="is_extreme_quantity")
    with mlflow.start_run():
        info = registry.log_scorer(
            trained.scorer,
            build_features(sample, AS_OF, trained.scorer.feature_spec).assign(
                as_of=pd.Timestamp(AS_OF)
            )[["customer_id", "as_of", *trained.scorer.feature_dtypes.keys() - {"customer_id"}]],
        )
    scores = custlens.score(sample, AS_OF, model_uri=info.model_uri)
    assert list(scores.columns) == list(trained.scorer.output_columns)
    assert scores["customer_id"].is_unique and len(scores) > 1000


def test_the_date_is_never_a_reason() -> None:
    from custlens.scoring.reasons import top_reasons

    contributions = pd.DataFrame(
        {"as_of_day_of_year": [2.0], "frequency": [0.5], "recency_days": [0.1], "bias": [0.0]}
    )
    features = pd.DataFrame(
        {
            "as_of_day_of_year": [343],
            "frequency": [2],
            "recency_days": [40.0],
            "overdue_ratio": [2.0],
        }
    )
    (reasons,) = top_reasons(contributions, features, {})
    assert reasons == "frequency: 2; no order for 40 days, 2.0 times the usual gap"
