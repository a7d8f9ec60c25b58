"""The stakeholder report's content, computed from the scores; privacy; self-containment."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from custlens.privacy import pseudonym, pseudonymise, redact
from custlens.reporting import report as rpt
from custlens.reporting.aggregates import ScoredBase, sample_positions, shap_sample
from tests.reporting.reports import build, scored_base

SALT = "test-salt"


@pytest.fixture(scope="module")
def built(trained, scored) -> tuple[rpt.Report, str]:
    report = build(trained, scored, SALT, shap_rows=400)
    return report, rpt.render(report)


def visible_text(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def test_segment_table_has_one_row_per_segment_and_adds_up(built, scored) -> None:
    report, html = built
    scores = scored[1]
    table = report.segments
    assert len(table) == scores["segment_id"].nunique()
    assert set(table["Segment"]) == set(scores["segment_name"])
    assert sum(int(c.replace(",", "")) for c in table["Customers"]) == len(scores)
    assert html.count('class="segment-row"') == len(table)


def test_glance_figures_are_computed_from_the_scores(built, scored) -> None:
    report, _ = built
    features, scores = scored
    assert report.glance["Customers"] == f"{len(scores):,}"
    horizon = next(k for k in report.glance if k.startswith("Predicted value, next"))
    assert report.glance[horizon] == f"{scores['clv'].sum():,.0f}"
    high = (scores["churn_risk"] == "high").mean()
    assert report.glance["Customers at high churn risk"] == f"{high:.0%}"
    assert report.glance["Revenue, last 12 months"] == f"{features['revenue_365d'].sum():,.0f}"


def test_report_tables_do_not_depend_on_the_blocks(trained, scored, built) -> None:
    report, _ = built
    features, scores = scored
    drivers = rpt.Drivers({}, [], {}, 0, 0)
    for block in (1, 7, 500):
        base = scored_base(features, scores, block)
        blocked = rpt.build_report(base, trained.scorer, "x", None, SALT, drivers)
        pd.testing.assert_frame_equal(blocked.segments, report.segments)
        pd.testing.assert_frame_equal(blocked.value_risk, report.value_risk)
        pd.testing.assert_frame_equal(blocked.examples, report.examples)
        assert blocked.glance == report.glance


def test_shap_sample_is_the_same_whole_or_in_blocks(scored) -> None:
    features, scores = scored
    whole = shap_sample(features, 50, seed=3)
    base = ScoredBase(sample_rows=50, seed=3)
    base.begin(len(features), int(features["has_purchase"].sum()))
    for start in range(0, len(features), 97):
        base.add(scores.iloc[start : start + 97], features.iloc[start : start + 97])
    pd.testing.assert_frame_equal(base.sample(), whole)
    assert len(whole) == 50 and whole["has_purchase"].all()
    assert list(sample_positions(10, 50, seed=3)) == list(range(10))


def test_value_risk_matrix_splits_the_predicted_value() -> None:
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "as_of": pd.Timestamp("2024-01-01"),
            "segment_id": 0,
            "segment_name": "S",
            "churn_probability": [0.9, 0.1, 0.8, 0.5],
            "top_reasons": "",
            "value_reasons": "",
            "clv": [100.0, 50.0, 30.0, 20.0],
            "value_tier": ["A", "A", "B", "C"],
            "churn_risk": ["high", "low", "high", "medium"],
        }
    )
    base = ScoredBase()
    base.add(scores, pd.DataFrame({"customer_id": scores["customer_id"], "revenue_365d": 1.0}))
    matrix = rpt.value_risk_matrix(base)
    assert list(matrix.index) == ["Tier A", "Tier B", "Tier C"]
    assert matrix.loc["Tier A", "high risk"] == "100 (50%; 1 customer)"
    assert matrix.loc["Tier C", "medium risk"] == "20 (10%; 1 customer)"
    assert matrix.loc["Tier B", "low risk"] == "0 (0%; 0 customers)"


def test_quality_sentences_quote_the_backtest(built, trained) -> None:
    report, html = built
    board = trained.scorer.backtest.leaderboard.set_index(["task", "scorer"])
    capture = board.loc[("clv", "custlens"), "top_decile_capture"]
    auc = board.loc[("churn", "custlens"), "roc_auc"]
    text = " ".join(report.quality_sentences)
    assert f"brought {capture:.0%} of the next" in text
    assert f"riskier {auc:.0%} of the time" in text
    assert str(trained.scorer.backtest.cutoff.date()) in text
    assert "churn_calibration" in report.images and "clv_deciles" in report.images
    assert "repurchase_calibration" in report.images
    assert f"{capture:.0%}" in html


def test_report_names_no_customer_and_no_attribute(built, scored) -> None:
    report, html = built
    text = visible_text(html)
    ids = scored[1]["customer_id"].astype(str)
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)]
    examples = report.examples["Customer (pseudonym)"]
    assert len(examples) > 0
    risky = scored[1].loc[scored[1]["churn_risk"] == "high"].nlargest(len(examples), "clv")
    assert list(examples) == [pseudonym(i, SALT) for i in risky["customer_id"]]
    assert "attr_" not in text


def test_report_is_self_contained(built) -> None:
    _, html = built
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html
    assert html.count("<img ") == len(built[0].images)


def test_render_escapes_text(built) -> None:
    report = dataclasses.replace(built[0], facts={"Data": "<b>bad</b>"})
    assert "&lt;b&gt;bad&lt;/b&gt;" in rpt.render(report)


def test_pseudonyms_depend_on_the_salt_and_redact_blanks_attributes() -> None:
    ids = pd.Series(["12346", "12347"])
    first, second = pseudonymise(ids, "a"), pseudonymise(ids, "b")
    assert first.str.match(r"^c-[0-9a-f]{12}$").all()
    assert (first != second).all() and first.is_unique
    frame = pd.DataFrame(
        {"customer_id": ["1", "2", "3"], "attr_income": ["high", "low", "low"], "x": [1, 2, 3]}
    )
    out = redact(frame, "s")
    assert list(out["attr_income"]) == ["low"] * 3
    assert out["attr_income"].dtype == frame["attr_income"].dtype
    assert list(out["x"]) == [1, 2, 3] and not set(out["customer_id"]) & set(frame["customer_id"])


def test_logged_input_example_holds_pseudonyms(trained, scored, tracking_uri: str) -> None:
    import mlflow

    from custlens.tracking import registry
    from custlens.tracking.mlflow_io import use_store

    use_store(tracking_uri, "custlens")
    features = scored[0]
    with mlflow.start_run() as run:
        registry.log_scorer(trained.scorer, features)
    folder = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="scorer")
    example = json.loads((Path(folder) / "input_example.json").read_text())
    text = json.dumps(example)
    assert "c-" in text
    assert not set(features["customer_id"].astype(str)) & set(re.findall(r'"([^"]+)"', text))
