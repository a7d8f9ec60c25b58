"""The leaderboard text, the figure that sums it up, and the champion decision."""

from __future__ import annotations

import math

import pandas as pd

from custlens.models.evaluation.pipeline import judged_metrics
from custlens.models.tasks import TASKS


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
        for metric in judged_metrics(task):
            name = metric.name
            if name not in group or pd.isna(ours[name]) or others[name].isna().all():
                continue
            best = others[name].min() if metric.lower_is_better else others[name].max()
            rows.append(
                {
                    "task": task,
                    "metric": name,
                    "custlens": ours[name],
                    "best_baseline": best,
                    "as_good": bool(metric.better(ours[name], best)),
                }
            )
    return pd.DataFrame(rows)


def headline_score(board: pd.DataFrame) -> float:
    """Mean of the headline metrics of custlens over the tasks it was trained for."""
    ours = board.loc[board["scorer"] == "custlens"].set_index("task")
    values = [ours.loc[t.name, t.headline.name] for t in TASKS.values() if t.name in ours.index]
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
