"""SHAP explanations of the churn, repurchase and CLV models, as data.

Values are exact tree SHAP from LightGBM (`pred_contrib`, equal to shap's TreeExplainer), in
the model's raw units: log-odds for the classifiers, log of the value for the Tweedie CLV
model. The CLV figure a customer sees also blends in the BG/NBD-Gamma-Gamma value; SHAP
explains the LightGBM part, which carries the blend's weight recorded in the model.
Nothing here plots, writes or logs: see `custlens.explain.figures` and the scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.errors import CustlensError
from custlens.features.build import ATTRIBUTE_PREFIX
from custlens.features.catalogue import context_features, inline
from custlens.models.estimators.gbm import GradientBoostedModel
from custlens.models.tasks import task as registered

CONTEXT = context_features()


@dataclass
class Explanation:
    """SHAP values of one model on some customers, with their feature values."""

    task: str
    values: pd.DataFrame  # customers x model features, in raw score units
    base: float  # the model's expected raw score (SHAP's base value)
    data: pd.DataFrame  # the same customers' feature values, same columns
    labels: dict[str, str]  # column -> plain-language label

    @property
    def outcome(self) -> str:
        """What the model predicts, in words."""
        return registered(self.task).outcome

    @property
    def unit(self) -> str:
        """The unit of the SHAP values."""
        return registered(self.task).unit

    def label(self, column: str) -> str:
        """The plain label of a model column."""
        return self.labels.get(column, column)


def plain_labels(catalogue: list) -> dict[str, str]:
    """Feature name -> label, from the catalogue the scorer was trained with."""
    return {f.name: f.title for f in catalogue}


def label_of(column: str, labels: dict[str, str]) -> str:
    """A catalogue label, or a readable form of a customer-table attribute."""
    if column in labels:
        return labels[column]
    if column.startswith(ATTRIBUTE_PREFIX):
        return "Customer " + column.removeprefix(ATTRIBUTE_PREFIX).replace("_", " ")
    return column.replace("_", " ").capitalize()


def booster(scorer: object, task: str) -> GradientBoostedModel:
    """The LightGBM model of a task inside a scorer."""
    model = getattr(scorer.models, registered(task).name)
    if model is None:
        raise CustlensError(f"the scorer has no {task} model")
    return model.model_


def explain(scorer: object, features: pd.DataFrame, task: str) -> Explanation:
    """SHAP values of `task`'s model on the feature rows (index kept)."""
    model = booster(scorer, task)
    contributions = model.contributions(features)
    values = contributions.drop(columns="bias")
    catalogue_labels = plain_labels(scorer.catalogue)
    labels = {c: label_of(c, catalogue_labels) for c in values.columns}
    base = float(contributions["bias"].iloc[0]) if len(contributions) else float("nan")
    return Explanation(task, values, base, features[list(values.columns)].copy(), labels)


def importance(explanation: Explanation) -> pd.Series:
    """Mean absolute SHAP value per column, largest first; scoring-date context (the time of
    year, the same for every customer scored together) is left out: it drives no customer
    apart from another."""
    values = explanation.values.drop(columns=list(CONTEXT), errors="ignore")
    values = values.abs().mean().sort_values(ascending=False, kind="stable")
    values.name = f"Mean |effect| on {explanation.outcome} ({explanation.unit})"
    return values


def top_columns(explanation: Explanation, k: int) -> list[str]:
    """The `k` columns with the largest mean absolute SHAP value."""
    return list(importance(explanation).index[:k])


def by_segment(explanation: Explanation, segments: pd.Series, top: int = 8) -> pd.DataFrame:
    """Mean absolute SHAP of the `top` columns within each segment (rows: segment names)."""
    segments = segments.reindex(explanation.values.index)
    if segments.isna().any():
        raise CustlensError("every explained customer needs a segment")
    columns = top_columns(explanation, top)
    table = explanation.values[columns].abs().groupby(segments.to_numpy()).mean()
    return table.rename(columns=explanation.labels)


def direction(explanation: Explanation, column: str) -> float:
    """Rank correlation of a numeric column's value with its SHAP value (nan if undefined)."""
    x = explanation.data[column]
    if not (pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x)):
        return float("nan")
    both = pd.DataFrame({"x": x.astype("float64"), "s": explanation.values[column]}).dropna()
    if len(both) < 3 or both["x"].nunique() < 2 or both["s"].nunique() < 2:
        return float("nan")
    return float(both["x"].rank().corr(both["s"].rank()))


def reading(explanation: Explanation, column: str) -> str:
    """One plain sentence on how a column moves the prediction."""
    label = explanation.label(column)
    outcome = explanation.outcome
    rho = direction(explanation, column)
    if not np.isfinite(rho) or abs(rho) < 0.2:
        return f"{label} moves the {outcome}, in a direction that depends on the customer."
    way = "higher" if rho > 0 else "lower"
    pattern = "a clear pattern" if abs(rho) >= 0.6 else "a loose pattern"
    return f"The higher the {inline(label)}, the {way} the {outcome} ({pattern})."


def contribution_table(explanation: Explanation, row: object, top: int = 10) -> pd.DataFrame:
    """One customer's contributions, largest first: label, value, effect (raw units)."""
    if row not in explanation.values.index:
        raise CustlensError("that customer is not among the explained rows")
    effects = explanation.values.loc[row]
    order = effects.abs().sort_values(ascending=False, kind="stable").index[:top]
    return pd.DataFrame(
        {
            "feature": [explanation.label(c) for c in order],
            "value": [explanation.data.loc[row, c] for c in order],
            "effect": effects[order].to_numpy(float),
        }
    )
