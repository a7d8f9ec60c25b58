"""The stakeholder report: one self-contained HTML page (images embedded, nothing fetched).

`build_report` computes every table and sentence from the scored customer base (gathered block
by block, `custlens.reporting.aggregates`), the scorer and the SHAP views drawn once per run
(`Drivers`); `render` turns them into HTML. Nothing here reads or writes files.
Customers appear only under pseudonyms (see `custlens.privacy`), and customer-table
attributes only as feature names, never as values.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.data.quality import QualityReport
from custlens.features.build import ATTRIBUTE_PREFIX
from custlens.models.evaluation import baselines, plots
from custlens.models.evaluation.pipeline import PLAN, BacktestSummary
from custlens.models.tasks import EXPLAINED, TASKS
from custlens.plan import CAPTURES, Outline, budget_figure
from custlens.privacy import pseudonymise
from custlens.reporting import figures, shap_views
from custlens.reporting.aggregates import ScoredBase
from custlens.reporting.shap_views import Explained

TEMPLATES = Path(__file__).resolve().parent / "templates"
RISK_ORDER = ("high", "medium", "low")
TIER_ORDER = ("A", "B", "C")


@dataclass
class Report:
    """Everything the page shows, as tables, sentences and figures."""

    title: str
    facts: dict[str, str]
    glance: dict[str, str]
    segments: pd.DataFrame
    value_risk: pd.DataFrame
    quality_sentences: list[str]
    leaderboard: pd.DataFrame | None
    drivers: list[dict[str, object]] = field(default_factory=list)
    quality_figures: list[dict[str, str]] = field(default_factory=list)  # key, caption
    came_true: list[str] = field(default_factory=list)  # the monitor on past scores
    plan: dict[str, Any] | None = None  # sentences, table by segment, budget curve image key
    examples: pd.DataFrame | None = None
    data_quality: pd.DataFrame | None = None
    images: dict[str, bytes] = field(default_factory=dict)  # PNG images by key


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _share(value: float) -> str:
    return f"{value:.0%}" if np.isfinite(value) else "n/a"


def _customers(n: int) -> str:
    return f"{n:,} customer" if n == 1 else f"{n:,} customers"


def glance(base: ScoredBase, horizon_days: int) -> dict[str, str]:
    """The customer base in five figures."""
    value = base.value
    return {
        "Customers": f"{base.customers:,}",
        "Revenue, last 12 months": _money(base.revenue),
        f"Predicted value, next {horizon_days} days": _money(value),
        "Customers at high churn risk": _share(base.high_risk / max(base.customers, 1)),
        "Predicted value held by high-risk customers": _share(
            base.high_risk_value / value if value > 0 else float("nan")
        ),
    }


def segment_table(base: ScoredBase, profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per segment present in the scores: size, revenue share, value, risk, advice."""
    grouped = base.segments()
    total_revenue = max(grouped["revenue"].sum(), 1e-9)
    customers = grouped["customers"]
    table = pd.DataFrame(
        {
            "Segment": profiles.loc[grouped.index, "name"].to_numpy(),
            "Customers": customers.map("{:,}".format).to_numpy(),
            "Share of customers": (customers / base.customers).map(_share).to_numpy(),
            "Share of last year's revenue": (grouped["revenue"] / total_revenue)
            .map(_share)
            .to_numpy(),
            "Average predicted value": (grouped["clv"] / customers)
            .map("{:,.0f}".format)
            .to_numpy(),
            "Average churn risk": (grouped["churn"] / customers).map(_share).to_numpy(),
            "Who they are": profiles.loc[grouped.index, "description"].to_numpy(),
            "Recommended action": profiles.loc[grouped.index, "action"].to_numpy(),
        }
    )
    order = np.argsort(-grouped["clv"].to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


def value_risk_matrix(base: ScoredBase) -> pd.DataFrame:
    """Predicted value (and customers) by value tier and churn-risk band."""
    cells = base.cells()
    total = max(base.value, 1e-9)
    tiers = set(cells.index.get_level_values(0))
    rows = {}
    for tier in [t for t in TIER_ORDER if t in tiers]:
        row = {}
        for risk in RISK_ORDER:
            value, n = cells.loc[(tier, risk)] if (tier, risk) in cells.index else (0.0, 0)
            row[f"{risk} risk"] = (
                f"{_money(value)} ({_share(value / total)}; {_customers(int(n))})"
            )
        rows[f"Tier {tier}"] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def plan_section(outline: Outline | None, summary: BacktestSummary | None) -> dict | None:
    """The retention plan in words, its summary by segment, and how its targeting did out of
    time against ranking by churn risk or by value alone."""
    if outline is None:
        return None
    t = outline.totals
    affordable = int(t["affordable_contacts"])
    sentences = [
        f"The budget pays for {affordable:,} contacts; {int(t['worth_contacting']):,} customers "
        f"are worth contacting at all. Contacting the {int(t['contacts']):,} most worth it is "
        f"expected to keep {_money(t['expected_value_kept'])} of predicted value "
        f"({_money(t['net_value'])} after {_money(t['cost'])} of contact costs).",
        f"This assumes a contact keeps {t['save_rate']:.0%} of the customers who would "
        "otherwise lapse: an assumption (the data holds no record of past contacts), to be "
        "replaced by what a holdout test of your own contacts shows. The ranking itself does "
        "not depend on it.",
    ]
    board = None if summary is None else summary.leaderboard
    if board is not None and (board["task"] == PLAN).any():
        rows = board.loc[board["task"] == PLAN].set_index("scorer")
        metric = CAPTURES[1].name  # a budget of 10% of the base
        if metric in rows and {"custlens", "churn_only", "value_only"} <= set(rows.index):
            sentences.append(
                f"Judged out of time, the plan's top 10% of customers held "
                f"{_share(rows.loc['custlens', metric])} of the value actually lost (what the "
                "customers who stopped buying had spent in the horizon before), against "
                f"{_share(rows.loc['churn_only', metric])} ranking by churn risk alone and "
                f"{_share(rows.loc['value_only', metric])} by predicted value alone."
            )
    table = outline.by_segment.rename(
        columns={
            "segment_name": "Segment",
            "contacts": "Contacts",
            "expected_value_kept": "Expected value kept",
            "net_value": "Net of cost",
            "mean_churn_probability": "Average churn risk",
        }
    )
    table = table.assign(
        **{
            "Expected value kept": table["Expected value kept"].map(_money),
            "Net of cost": table["Net of cost"].map(_money),
            "Average churn risk": table["Average churn risk"].map(_share),
        }
    )
    return {"sentences": sentences, "table": table, "image": "plan/budget_curve"}


def quality_sentences(summary: BacktestSummary) -> list[str]:
    """Model quality against the baselines in plain words, from the out-of-time backtest:
    each task's own sentences."""
    out = [
        f"Judged out of time: trained only on what was known before {summary.cutoff.date()}, "
        f"then compared with what {summary.rows:,} customers actually did in the "
        f"{summary.horizon_days} days after it."
    ]
    board = summary.leaderboard
    for name, task in TASKS.items():
        if name in set(board["task"]):
            out += task.sentences(board, summary.tasks.get(name, {}), summary.horizon_days)
    return out


def leaderboard_table(summary: BacktestSummary) -> pd.DataFrame:
    """Each task's metrics for the models and every baseline, in plain names."""
    board = summary.leaderboard.assign(scorer=summary.leaderboard["scorer"].map(baselines.title))
    shown = {m.name: m.label for task in TASKS.values() for m in task.report_metrics}
    columns = [c for c in shown if c in board]
    table = board[["task", "scorer", *columns]].rename(columns=shown)
    return table.round(3).astype(object).where(table.notna(), "")


def example_customers(examples: pd.DataFrame, salt: str) -> pd.DataFrame:
    """The most valuable customers at high churn risk (`ScoredBase.examples`), pseudonymised."""

    def reasons(column: str) -> np.ndarray:
        return examples[column].fillna("").map(_without_attributes).to_numpy()

    return pd.DataFrame(
        {
            "Customer (pseudonym)": pseudonymise(examples["customer_id"], salt).to_numpy(),
            "Segment": examples["segment_name"].to_numpy(),
            "Churn risk": examples["churn_probability"].map(_share).to_numpy(),
            "Predicted value": examples["clv"].map(_money).to_numpy(),
            "Why at risk": reasons("top_reasons"),
            "Why valuable": reasons("value_reasons"),
        }
    )


def _without_attributes(reasons: str) -> str:
    """Drop reasons that would quote a customer-table attribute's value."""
    return "; ".join(p for p in reasons.split("; ") if not p.startswith(ATTRIBUTE_PREFIX))


@dataclass
class Drivers:
    """What drives each model, from SHAP on a sample of buyers: the explanations, the report's
    sections (plots and their readings) and the plots as PNG images, drawn once per run."""

    explanations: dict[str, Explained]
    sections: list[dict[str, object]]
    images: dict[str, bytes]
    rows: int
    seed: int


def explain_drivers(scorer: object, sample: pd.DataFrame, seed: int) -> Drivers:
    """SHAP views of every task's model on the sample's rows (`aggregates.shap_sample`)."""
    explanations = {
        t: shap_views.explain(scorer, sample, t) for t in scorer.models if t in EXPLAINED
    }
    segments = scorer.segmenter.predict_named(sample)["segment_name"].astype(str)
    sections, figs = driver_sections(explanations, segments)
    return Drivers(explanations, sections, {k: png(f) for k, f in figs.items()}, len(sample), seed)


def driver_sections(
    explanations: dict[str, Explained], segments: pd.Series, dependence_top: int = 3
) -> tuple[list[dict[str, object]], dict[str, Figure]]:
    """Per model: importance, beeswarm, dependence of its top features, drivers per segment."""
    sections, figs = [], {}
    for task, explained in explanations.items():
        plain = figures.top_dependence(explained, dependence_top)
        items = [
            (f"{task}/importance", figures.importance_bar(explained),
             f"{explained.label(plain[0])} matters most." if plain else ""),
            (f"{task}/beeswarm", figures.beeswarm(explained),
             shap_views.reading(explained, plain[0]) if plain else ""),
        ]  # fmt: skip
        for column in plain:
            items.append(
                (
                    f"{task}/dependence_{column}",
                    figures.dependence(explained, column),
                    shap_views.reading(explained, column),
                )
            )
        table = shap_views.by_segment(explained, segments)
        top_segment = table.sum(axis=1).idxmax()
        items.append(
            (
                f"{task}/segments",
                figures.segment_drivers(table, explained.outcome),
                f"The model's {explained.outcome} moves most for {top_segment}, driven above "
                f"all by {str(table.loc[top_segment].idxmax()).lower()}.",
            )
        )
        figs.update({key: fig for key, fig, _ in items})
        sections.append(
            {
                "title": explained.outcome.capitalize(),
                "task": task,
                "plots": [{"key": key, "reading": text} for key, _, text in items],
            }
        )
    return sections, figs


def quality_table(report: QualityReport) -> pd.DataFrame:
    """The cleaning rules in a few words each."""
    table = report.to_frame()[["description", "action", "rows", "revenue"]]
    table = table.assign(
        rows=table["rows"].map("{:,}".format), revenue=table["revenue"].map(_money)
    )
    return table.rename(columns=str.capitalize)


def png(fig: Figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plots.DPI)
    return buffer.getvalue()


def render(report: Report) -> str:
    """The report as one HTML document."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    images = {key: base64.b64encode(data).decode("ascii") for key, data in report.images.items()}
    return env.get_template("report.html").render(report=report, images=images)


def build_report(
    base: ScoredBase,
    scorer: object,
    data_name: str,
    quality: QualityReport | None,
    salt: str,
    drivers: Drivers,
    came_true: list[str] | None = None,
) -> Report:
    """The report on the scored customers (`base`), with the SHAP views of `drivers` and,
    when a ledger was judged, the monitor's sentences on whether past scores came true."""
    if base.customers == 0:
        raise ValueError("the report needs at least one scored customer")
    images = dict(drivers.images)
    summary = scorer.backtest
    outline = base.plan_outline()
    plan = plan_section(outline, summary)
    if outline is not None:
        images["plan/budget_curve"] = png(budget_figure(outline))
    quality_figures = []
    for name, task in TASKS.items():
        tables = {} if summary is None else summary.tasks.get(name, {})
        for key, figure, caption in task.report_figures(tables):
            images[key] = png(figure)
            quality_figures.append({"key": key, "caption": caption})
    as_of = base.as_of.date()
    return Report(
        title=f"Customer base as of {as_of}",
        facts={
            "Data": data_name,
            "As of": str(as_of),
            "Model": scorer.model_version,
            "Trained on data through": scorer.trained_through,
            "Explanations": (
                f"SHAP on {drivers.rows:,} customers drawn at random (seed {drivers.seed})"
            ),
        },
        glance=glance(base, scorer.horizon_days),
        segments=segment_table(base, scorer.segmenter.segments_),
        value_risk=value_risk_matrix(base),
        quality_sentences=[] if summary is None else quality_sentences(summary),
        leaderboard=None if summary is None else leaderboard_table(summary),
        drivers=drivers.sections,
        quality_figures=quality_figures,
        came_true=came_true or [],
        plan=plan,
        examples=example_customers(base.examples(), salt),
        data_quality=None if quality is None else quality_table(quality),
        images=images,
    )
