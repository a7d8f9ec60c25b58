"""scripts/plan.py: from a scored table or scoring first with the champion; a budget in money;
bad settings refused before any work, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.helpers import SMOKE_DATA, run_script


def test_plan_script_from_a_scored_table_and_by_scoring_first(
    champion_store, trained, tmp_path: Path
) -> None:
    uri, _ = champion_store
    common = [f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'h'}"]
    # Scoring first, with the champion, as of the smoke log's last day.
    first = run_script(
        "plan", *SMOKE_DATA, *common, f"as_of={trained.last_day}", f"output={tmp_path / 'a'}",
        "plan.unit=amount", "plan.budget=30", "plan.cost_per_contact=1.5",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    plan = pd.read_csv(tmp_path / "a" / "plan.csv")
    assert 0 < len(plan) <= 20 and "Plan: contact" in first.stdout  # 30 / 1.5 contacts
    assert (plan["net_value"] > 0).all()
    curve = pd.read_csv(tmp_path / "a" / "budget_curve.csv")
    assert curve["value_kept"].is_monotonic_increasing
    # From a scored table: the same customers, the same plan.
    from custlens.scoring.blocks import score_transactions

    scores, _ = score_transactions(trained.loaded, str(trained.last_day), trained.scorer)
    scores.to_parquet(tmp_path / "scores.parquet")
    second = run_script(
        "plan", *common, f"scores={tmp_path / 'scores.parquet'}", f"output={tmp_path / 'b'}",
        "plan.unit=amount", "plan.budget=30", "plan.cost_per_contact=1.5",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    again = pd.read_csv(tmp_path / "b" / "plan.csv")
    assert again["customer_id"].tolist() == plan["customer_id"].tolist()


def test_plan_script_refuses_bad_settings_and_writes_nothing(tmp_path: Path) -> None:
    common = ["tracking=disabled", f"hydra.run.dir={tmp_path / 'h'}", f"output={tmp_path / 'p'}"]
    money = run_script("plan", *common, "scores=x.parquet", "plan.unit=amount", "plan.budget=9")
    assert money.returncode == 2 and "needs plan.cost_per_contact" in money.stderr
    missing = run_script("plan", *common, f"scores={tmp_path / 'none.parquet'}")
    assert missing.returncode == 2 and "scored table not found" in missing.stderr
    assert not (tmp_path / "p" / "plan.csv").exists()
