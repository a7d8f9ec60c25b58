"""custlens: customer segments, churn risk, repurchase probability and lifetime value."""

from custlens.errors import CustlensError, DataError

__version__ = "0.1.0"
__all__ = ["CustlensError", "DataError", "__version__", "score"]


def score(
    transactions: "pandas.DataFrame",  # noqa: F821, UP037
    as_of: str,
    model_uri: str | None = None,
    customers: "pandas.DataFrame | None" = None,  # noqa: F821, UP037
) -> "pandas.DataFrame":  # noqa: F821, UP037
    """Score every customer as of `as_of`: one row each, columns as `scripts/score.py` writes.

    `transactions` has the canonical columns (customer_id, timestamp, amount, and optionally
    order_id, quantity, unit_price, product_id, country, ...); it is validated and cleaned with
    the default rules. `model_uri` defaults to the champion trained on `data=transactions_csv`.
    """
    from custlens.data.clean import clean_transactions
    from custlens.data.spec import CleaningSpec, ColumnMap
    from custlens.data.validate import to_canonical
    from custlens.scoring.blocks import score_transactions
    from custlens.tracking import registry

    canonical = to_canonical(transactions, ColumnMap())
    clean, _ = clean_transactions(canonical, CleaningSpec(), source="custlens.score")
    scorer = registry.load_scorer(
        model_uri or f"models:/custlens-transactions_csv@{registry.ALIAS}"
    )
    scores, _ = score_transactions(clean, as_of, scorer, customers)
    return scores
