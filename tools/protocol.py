"""The evaluation protocol of shared/EVALUATION.md, judged through custlens's public commands.

    .venv/bin/python tools/protocol.py step=prepare   # history before the cutoff, and the truth
    (train.py and score.py on workdir/HISTORY.csv: see conf/protocol.yaml)
    .venv/bin/python tools/protocol.py step=judge     # churn, value, timing and the plan

The history follows the protocol, not custlens's cleaning: lines with a customer id and a
positive unit price, exact duplicates removed, amount = quantity x price.
"""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig

from custlens import plan
from custlens.cli.errors import exit_on_user_error
from custlens.config import register, to_spec
from custlens.data import DataSpec
from custlens.data.read import read_files
from custlens.errors import CustlensError
from custlens.models.evaluation import metrics
from custlens.models.tasks import TASKS
from custlens.models.tasks.timing import curve_columns

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
    """Population (a positive line before the cutoff), churn and value in the window, the days
    from the scoring day (the cutoff's eve) to the first purchase in it, and what each
    customer spent in the same number of days before the cutoff."""
    before = lines.loc[lines["timestamp"] < cutoff]
    span = pd.Timedelta(days=horizon_days)
    window = lines.loc[(lines["timestamp"] >= cutoff) & (lines["timestamp"] < cutoff + span)]
    previous = before.loc[before["timestamp"] >= cutoff - span]
    out = pd.DataFrame(
        {"customer_id": sorted(before.loc[before["amount"] > 0, "customer_id"].unique())}
    )
    bought = window.loc[window["amount"] > 0]
    value = window.groupby("customer_id")["amount"].sum().clip(lower=0)
    first = bought.groupby("customer_id")["timestamp"].min().dt.normalize()
    out["churned"] = ~out["customer_id"].isin(set(bought["customer_id"]))
    out["value"] = out["customer_id"].map(value).fillna(0.0)
    as_of = cutoff - pd.Timedelta(days=1)
    out["next_order_days"] = (out["customer_id"].map(first) - as_of).dt.days.astype(float)
    out["previous_value"] = out["customer_id"].map(previous.groupby("customer_id")["amount"].sum())
    out["previous_value"] = out["previous_value"].fillna(0.0)
    return out


def judge(
    truth_table: pd.DataFrame, scores: pd.DataFrame, horizon_days: int = 90
) -> dict[str, float]:
    """The protocol's figures; every customer of the population must have a score."""
    merged = truth_table.merge(scores, on="customer_id", how="left")
    missing = int(merged["churn_probability"].isna().sum())
    if missing:
        raise CustlensError(f"{missing} customers of the population have no score")
    y = merged["churned"].astype(int)
    bounds = merged[["clv_low", "clv_high"]].to_numpy(float)
    return {
        "population": len(truth_table),
        "churn_rate": float(y.mean()),
        "churn_roc_auc": metrics.roc_auc(y, merged["churn_probability"]),
        "churn_ece": metrics.expected_calibration_error(y, merged["churn_probability"]),
        **{
            f"value_{m.name}": m(merged["value"], bounds if m.interval else merged["clv"])
            for m in TASKS["clv"].metrics
        },
        **timing_figures(merged, horizon_days),
    }


def timing_figures(merged: pd.DataFrame, horizon_days: int) -> dict[str, float]:
    """The timing task's figures on the protocol's truth: the scored next_order_date against
    the first purchase in the horizon, each curve point against the share ordering by then,
    and the customers whose chances fall with time."""
    task = TASKS["timing"]
    rows = merged.assign(as_of=pd.to_datetime(merged["as_of"]))
    y = np.where(merged["churned"], np.inf, merged["next_order_days"].to_numpy(float))
    scores = task.monitored_scores(rows, horizon_days)
    out = {f"timing_{m.name}": m(y, scores[m.name]) for m in task.monitored if m.name in scores}
    curve = rows[[c for _, c in sorted(curve_columns(rows.columns).items())]].to_numpy(float)
    falling = (np.diff(curve, axis=1) < -1e-12).any(axis=1)
    out["timing_incoherent_customers"] = float(falling.sum())
    return out


def targeting(truth_table: pd.DataFrame, scores: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The plan's capture of the value actually lost at budgets of 5%, 10% and 20% of the
    base, against ranking by churn risk or by predicted value alone, with paired bootstrap
    intervals of the plan's lead."""
    merged = truth_table.merge(scores, on="customer_id", how="left")
    lost = plan.lost_value(merged["churned"], merged["previous_value"])
    rankings = plan.targeting_scores(
        merged["churn_probability"], merged["clv"], merged["value_at_risk"]
    )
    return plan.compare_targeting(lost, rankings, seed=seed)


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
        table = pd.read_parquet(folder / "truth.parquet")
        scores = pd.read_parquet(folder / "SCORES.parquet")
        figures = judge(table, scores, cfg.horizon_days)
        print("\n".join(f"{k:>34}: {v:.4f}" for k, v in figures.items()))
        print(
            "\nThe plan's capture of the value lost (lead: plan minus the ranking, 95% interval)"
        )
        print(targeting(table, scores, cfg.seed).round(4).to_string(index=False))
    else:
        raise CustlensError(f"step must be prepare or judge, not {cfg.step!r}")


if __name__ == "__main__":
    main()
