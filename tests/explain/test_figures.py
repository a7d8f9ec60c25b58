"""SHAP figures: plain labels on the axes, a waterfall that adds up, clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.explain import figures, shap_views


@pytest.fixture(scope="module")
def churn(trained, scored) -> shap_views.Explanation:
    return shap_views.explain(trained.scorer, scored[0].head(300), "churn")


def _tick_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_importance_and_beeswarm_use_plain_labels(churn) -> None:
    raw_names = set(churn.values.columns)
    for fig in (figures.importance_bar(churn, top=8), figures.beeswarm(churn, top=8)):
        labels = _tick_labels(fig)
        assert len(labels) == 8
        assert not raw_names & set(labels)
        top = churn.label(shap_views.top_columns(churn, 1)[0])
        assert labels[-1] == top  # drawn at the top
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
    row = churn.values.index[5]
    fig = figures.waterfall(churn, row, top=6)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 7  # six features and "N other features"
    assert sum(widths) == pytest.approx(churn.values.loc[row].sum())
    probability = 1 / (1 + np.exp(-(churn.base + churn.values.loc[row].sum())))
    assert f"{probability:.0%} for this one" in ax.get_title()
    assert _tick_labels(fig)[0].endswith("other features")
    with pytest.raises(CustlensError, match="not among"):
        figures.waterfall(churn, "missing-row")


def test_segment_drivers_heat_map() -> None:
    table = pd.DataFrame({"Days since last purchase": [0.5, 0.1]}, index=["Champions", "Lost"])
    fig = figures.segment_drivers(table, "churn risk")
    assert _tick_labels(fig) == ["Champions", "Lost"]
    with pytest.raises(CustlensError):
        figures.segment_drivers(table.iloc[:0], "churn risk")
