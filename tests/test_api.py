"""The Python API in a fresh interpreter: train, score and explain a DataFrame with no config,
no tracking store, and neither Hydra nor the commands imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import custlens
    from custlens.data.synthetic import generate_transactions

    log, _ = generate_transactions(900, start="2021-01-01", end="2023-06-30", seed=4)
    scorer = custlens.train(
        log, horizon_days=60,
        frames={"step_days": 60, "min_history_days": 120},
        models={t: {"n_estimators": 20} for t in ("churn", "repurchase", "clv")},
        segmentation={"k_range": [3, 4]},
    )
    own = scorer.score(log, "2023-06-30")
    api = custlens.score(log, "2023-06-30", model=scorer)
    ids = list(own["customer_id"][:4])
    explained = custlens.explain(scorer, log, "2023-06-30", customer_ids=ids)

    import shap
    import matplotlib.pyplot as plt
    shap.plots.waterfall(explained["churn"][0], show=False)
    plt.gcf().savefig(sys.argv[1], bbox_inches="tight")
    churn = explained["churn"]
    print(json.dumps({
        "equal": own.equals(api),
        "rows": len(own),
        "customers": int(log["customer_id"].nunique()),
        "columns": list(own.columns),
        "expected_columns": list(scorer.output_columns),
        "tasks": sorted(explained),
        "shape": list(churn.values.shape),
        "additive": float(abs(churn.values.sum(axis=1) + churn.base_values
                              - scorer.models["churn"].boosters()[0].predict_margin(
                                  custlens.scoring.batch.features_as_of(log, "2023-06-30", scorer)
                                  .set_index("customer_id").loc[ids].reset_index())).max()),
        "names": list(churn.feature_names[:3]),
        "loaded": sorted({m.split(".")[0] if not m.startswith("custlens.") else m
                          for m in sys.modules if m.startswith(("hydra", "omegaconf",
                          "custlens.cli", "custlens.config", "mlflow"))}),
    }))
""")


@pytest.mark.e2e
def test_train_score_and_explain_a_dataframe_in_a_fresh_interpreter(tmp_path: Path) -> None:
    image = tmp_path / "waterfall.png"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(image)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["equal"] and got["rows"] == got["customers"]
    assert got["columns"] == got["expected_columns"]
    assert {"next_order_date", "order_chance_7d", "value_zero_probability"} <= set(got["columns"])
    assert got["tasks"] == ["churn", "clv", "repurchase"] and got["shape"][0] == 4
    assert got["additive"] < 1e-6  # the values add up to the model's raw score
    assert got["names"] and all(name[:1].isupper() for name in got["names"])  # plain labels
    assert got["loaded"] == []  # no Hydra, no config, no commands, no MLflow
    assert not (tmp_path / "mlruns").exists() and image.stat().st_size > 10_000
    assert "custlens: warning" not in done.stderr


def test_unknown_training_settings_are_one_clear_error() -> None:
    import custlens
    from custlens.training import TrainingSpec

    with pytest.raises(custlens.CustlensError, match="unknown training setting"):
        TrainingSpec.of(horizon=30)
    with pytest.raises(custlens.CustlensError, match="models: unknown task 'upsell'"):
        TrainingSpec.of(models={"upsell": {}})
    with pytest.raises(custlens.CustlensError, match="n_estimators must be a whole number"):
        TrainingSpec.of(models={"churn": {"n_estimators": 0}})
    spec = TrainingSpec.of(
        horizon_days=45, repurchase_days=15, models={"clv": {"n_estimators": 7}}
    )
    assert (spec.horizon_days, spec.features.repurchase_days) == (45, 15)
    assert spec.models["clv"].n_estimators == 7 and spec.models["clv"].objective == "tweedie"
