"""The leaderboard text, the figure that sums it up, and the champion decision."""

from __future__ import annotations

import math

import pandas as pd

from custlens.models.tasks import TASKS

# Metrics whose lower values are better; every other metric is higher-is-better.
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece", "mae", "decile_mape"})


def format_leaderboard(board: pd.DataFrame) -> str:
    """A fixed-width table of every scorer and metric, per task."""
    blocks = []
    for task, rows in board.groupby("task", sort=False):
        shown = rows.drop(columns="task").dropna(axis=1, how="all").set_index("scorer")
        blocks.append(f"[{task}]\n{shown.round(4).to_string()}")
    return "\n\n".join(blocks)


def baseline_gaps(board: pd.DataFrame) -> pd.DataFrame:
    """For each task and metric: custlens, the best baseline, and whether custlens is as good."""
    rows = []
    for task, group in board.groupby("task", sort=False):
        ours = group.loc[group["scorer"] == "custlens"].iloc[0]
        others = group.loc[group["scorer"] != "custlens"]
        for metric in group.columns.drop(["task", "scorer"]):
            if pd.isna(ours[metric]) or others[metric].isna().all():
                continue
            lower = metric in LOWER_IS_BETTER
            best = others[metric].min() if lower else others[metric].max()
            ok = ours[metric] <= best if lower else ours[metric] >= best
            rows.append(
                {
                    "task": task,
                    "metric": metric,
                    "custlens": ours[metric],
                    "best_baseline": best,
                    "as_good": bool(ok),
                }
            )
    return pd.DataFrame(rows)


def headline_score(board: pd.DataFrame) -> float:
    """Mean of the headline metrics of custlens over the tasks it was trained for."""
    ours = board.loc[board["scorer"] == "custlens"].set_index("task")
    values = [ours.loc[t.name, t.headline] for t in TASKS.values() if t.name in ours.index]
    return float(sum(values) / len(values))


def should_promote(  # noqa: PLR0911 - one reason per outcome
    new_score: float, fingerprint: str, champion_tags: dict[str, str] | None, mode: str = "auto"
) -> tuple[bool, str]:
    """Whether the new version takes the champion alias, and why.

    Versions are compared only on the same backtest (same data, cutoff and horizon, recorded as
    a fingerprint); otherwise the alias stays unless `mode="force"`.
    """
    if mode == "force":
        return True, "promotion forced"
    if mode == "never":
        return False, "promotion disabled"
    if champion_tags is None:
        return True, "no champion yet"
    if math.isnan(new_score):  # trained on a history too short to judge it
        return False, "this version is not judged (short history); pass register.promote=force"
    if champion_tags.get("backtest_fingerprint") != fingerprint:
        return False, (
            "the champion was judged on another backtest; pass register.promote=force "
            "to replace it"
        )
    old = float(champion_tags.get("headline_score", "nan"))
    if new_score > old:
        return True, f"headline score {new_score:.4f} beats the champion's {old:.4f}"
    return False, f"headline score {new_score:.4f} does not beat the champion's {old:.4f}"
