"""The stakeholder report: one self-contained HTML page (images embedded, nothing fetched).

`report_tables` computes every table and sentence from the scores, the features and the
scorer; `render` turns them and the figures into HTML. Nothing here reads or writes files.
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
from custlens.explain.shap_views import Explanation
from custlens.features.build import ATTRIBUTE_PREFIX
from custlens.models import plots
from custlens.models.pipeline import BacktestSummary
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
    figures: dict[str, Figure] = field(default_factory=dict)


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _share(value: float) -> str:
    return f"{value:.0%}" if np.isfinite(value) else "n/a"


def _customers(n: int) -> str:
    return f"{n:,} customer" if n == 1 else f"{n:,} customers"


def recent_revenue(features: pd.DataFrame) -> pd.Series:
    """Each customer's net revenue over the last year (to date, if the window is missing)."""
    column = "revenue_365d" if "revenue_365d" in features else "monetary_total"
    return features[column].astype("float64").fillna(0.0)


def glance(scores: pd.DataFrame, features: pd.DataFrame, horizon_days: int) -> dict[str, str]:
    """The customer base in five figures."""
    revenue = recent_revenue(features)
    high = scores["churn_risk"] == "high"
    value = scores["clv"].astype(float)
    return {
        "Customers": f"{len(scores):,}",
        "Revenue, last 12 months": _money(revenue.sum()),
        f"Predicted value, next {horizon_days} days": _money(value.sum()),
        "Customers at high churn risk": _share(high.mean()),
        "Predicted value held by high-risk customers": _share(
            value[high].sum() / value.sum() if value.sum() > 0 else float("nan")
        ),
    }


def segment_table(
    scores: pd.DataFrame, features: pd.DataFrame, profiles: pd.DataFrame
) -> pd.DataFrame:
    """One row per segment present in the scores: size, revenue share, value, risk, advice."""
    revenue = recent_revenue(features).to_numpy()
    frame = pd.DataFrame(
        {
            "segment_id": scores["segment_id"].to_numpy(),
            "revenue": revenue,
            "clv": scores["clv"].to_numpy(float),
            "churn": scores["churn_probability"].to_numpy(float),
        }
    )
    grouped = frame.groupby("segment_id").agg(
        customers=("clv", "size"),
        revenue=("revenue", "sum"),
        clv=("clv", "mean"),
        churn=("churn", "mean"),
        value_total=("clv", "sum"),
    )
    total_revenue = max(grouped["revenue"].sum(), 1e-9)
    table = pd.DataFrame(
        {
            "Segment": profiles.loc[grouped.index, "name"].to_numpy(),
            "Customers": grouped["customers"].map("{:,}".format).to_numpy(),
            "Share of customers": (grouped["customers"] / len(scores)).map(_share).to_numpy(),
            "Share of last year's revenue": (grouped["revenue"] / total_revenue)
            .map(_share)
            .to_numpy(),
            "Average predicted value": grouped["clv"].map("{:,.0f}".format).to_numpy(),
            "Average churn risk": grouped["churn"].map(_share).to_numpy(),
            "Who they are": profiles.loc[grouped.index, "description"].to_numpy(),
            "Recommended action": profiles.loc[grouped.index, "action"].to_numpy(),
        }
    )
    order = np.argsort(-grouped["value_total"].to_numpy(), kind="stable")
    return table.iloc[order].reset_index(drop=True)


