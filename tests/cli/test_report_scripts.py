"""scripts/report.py and scripts/explain.py with a registered champion: outputs, logging,
privacy of what is logged, and user errors."""

from __future__ import annotations

from pathlib import Path

import mlflow

from tests.helpers import SMOKE_DATA, run_script


def test_report_script_writes_and_logs_the_page(champion_store, trained, tmp_path: Path) -> None:
    uri, store = champion_store
    out = tmp_path / "report.html"
    done = run_script(
        "report", *SMOKE_DATA, f"as_of={trained.last_day}", f"report.output={out}",
        f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'h'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    html = out.read_text()
    assert "Customer base as of" in html and "custlens-synthetic/1" in html
    logged = list((store / "artifacts").rglob("report/report.html"))
    assert len(logged) == 1 and logged[0].read_text() == html
    bad = run_script("report", *SMOKE_DATA, "as_of=2023-06-29", f"report.output={tmp_path}/r.pdf",
                     f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'h'}")  # fmt: skip
    assert bad.returncode == 2 and "must end in .html" in bad.stderr


def test_explain_script_writes_one_waterfall_per_model(
    champion_store, trained, tmp_path: Path
) -> None:
    uri, store = champion_store
    customer = str(trained.loaded.transactions["customer_id"].iloc[0])
    args = [*SMOKE_DATA, f"as_of={trained.last_day}", f"tracking.uri={uri}",
            f"hydra.run.dir={tmp_path / 'h'}", f"output={tmp_path / 'why.png'}"]  # fmt: skip
    done = run_script("explain", *args, f"customer_id={customer}")
    assert done.returncode == 0, done.stderr[-3000:]
    for task in ("churn", "repurchase", "clv"):
        assert (tmp_path / f"why_{task}.png").stat().st_size > 5_000
    assert "churn_probability" in done.stdout
    # The run records the request under a pseudonym; no artifact or parameter names the customer.
    mlflow.set_tracking_uri(uri)  # other tests in this process may have pointed MLflow elsewhere
    run = mlflow.search_runs(
        experiment_names=["custlens"],
        filter_string="tags.mlflow.runName = 'explain'",
        output_format="list",
    )[0]  # noqa: E501
    assert run.data.params["customer_id"].startswith("c-")
    assert not [
        p
        for p in (store / "artifacts").rglob("*")
        if p.is_file() and customer.encode() in p.read_bytes()
    ]  # noqa: E501
    missing = run_script("explain", *args, "customer_id=NO-SUCH-CUSTOMER")
    assert missing.returncode == 2 and "has no transaction" in missing.stderr
    nobody = run_script("explain", *args)
    assert nobody.returncode == 2 and "customer_id is required" in nobody.stderr
