"""Each figure: right number of artists, labelled axes, saves to a non-empty PNG."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from custlens.errors import CustlensError
from custlens.models.evaluation import plots

RNG = np.random.default_rng(0)
N = 400
Y = RNG.binomial(1, 0.3, size=N)
MODEL = np.clip(0.3 + 0.3 * (Y - 0.3) + RNG.normal(0, 0.15, N), 0, 1)
SCORES = {"model": MODEL, "baseline": RNG.random(N)}
VALUE = RNG.lognormal(3, 1, N)
VALUES = {"model": VALUE * RNG.lognormal(0, 0.5, N), "last year": RNG.lognormal(3, 1, N)}


@pytest.fixture
def close() -> Iterator[list[Figure]]:
    made: list[Figure] = []
    yield made
    for fig in made:
        plt.close(fig)


def _check(fig: Figure, close: list[Figure], tmp_path: Path) -> None:
    close.append(fig)
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == pytest.approx(plots.FIGSIZE)
    path = tmp_path / "figure.png"
    fig.savefig(path)
    assert path.stat().st_size > 0


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_roc_figure(close: list[Figure], tmp_path: Path) -> None:
    fig = plots.roc_figure(Y, SCORES)
    _check(fig, close, tmp_path)
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # two scorers and the random diagonal
    labels = _legend(ax)
    assert labels[0].startswith("model (AUC 0.") and labels[1].startswith("baseline (AUC")
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    # model first in the first palette colour, baselines after
    assert ax.lines[0].get_color() == plots.PALETTE[0]
    assert ax.lines[1].get_color() == plots.PALETTE[1]


def test_pr_figure(close: list[Figure], tmp_path: Path) -> None:
    fig = plots.pr_figure(Y, SCORES)
    _check(fig, close, tmp_path)
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # two scorers and the prevalence line
    assert [t.split(" ")[0] for t in _legend(ax)] == ["model", "baseline", "chance"]
    assert ax.get_xlabel() == "Recall" and ax.get_ylabel() == "Precision"


def test_reliability_figure(close: list[Figure], tmp_path: Path) -> None:
    fig = plots.reliability_figure(Y, SCORES, bins=8)
    _check(fig, close, tmp_path)
    ax, strip = fig.axes
    assert len(ax.lines) == 3  # diagonal and two scorers
    assert len(ax.lines[1].get_xdata()) == 8  # one point per equal-count bin
    assert len(_legend(ax)) == 3 and "ECE" in _legend(ax)[1]
    assert len(strip.patches) == 2  # one step histogram per scorer
    assert ax.get_ylabel() and strip.get_xlabel() and strip.get_ylabel()


def test_gain_figure(close: list[Figure], tmp_path: Path) -> None:
    fig = plots.gain_figure(Y, SCORES)
    _check(fig, close, tmp_path)
    (ax,) = fig.axes
    assert len(ax.lines) == 3
    assert _legend(ax)[-1] == "chance"
    assert ax.get_xlabel() == "Share of customers targeted"
    line = ax.lines[0]
    assert line.get_xdata()[0] == 0 and line.get_ydata()[-1] == pytest.approx(1.0)


def test_decile_figure(close: list[Figure], tmp_path: Path) -> None:
    fig = plots.decile_figure(VALUE, VALUES)
    _check(fig, close, tmp_path)
    (ax,) = fig.axes
    assert len(ax.patches) == 20  # ten deciles per scorer
    assert len(ax.lines) == 2  # mean predicted per scorer
    assert len(_legend(ax)) == 4
    assert ax.get_xlabel() and ax.get_ylabel()


def test_importance_figure(close: list[Figure], tmp_path: Path) -> None:
    importance = pd.Series(
        np.arange(30, dtype=float), index=[f"f{i}" for i in range(30)], name="mean |SHAP|"
    )
    fig = plots.importance_figure(importance, labels={"f29": "Days since last order"}, top=5)
    close.append(fig)
    fig.savefig(tmp_path / "importance.png")
    assert (tmp_path / "importance.png").stat().st_size > 0
    (ax,) = fig.axes
    assert len(ax.patches) == 5
    names = [t.get_text() for t in ax.get_yticklabels()]
    # bottom to top, the largest on top with its plain-language label
    assert names == ["f25", "f26", "f27", "f28", "Days since last order"]
    assert ax.get_xlabel() == "mean |SHAP|" and ax.get_ylabel() == "Feature"


def test_segment_profile_figure(close: list[Figure], tmp_path: Path) -> None:
    profile = pd.DataFrame(
        {
            "size share": [0.5, 0.3, 0.2],
            "recency (days)": [20.0, 150.0, 300.0],
            "monetary": [1500.0, 400.0, 90.0],
            "churn rate": [0.1, 0.4, np.nan],
            "constant": [1.0, 1.0, 1.0],
        },
        index=["champions", "at risk", "lost"],
    )
    fig = plots.segment_profile_figure(profile)
    _check(fig, close, tmp_path)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # heat map and colour bar
    assert len(ax.images) == 1
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == profile.size
    assert "1,500" in texts and "n/a" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == list(profile.index)
    assert ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize(
    "call",
    [
        lambda: plots.roc_figure(Y, {}),
        lambda: plots.roc_figure(Y, {"short": MODEL[:10]}),
        lambda: plots.importance_figure(pd.Series(dtype=float)),
        lambda: plots.importance_figure(pd.Series([1.0]), top=0),
        lambda: plots.segment_profile_figure(pd.DataFrame({"name": ["a"]})),
    ],
)
def test_invalid_input_raises(call) -> None:
    with pytest.raises(CustlensError):
        call()