def value_risk_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Predicted value (and customers) by value tier and churn-risk band."""
    value = scores["clv"].astype(float)
    total = max(value.sum(), 1e-9)
    rows = {}
    for tier in [t for t in TIER_ORDER if (scores["value_tier"] == t).any()]:
        cells = {}
        for risk in RISK_ORDER:
            mask = (scores["value_tier"] == tier) & (scores["churn_risk"] == risk)
            cells[f"{risk} risk"] = (
                f"{_money(value[mask].sum())} ({_share(value[mask].sum() / total)}; "
                f"{_customers(int(mask.sum()))})"
            )
        rows[f"Tier {tier}"] = cells
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


def example_customers(scores: pd.DataFrame, salt: str, n: int = 5) -> pd.DataFrame:
    """The most valuable customers at high churn risk, under pseudonyms."""
    risky = scores.loc[scores["churn_risk"] == "high"].nlargest(n, "clv")
    reasons = risky["top_reasons"].fillna("").map(_without_attributes)
    return pd.DataFrame(
        {
            "Customer (pseudonym)": pseudonymise(risky["customer_id"], salt).to_numpy(),
            "Segment": risky["segment_name"].to_numpy(),
            "Churn risk": risky["churn_probability"].map(_share).to_numpy(),
            "Predicted value": risky["clv"].map(_money).to_numpy(),
            "Why at risk": reasons.to_numpy(),
        }
    )


def _without_attributes(reasons: str) -> str:
    """Drop reasons that would quote a customer-table attribute's value."""
    return "; ".join(p for p in reasons.split("; ") if not p.startswith(ATTRIBUTE_PREFIX))


def explain_sample(
    scorer: object, features: pd.DataFrame, rows: int, seed: int
) -> tuple[dict[str, Explanation], pd.Series]:
    """SHAP views of every model on a random sample of the buyers, and their segment names."""
    buyers = features.loc[features["has_purchase"].astype(bool)]
    sample = shap_views.sample_rows(buyers, rows, seed)
    explanations = {t: shap_views.explain(scorer, sample, t) for t in shap_views.TASKS}
    segments = scorer.segmenter.predict_named(sample)["segment_name"].astype(str)
    return explanations, segments


def driver_sections(
    explanations: dict[str, Explanation], segments: pd.Series, dependence_top: int = 2
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


def png(fig: Figure) -> str:
    """A figure as a base64 PNG for a data: URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plots.DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render(report: Report) -> str:
    """The report as one HTML document."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    images = {key: png(fig) for key, fig in report.figures.items()}
    return env.get_template("report.html").render(report=report, images=images)


def build_report(
    scores: pd.DataFrame,
    features: pd.DataFrame,
    scorer: object,
    data_name: str,
    quality: QualityReport | None,
    salt: str,
    shap_rows: int = 2000,
    seed: int = 0,
) -> Report:
    """The report on scored customers (`scores` and `features` row-aligned)."""
    if (
        len(scores) != len(features)
        or not (
            scores["customer_id"].astype(str).to_numpy()
            == features["customer_id"].astype(str).to_numpy()
        ).all()
    ):
        raise ValueError("scores and features must describe the same customers in the same order")
    features = features.reset_index(drop=True)
    scores = scores.reset_index(drop=True)
    explanations, segments = explain_sample(scorer, features, shap_rows, seed)
    drivers, figs = driver_sections(explanations, segments)
    summary = scorer.backtest
    if summary is not None and summary.reliability is not None:
        figs["calibration"] = plots.reliability_table_figure({"churn model": summary.reliability})
    if summary is not None and summary.deciles is not None:
        tables = {"custlens": summary.deciles}
        if summary.baseline_deciles is not None:
            name = SCORER_NAMES.get(summary.best_value_baseline, summary.best_value_baseline)
            tables[name] = summary.baseline_deciles
        figs["deciles"] = plots.decile_table_figure(tables)
    as_of = pd.Timestamp(scores["as_of"].iloc[0]).date()
    return Report(
        title=f"Customer base as of {as_of}",
        facts={
            "Data": data_name,
            "As of": str(as_of),
            "Model": scorer.model_version,
            "Trained on data through": scorer.trained_through,
            "Explanations": f"SHAP on {len(segments):,} customers drawn at random (seed {seed})",
        },
        glance=glance(scores, features, scorer.horizon_days),
        segments=segment_table(scores, features, scorer.segmenter.segments_),
        value_risk=value_risk_matrix(scores),
        quality_sentences=[] if summary is None else quality_sentences(summary),
        leaderboard=None if summary is None else leaderboard_table(summary),
        drivers=drivers,
        examples=example_customers(scores, salt),
        data_quality=None if quality is None else quality_table(quality),
        figures=figs,
    )
