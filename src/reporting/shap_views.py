"""SHAP explanations of the task models as `shap.Explanation` objects, and readings of them.

Values are exact tree SHAP from the compiled trees (`custlens.models.estimators.trees`, equal
to LightGBM's `pred_contrib` and to shap's TreeExplainer), in the model's raw units: log-odds
for probabilities, log of the value for the Tweedie value model (which explains its LightGBM
part; the value a customer sees also blends in the BG/NBD-Gamma-Gamma estimate). Feature names
are the catalogue's plain labels, so shap's own plots (waterfall, beeswarm, bar, scatter) read
as the report does. Nothing here plots, writes or logs: see `custlens.reporting.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.features.build import ATTRIBUTE_PREFIX
from custlens.features.catalogue import context_features, inline
from custlens.models.tasks import EXPLAINED
from custlens.models.tasks import task as registered

CONTEXT = context_features()


def label_of(column: str, labels: dict[str, str]) -> str:
    """A catalogue label, or a readable form of a customer-table attribute."""
    if column in labels:
        return labels[column]
    if column.startswith(ATTRIBUTE_PREFIX):
        return "Customer " + column.removeprefix(ATTRIBUTE_PREFIX).replace("_", " ")
    return column.replace("_", " ").capitalize()


@dataclass
class Explained:
    """One task's SHAP explanation of some customers: the `shap.Explanation` (values, base
    values, the model matrix as `data`, the feature values as `display_data`, plain labels as
    feature names) and the model columns behind its labels, with the rows' index."""

    task: str
    shap: Any  # shap.Explanation
    columns: list[str]
    index: pd.Index

    @property
    def outcome(self) -> str:
        """What the model predicts, in words."""
        return registered(self.task).outcome

    @property
    def unit(self) -> str:
        """The unit of the SHAP values."""
        return registered(self.task).unit

    @property
    def values(self) -> pd.DataFrame:
        """Customers x model columns, in raw score units."""
        return pd.DataFrame(self.shap.values, index=self.index, columns=self.columns)

    @property
    def data(self) -> pd.DataFrame:
        """The same customers' feature values."""
        return pd.DataFrame(self.shap.display_data, index=self.index, columns=self.columns)

    def label(self, column: str) -> str:
        """The plain label of a model column."""
        return str(self.shap.feature_names[self.columns.index(column)])

    def view(self, columns: list[str] | None = None, rows: Any = None) -> Any:
        """The `shap.Explanation` restricted to these columns (default: all but the scoring
        date's context, which moves every customer alike) and rows (positions)."""
        keep = [c for c in self.columns if c not in CONTEXT] if columns is None else columns
        positions = [self.columns.index(c) for c in keep]
        out = self.shap[:, positions]
        return out if rows is None else out[rows]


def explain(scorer: Any, features: pd.DataFrame, task: str) -> Explained:
    """SHAP values of `task`'s model on the feature rows (index kept)."""
    import shap

    if task not in scorer.models or task not in EXPLAINED:
        raise CustlensError(f"the scorer has no {task} model SHAP explains")
    model = scorer.models[task]
    _, contributions = model.explain(features)
    columns = [c for c in contributions.columns if c != "bias"]
    booster = model.boosters()[0]
    labels = {f.name: f.title for f in scorer.catalogue}
    explanation = shap.Explanation(
        values=contributions[columns].to_numpy(float),
        base_values=contributions["bias"].to_numpy(float),
        data=booster.encoder_.matrix(features),
        display_data=features[columns].astype(object).to_numpy(),
        feature_names=[label_of(c, labels) for c in columns],
        instance_names=features["customer_id"].astype(str).tolist(),
        output_names=registered(task).outcome,
    )
    return Explained(task, explanation, columns, features.index)


def importance(explained: Explained) -> pd.Series:
    """Mean absolute SHAP value per column, largest first; scoring-date context (the time of
    year, the same for every customer scored together) is left out: it drives no customer
    apart from another."""
    values = explained.values.drop(columns=list(CONTEXT), errors="ignore")
    values = values.abs().mean().sort_values(ascending=False, kind="stable")
    values.name = f"Mean |effect| on {explained.outcome} ({explained.unit})"
    return values


def top_columns(explained: Explained, k: int) -> list[str]:
    """The `k` columns with the largest mean absolute SHAP value."""
    return list(importance(explained).index[:k])


def by_segment(explained: Explained, segments: pd.Series, top: int = 8) -> pd.DataFrame:
    """Mean absolute SHAP of the `top` columns within each segment (rows: segment names)."""
    segments = segments.reindex(explained.index)
    if segments.isna().any():
        raise CustlensError("every explained customer needs a segment")
    columns = top_columns(explained, top)
    table = explained.values[columns].abs().groupby(segments.to_numpy()).mean()
    return table.rename(columns={c: explained.label(c) for c in columns})


def direction(explained: Explained, column: str) -> float:
    """Rank correlation of a numeric column's value with its SHAP value (nan if undefined)."""
    x = pd.Series(explained.shap.display_data[:, explained.columns.index(column)])
    try:
        x = pd.to_numeric(x.map(lambda v: float(v) if isinstance(v, bool | np.bool_) else v))
    except (TypeError, ValueError):
        return float("nan")
    s = explained.values[column].to_numpy()
    both = pd.DataFrame({"x": x.to_numpy(float), "s": s}).dropna()
    if len(both) < 3 or both["x"].nunique() < 2 or both["s"].nunique() < 2:
        return float("nan")
    return float(both["x"].rank().corr(both["s"].rank()))


def reading(explained: Explained, column: str) -> str:
    """One plain sentence on how a column moves the prediction."""
    label, outcome = explained.label(column), explained.outcome
    rho = direction(explained, column)
    if not np.isfinite(rho) or abs(rho) < 0.2:
        return f"{label} moves the {outcome}, in a direction that depends on the customer."
    way = "higher" if rho > 0 else "lower"
    pattern = "a clear pattern" if abs(rho) >= 0.6 else "a loose pattern"
    return f"The higher the {inline(label)}, the {way} the {outcome} ({pattern})."
