"""The scoring job behind scripts/score.py and the end of the main pipeline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm import tqdm

from custlens.cli.output import write_atomically
from custlens.data import LoadedData
from custlens.scoring.batch import score_transactions, summary
from custlens.scoring.scorer import Scorer
from custlens.tracking import mlflow_io, registry


def default_model(data_name: str) -> str:
    """The champion trained on the same data source."""
    return f"models:/custlens-{data_name}@{registry.ALIAS}"


def progress_bar(blocks: object, total: int) -> object:
    """A progress bar over chunks of customers, on stderr."""
    return tqdm(blocks, total=total, desc="scoring", unit="chunk", disable=total < 2)


def run(
    loaded: LoadedData, as_of: str, scorer: Scorer, output: Path, chunk_size: int
) -> pd.DataFrame:
    """Score, reconcile, write atomically, and print and log the summary."""
    scores, check = score_transactions(
        loaded.transactions, as_of, scorer, loaded.customers, chunk_size, progress_bar
    )
    print("Reconciliation:\n" + check.table().to_string(index=False))
    mlflow_io.log_table(check.table(), "scoring/reconciliation.csv")
    write_atomically(scores, output)
    tables = summary(scores)
    mlflow_io.log_metrics(
        {
            "scored_customers": len(scores),
            "predicted_value_total": float(scores["clv"].sum()),
            "high_risk_share": float((scores["churn_risk"] == "high").mean()),
        }
    )
    for name, table in tables.items():
        mlflow_io.log_table(table, f"scoring/by_{name}.csv")
    print(
        f"Scored {len(scores):,} customers as of {as_of} with {scorer.model_version}; "
        f"predicted {scorer.horizon_days}-day value {scores['clv'].sum():,.0f}; "
        f"written to {output}"
    )
    print(tables["segment_name"].round(3).to_string(index=False))
    return scores
