"""SHAP figures drawn by shap's own plots: plain labels on the axes, a waterfall that adds up,
clear refusals."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.reporting import figures, shap_views


@pytest.fixture(scope="module")
def churn(trained, scored) -> shap_views.Explained:
    return shap_views.explain(trained.scorer, scored[0].head(300), "churn")


def _tick_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_importance_and_beeswarm_use_plain_labels(churn) -> None:
    raw_names = set(churn.columns)
    top = churn.label(shap_views.top_columns(churn, 1)[0])
    for fig in (figures.importance_bar(churn, top=8), figures.beeswarm(churn, top=8)):
        labels = {label for label in _tick_labels(fig) if label}
        assert len(labels) == 8  # seven top features, and the sum of the others
        assert any(label.startswith("Sum of") for label in labels)
        assert not raw_names & labels
        assert top in labels
        assert "Day of the year of the scoring date" not in " ".join(labels)  # context
        fig.canvas.draw()  # renders without error


def test_dependence_of_numeric_and_text_features(churn) -> None:
    column = shap_views.top_columns(churn, 1)[0]
    fig = figures.dependence(churn, column)
    assert fig.axes[0].get_xlabel() == churn.label(column)
    text = figures.dependence(churn, "country")
    assert text.axes[0].get_xlabel() == "Country"
    with pytest.raises(CustlensError, match="not a feature"):
        figures.dependence(churn, "nope")


def test_waterfall_bars_add_up_to_the_customers_score(churn) -> None:
    fig = figures.waterfall(churn, 5, top=6)
    ax = fig.axes[0]
    ticks = " ".join(t.get_text() for a in fig.axes for t in a.get_xticklabels())
    raw = churn.shap.base_values[5] + churn.shap.values[5].sum()
    assert f"{raw:.3f}" in ticks.replace("\u2212", "-")  # f(x): the customer's raw score
    assert any(t.get_text().endswith("other features") for t in ax.get_yticklabels())
    with pytest.raises(CustlensError, match="not among"):
        figures.waterfall(churn, 10**6)


def test_segment_drivers_heat_map() -> None:
    table = pd.DataFrame({"Days since last purchase": [0.5, 0.1]}, index=["Champions", "Lost"])
    fig = figures.segment_drivers(table, "churn risk")
    assert _tick_labels(fig) == ["Champions", "Lost"]
    with pytest.raises(CustlensError):
        figures.segment_drivers(table.iloc[:0], "churn risk")
