"""The evaluation protocol of shared/EVALUATION.md, judged through custlens's public commands.

    .venv/bin/python tools/protocol.py step=prepare   # history before the cutoff, and the truth
    (train.py and score.py on workdir/HISTORY.csv: see conf/protocol.yaml)
    .venv/bin/python tools/protocol.py step=judge     # churn ROC-AUC and ECE, value metrics

The history follows the protocol, not custlens's cleaning: lines with a customer id and a
positive unit price, exact duplicates removed, amount = quantity x price.
"""

from __future__ import annotations

from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig

from custlens.cli.errors import exit_on_user_error
from custlens.config import register, to_spec
from custlens.data import DataSpec
from custlens.data.read import read_files
from custlens.errors import CustlensError
from custlens.models.evaluation import metrics
from custlens.models.tasks import TASKS

register()


def protocol_lines(spec: DataSpec) -> pd.DataFrame:
    """Canonical lines as the protocol defines them, from the raw Online Retail files."""
    raw = read_files(spec.all_files(), spec.csv, spec.columns.timestamp)
    raw = raw.loc[raw["Customer ID"].notna() & (raw["Price"] > 0)].drop_duplicates()
    return pd.DataFrame(
        {
            "customer_id": raw["Customer ID"].astype("int64").astype(str),
            "order_id": raw["Invoice"],
            "timestamp": raw["InvoiceDate"],
            "amount": raw["Quantity"] * raw["Price"],
            "quantity": raw["Quantity"],
            "unit_price": raw["Price"],
            "product_id": raw["StockCode"].astype(str),
            "country": raw["Country"],
        }
    )


def truth(lines: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """Population (a positive line before the cutoff), churn and value in the window."""
    before = lines.loc[lines["timestamp"] < cutoff]
    window = lines.loc[
        (lines["timestamp"] >= cutoff)
        & (lines["timestamp"] < cutoff + pd.Timedelta(days=horizon_days))
    ]
    out = pd.DataFrame(
        {"customer_id": sorted(before.loc[before["amount"] > 0, "customer_id"].unique())}
    )
    bought = set(window.loc[window["amount"] > 0, "customer_id"])
    value = window.groupby("customer_id")["amount"].sum().clip(lower=0)
    out["churned"] = ~out["customer_id"].isin(bought)
    out["value"] = out["customer_id"].map(value).fillna(0.0)
    return out


def judge(truth_table: pd.DataFrame, scores: pd.DataFrame) -> dict[str, float]:
    """The protocol's figures; every customer of the population must have a score."""
    merged = truth_table.merge(scores, on="customer_id", how="left")
    missing = int(merged["churn_probability"].isna().sum())
    if missing:
        raise CustlensError(f"{missing} customers of the population have no score")
    y = merged["churned"].astype(int)
    return {
        "population": len(truth_table),
        "churn_rate": float(y.mean()),
        "churn_roc_auc": metrics.roc_auc(y, merged["churn_probability"]),
        "churn_ece": metrics.expected_calibration_error(y, merged["churn_probability"]),
        **{f"value_{m.name}": m(merged["value"], merged["clv"]) for m in TASKS["clv"].metrics},
    }


@hydra.main(config_path="../conf", config_name="protocol", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Prepare the history and the truth, or judge a scores file."""
    folder, cutoff = Path(cfg.workdir), pd.Timestamp(cfg.cutoff)
    if cfg.step == "prepare":
        folder.mkdir(parents=True, exist_ok=True)
        lines = protocol_lines(to_spec(cfg.data, DataSpec))
        lines.loc[lines["timestamp"] < cutoff].to_csv(folder / "HISTORY.csv", index=False)
        truth(lines, cutoff, cfg.horizon_days).to_parquet(folder / "truth.parquet")
        print(f"wrote {folder / 'HISTORY.csv'} and {folder / 'truth.parquet'}")
    elif cfg.step == "judge":
        missing = [n for n in ("truth.parquet", "SCORES.parquet") if not (folder / n).exists()]
        if missing:
            raise CustlensError(
                f"{folder} lacks {' and '.join(missing)}: run step=prepare, then train and score"
            )
        figures = judge(
            pd.read_parquet(folder / "truth.parquet"), pd.read_parquet(folder / "SCORES.parquet")
        )
        print("\n".join(f"{k:>26}: {v:.4f}" for k, v in figures.items()))
    else:
        raise CustlensError(f"step must be prepare or judge, not {cfg.step!r}")


if __name__ == "__main__":
    main()
