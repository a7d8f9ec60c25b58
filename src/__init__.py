"""custlens: customer segments, churn risk, repurchase probability and lifetime value.

The Python API, with no config and no tracking store:

    scorer = custlens.train(transactions, horizon_days=90)
    scores = custlens.score(transactions, "2011-09-10", model=scorer)   # = scorer.score(...)
    explained = custlens.explain(scorer, transactions, "2011-09-10", customer_ids=ids)
    shap.plots.waterfall(explained["churn"][0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custlens.errors import CustlensError, CustlensWarning, DataError

if TYPE_CHECKING:
    import pandas as pd

    from custlens.data.spec import CleaningSpec
    from custlens.scoring.scorer import Scorer

__version__ = "0.1.0"
__all__ = [
    "CustlensError",
    "CustlensWarning",
    "DataError",
    "__version__",
    "explain",
    "score",
    "train",
]


def train(
    transactions: pd.DataFrame,
    horizon_days: int = 90,
    customers: pd.DataFrame | None = None,
    *,
    cleaning: CleaningSpec | None = None,
    **settings: Any,
) -> Scorer:
    """Train every model on a transaction log and return the fitted scorer.

    `transactions` has the canonical columns (customer_id, timestamp, amount, and optionally
    order_id, quantity, unit_price, product_id, country, ...); it is validated and cleaned by
    `cleaning` (default rules). `settings` are those of `custlens.training.TrainingSpec`
    (`features`, `labels`, `frames`, `models`, `segmentation`, `scoring`, `seed`, `threads`,
    `repurchase_days`), each as its dataclass or a dict of its fields; `models` maps a task
    to its settings or to overrides of its defaults, e.g. `models={"churn": {"n_estimators":
    300}}`. The scorer carries its out-of-time backtest (`scorer.backtest`).
    """
    from custlens.data.load import from_frame
    from custlens.training import TrainingSpec
    from custlens.training import train as train_models

    loaded = from_frame(transactions, customers, cleaning)
    spec = TrainingSpec.of(horizon_days=horizon_days, **settings)
    return train_models(loaded, spec).scorer


def score(
    transactions: pd.DataFrame,
    as_of: str,
    model: Scorer | None = None,
    *,
    model_uri: str | None = None,
    customers: pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Score every customer as of `as_of`: one row each, columns as `scripts/score.py` writes.

    `model` is a scorer (`custlens.train`); without one, `model_uri` names a registered model
    (default: the champion trained on `data=transactions_csv`). The log is validated and
    cleaned with the default rules; `options`: `chunk_size`, `threads`.
    """
    if model is None:
        from custlens.tracking import registry

        model = registry.load_scorer(
            model_uri or f"models:/custlens-transactions_csv@{registry.ALIAS}"
        )
    return model.score(transactions, as_of, customers, **options)


def explain(
    scorer: Scorer,
    transactions: pd.DataFrame,
    as_of: str,
    customer_ids: Any = None,
    *,
    customers: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Why the scorer scores customers as it does: per task (churn, repurchase, clv), a
    `shap.Explanation` of its model for the customers known on `as_of` (all of them, or those
    in `customer_ids`, in that order), exact tree SHAP in the model's raw units, feature names
    as the catalogue's plain labels. Hand them to shap's plots: `shap.plots.waterfall(
    explained["churn"][0])`, `beeswarm`, `bar`, `scatter`."""
    from custlens.data.load import from_frame
    from custlens.models.tasks import EXPLAINED
    from custlens.reporting.shap_views import explain as explain_task
    from custlens.scoring.batch import features_as_of

    loaded = from_frame(transactions, customers)
    features = features_as_of(loaded.transactions, as_of, scorer, loaded.customers_as_of(as_of))
    if customer_ids is not None:
        wanted = [str(i) for i in customer_ids]
        position = dict(zip(features["customer_id"].astype(str), features.index, strict=True))
        unknown = [i for i in wanted if i not in position]
        if unknown:
            raise CustlensError(
                f"{len(unknown)} customer id(s) not known on {as_of}, first {unknown[:5]}"
            )
        features = features.loc[[position[i] for i in wanted]]
    return {
        task: explain_task(scorer, features, task).shap
        for task in scorer.models
        if task in EXPLAINED
    }
