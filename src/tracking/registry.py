"""Logging the scorer as an MLflow pyfunc model, registering it, and moving the champion alias.

The model ships custlens's own code (a copy of src/ under the name `custlens`), so it loads
wherever its pinned dependencies are installed, with or without the project wheel.
"""

from __future__ import annotations

import importlib.metadata
import pickle  # noqa: S403 - our own artifact
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

RUNTIME_PACKAGES = (
    "mlflow",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "lightgbm",
    "numba",
    "llvmlite",
    "pyarrow",
    "ibis-framework",
    "duckdb",
    "sqlglot",
    "pandera",
    "cloudpickle",
)
ALIAS = "champion"
SIGNATURE_ROWS = 100  # rows scored to infer the output signature (its dtypes are fixed)
EXAMPLE_ROWS = 5  # rows of the stored input example, which MLflow scores once to validate


def pinned_requirements() -> list[str]:
    """The scorer's runtime dependencies at the versions installed now."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in RUNTIME_PACKAGES]


def log_scorer(scorer: Any, example: pd.DataFrame, name: str = "scorer") -> Any:
    """Log the scorer as a pyfunc with signature, input example and pinned requirements."""
    import mlflow
    from mlflow.models import infer_signature

    from custlens.privacy import new_salt, redact

    output = scorer.score_features(example.head(SIGNATURE_ROWS))
    package = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        # Integer feature columns are counts that scoring fills with zeros, never missing:
        # MLflow's hint about integers and missing values does not apply to them.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(example, output)
        code = Path(folder) / "custlens"
        shutil.copytree(package, code, ignore=shutil.ignore_patterns("__pycache__"))
        artifact = Path(folder) / "scorer.pkl"
        artifact.write_bytes(pickle.dumps(scorer))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(package / "tracking" / "scorer_model.py"),
            artifacts={"scorer": str(artifact)},
            code_paths=[str(code)],
            signature=signature,
            # The stored example is an artifact anyone with the run can read: no real ids.
            input_example=redact(example.head(EXAMPLE_ROWS), new_salt(), population=example),
            pip_requirements=pinned_requirements(),
        )


def register(model_uri: str, name: str, tags: dict[str, str]) -> str:
    """Register a logged model; returns the new version."""
    import mlflow

    version = mlflow.register_model(model_uri, name, tags=tags)
    return str(version.version)


def champion(name: str) -> Any | None:
    """The version holding the champion alias, if any."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return MlflowClient().get_model_version_by_alias(name, ALIAS)
    except MlflowException:
        return None


def promote(name: str, version: str) -> None:
    """Move the champion alias to `version`."""
    from mlflow import MlflowClient

    MlflowClient().set_registered_model_alias(name, ALIAS, version)


def load_scorer(model_uri: str) -> Any:
    """The Scorer inside a logged or registered pyfunc, tagged with its registry version."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from custlens.errors import CustlensError
    from custlens.tracking.mlflow_io import quiet

    quiet()
    try:
        model = mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise CustlensError(f"cannot load the model {model_uri}: {exc}") from None
    scorer = model.unwrap_python_model().scorer
    scorer.model_version = version_of(model_uri)
    return scorer


def version_of(model_uri: str) -> str:
    """ "name/version" for registry URIs (aliases resolved), the URI itself otherwise."""
    from mlflow import MlflowClient

    if not model_uri.startswith("models:/"):
        return model_uri
    name, _, ref = model_uri.removeprefix("models:/").partition("@")
    if ref:
        return f"{name}/{MlflowClient().get_model_version_by_alias(name, ref).version}"
    return model_uri.removeprefix("models:/")
