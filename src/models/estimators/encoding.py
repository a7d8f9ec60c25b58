"""From feature rows to the model matrix: numeric columns as floats, text as fixed categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from custlens.errors import CustlensError


def model_features(features: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The allow-list of model inputs: the given names, else the default feature catalogue's
    (`custlens.features.catalogue`). Labels, keys and cutoffs are never among them."""
    if features is not None:
        return tuple(features)
    from custlens.features.catalogue import catalogue
    from custlens.features.spec import FeatureSpec

    return tuple(f.name for f in catalogue(FeatureSpec()))


class FeatureEncoder(BaseEstimator, TransformerMixin):
    """Learns the categories of the text features among the allowed columns.

    `features` is the allow-list of model inputs (default: the feature catalogue's names), so
    labels and anything else a frame holds never reach a model. Categories unseen in training
    become missing, so new countries cannot shift the codes.
    """

    def __init__(self, features: tuple[str, ...] | None = None) -> None:
        self.features = features

    def fit(self, X: pd.DataFrame, y: object = None) -> FeatureEncoder:  # noqa: N803
        """Record feature names (in X's order), dtypes and categories."""
        allowed = model_features(self.features)
        missing = [c for c in allowed if c not in X.columns]
        if missing:
            raise CustlensError(f"feature rows lack column(s) the model needs: {missing}")
        chosen = set(allowed)
        self.columns_ = [c for c in X.columns if c in chosen]
        self.dtypes_ = {c: str(X[c].dtype) for c in self.columns_}
        self.categories_ = {
            c: sorted(X[c].dropna().astype(str).unique()) for c in self.columns_ if _is_text(X[c])
        }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """The model matrix, columns in training order."""
        check_is_fitted(self)
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise CustlensError(f"feature rows lack column(s) the model needs: {missing}")
        out = {}
        for c in self.columns_:
            if c in self.categories_:
                out[c] = pd.Categorical(X[c].astype("object"), categories=self.categories_[c])
            else:
                out[c] = X[c].astype("float64").to_numpy()
        return pd.DataFrame(out, index=X.index)

    def matrix(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The model matrix as LightGBM sees it: floats, text as category codes (missing and
        unseen categories NaN). Cheaper than `transform` for prediction."""
        check_is_fitted(self)
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise CustlensError(f"feature rows lack column(s) the model needs: {missing}")
        out = np.empty((len(X), len(self.columns_)), dtype=np.float64)
        for j, c in enumerate(self.columns_):
            if c in self.categories_:
                codes = pd.Categorical(X[c].astype("object"), categories=self.categories_[c]).codes
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = X[c].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def signature(self) -> tuple:
        """What decides the matrix: encoders with equal signatures give equal matrices."""
        check_is_fitted(self)
        return tuple(self.columns_), tuple((c, tuple(v)) for c, v in self.categories_.items())


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype)
