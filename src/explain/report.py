"""The stakeholder report: one self-contained HTML page (images embedded, nothing fetched).

`build_report` computes every table and sentence from the scored customer base (gathered block
by block, `custlens.explain.aggregates`), the scorer and the SHAP views drawn once per run
(`Drivers`); `render` turns them into HTML. Nothing here reads or writes files.
Customers appear only under pseudonyms (see `custlens.privacy`), and customer-table
attributes only as feature names, never as values.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custlens.data.quality import QualityReport
from custlens.explain import figures, shap_views
from custlens.explain.aggregates import ScoredBase
from custlens.explain.shap_views import Explanation
from custlens.features.build import ATTRIBUTE_PREFIX
from custlens.models.evaluation import plots
from custlens.models.evaluation.pipeline import BacktestSummary
from custlens.models.tasks import SUPERVISED
from custlens.privacy import pseudonymise

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCORER_NAMES = {
    "custlens": "custlens",
    "recency": "days since last purchase",
    "rfm_logistic": "RFM logistic regression",
    "bgnbd": "BG/NBD",
    "bgnbd_gg": "BG/NBD + Gamma-Gamma",
    "past_spend": "spend in the last period",
    "total_spend": "spend to date",
}
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


def _named(board: pd.DataFrame) -> pd.DataFrame:
    return board.assign(scorer=board["scorer"].map(lambda s: SCORER_NAMES.get(s, s)))


def quality_sentences(summary: BacktestSummary) -> list[str]:
    """Model quality against the baselines in plain words, from the out-of-time backtest."""
    board = summary.leaderboard.set_index(["task", "scorer"])
    out = [
        f"Judged out of time: trained only on what was known before {summary.cutoff.date()}, "
        f"then compared with what {summary.rows:,} customers actually did in the "
        f"{summary.horizon_days} days after it."
    ]
    out += _churn_sentences(board, summary)
    out += _value_sentences(board, summary)
    return out


def _best(board: pd.DataFrame, task: str, metric: str) -> tuple[str, float]:
    rows = board.loc[task].drop(index="custlens")[metric].dropna()
    name = str(rows.idxmax())
    return SCORER_NAMES.get(name, name), float(rows.max())


def _churn_sentences(board: pd.DataFrame, summary: BacktestSummary) -> list[str]:
    if "churn" not in board.index.get_level_values(0):
        return []
    ours = board.loc[("churn", "custlens")]
    name, auc = _best(board, "churn", "roc_auc")
    out = [
        f"Given one customer who went on to lapse and one who kept buying, the churn model "
        f"ranks the lapsing one as riskier {ours['roc_auc']:.0%} of the time "
        f"(best simple alternative, {name}: {auc:.0%})."
    ]
    if summary.reliability is not None:
        table = summary.reliability
        rate = float((table["n"] * table["observed_rate"]).sum() / table["n"].sum())
        out.append(
            f"Among the 10% of customers it rates most at risk, "
            f"{min(ours['top_decile_lift'] * rate, 1):.0%} lapsed, against {rate:.0%} of all "
            f"customers; its probabilities were off by {ours['ece'] * 100:.1f} percentage "
            "points on average (see the calibration chart)."
        )
    if "repurchase" in board.index.get_level_values(0):
        rep = board.loc[("repurchase", "custlens")]
        name, auc = _best(board, "repurchase", "roc_auc")
        out.append(
            f"The repurchase model ranks a customer who reorders within the month above one who "
            f"does not {rep['roc_auc']:.0%} of the time ({name}: {auc:.0%})."
        )
    return out


def _value_sentences(board: pd.DataFrame, summary: BacktestSummary) -> list[str]:
    if "clv" not in board.index.get_level_values(0):
        return []
    ours = board.loc[("clv", "custlens")]
    name, capture = _best(board, "clv", "top_decile_capture")
    gini_name, gini = _best(board, "clv", "gini")
    return [
        f"The top 10% of customers by predicted value brought "
        f"{ours['top_decile_capture']:.0%} of the next {summary.horizon_days} days' revenue "
        f"(best simple alternative, {name}: {capture:.0%}).",
        f"Ranking customers by predicted value recovers {ours['gini']:.0%} of the best possible "
        f"ordering by what they actually spent (normalized Gini; {gini_name}: {gini:.0%}).",
    ]


def leaderboard_table(summary: BacktestSummary) -> pd.DataFrame:
    """The headline metrics of the models and every baseline."""
    board = _named(summary.leaderboard)
    shown = {"roc_auc": "ROC-AUC", "ece": "calibration error", "top_decile_lift": "top-10% lift",
             "gini": "normalized Gini", "top_decile_capture": "top-10% value share",
             "spearman": "Spearman"}  # fmt: skip
    table = board[["task", "scorer", *shown]].rename(columns=shown)
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

    explanations: dict[str, Explanation]
    sections: list[dict[str, object]]
    images: dict[str, bytes]
    rows: int
    seed: int


def explain_drivers(scorer: object, sample: pd.DataFrame, seed: int) -> Drivers:
    """SHAP views of every model on the sample's rows (`aggregates.shap_sample`)."""
    explanations = {t: shap_views.explain(scorer, sample, t) for t in SUPERVISED}
    segments = scorer.segmenter.predict_named(sample)["segment_name"].astype(str)
    sections, figs = driver_sections(explanations, segments)
    return Drivers(explanations, sections, {k: png(f) for k, f in figs.items()}, len(sample), seed)


def driver_sections(
    explanations: dict[str, Explanation], segments: pd.Series, dependence_top: int = 3
) -> tuple[list[dict[str, object]], dict[str, Figure]]:
    """Per model: importance, beeswarm, dependence of its top features, drivers per segment."""
    sections, figs = [], {}
    for task, explanation in explanations.items():
        plain = [
            c
            for c in shap_views.top_columns(explanation, 20)
            if not c.startswith(ATTRIBUTE_PREFIX)
        ][:dependence_top]
        items = [
            (f"{task}/importance", figures.importance_bar(explanation),
             f"{explanation.label(plain[0])} matters most." if plain else ""),
            (f"{task}/beeswarm", figures.beeswarm(explanation),
             shap_views.reading(explanation, plain[0]) if plain else ""),
        ]  # fmt: skip
        for column in plain:
            items.append(
                (
                    f"{task}/dependence_{column}",
                    figures.dependence(explanation, column),
                    shap_views.reading(explanation, column),
                )
            )
        table = shap_views.by_segment(explanation, segments)
        top_segment = table.sum(axis=1).idxmax()
        items.append(
            (
                f"{task}/segments",
                figures.segment_drivers(table, explanation.outcome),
                f"The model's {explanation.outcome} moves most for {top_segment}, driven above "
                f"all by {str(table.loc[top_segment].idxmax()).lower()}.",
            )
        )
        figs.update({key: fig for key, fig, _ in items})
        sections.append(
            {
                "title": explanation.outcome.capitalize(),
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
) -> Report:
    """The report on the scored customers (`base`), with the SHAP views of `drivers`."""
    if base.customers == 0:
        raise ValueError("the report needs at least one scored customer")
    images = dict(drivers.images)
    summary = scorer.backtest
    if summary is not None and summary.reliability is not None:
        images["calibration"] = png(
            plots.reliability_table_figure({"churn model": summary.reliability})
        )
    if summary is not None and summary.deciles is not None:
        tables = {"custlens": summary.deciles}
        if summary.baseline_deciles is not None:
            name = SCORER_NAMES.get(summary.best_value_baseline, summary.best_value_baseline)
            tables[name] = summary.baseline_deciles
        images["deciles"] = png(plots.decile_table_figure(tables))
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
        examples=example_customers(base.examples(), salt),
        data_quality=None if quality is None else quality_table(quality),
        images=images,
    )
