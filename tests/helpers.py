"""Helpers the tests share (fixtures stay in conftest.py): paths, running and importing the
commands as a user would."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pandas as pd

from custlens.config import compose_config
from custlens.data import LoadedData
from custlens.scoring.batch import Reconciliation

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"

SMOKE_DATA = [
    "data=synthetic",
    "data.synthetic.n_customers=1500",
    "data.synthetic.start=2021-01-01",
    "data.synthetic.end=2023-06-30",
]  # the data of debug=smoke, for scripts whose configs have no debug group


def run_script(name: str, *overrides: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/NAME.py with Hydra overrides, as a user would, from a fresh temporary
    folder: default outputs (outputs/, reports/, the ledger) land there, never in the
    repository."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *overrides],
        check=False,
        capture_output=True,
        text=True,
        cwd=tempfile.mkdtemp(prefix="custlens-run-"),
        timeout=600,
    )


def load_script(name: str, folder: str = "scripts") -> ModuleType:
    """Import FOLDER/NAME.py as a module (commands and tools are not part of the package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def java_available() -> bool:
    """Java for Spark: `java` on PATH or a JAVA_HOME."""
    home = os.environ.get("JAVA_HOME")
    return bool(shutil.which("java") or (home and (Path(home) / "bin").is_dir()))


def loaded_of(
    log: pd.DataFrame | str,
    customers: pd.DataFrame | None = None,
    non_product: pd.DataFrame | None = None,
) -> LoadedData:
    """A clean log (and customer table, and fee-only customers) as the loaders hand it on."""
    return LoadedData(log, customers, None, non_product)


def reconcile(
    transactions: pd.DataFrame,
    as_of: pd.Timestamp,
    customers: pd.DataFrame | None,
    scores: pd.DataFrame,
    non_product: pd.DataFrame | None = None,
) -> Reconciliation:
    """The reconciliation computed in pandas, by sets: the oracle of the engine's."""
    end = as_of + pd.Timedelta(days=1)
    known = set(transactions.loc[transactions["timestamp"] < end, "customer_id"].dropna())
    later = set(transactions["customer_id"].dropna()) - known
    table = set(customers["customer_id"].astype(str)) - known if customers is not None else set()
    fees = set(non_product["customer_id"].astype(str)) if non_product is not None else set()
    ids = scores["customer_id"].astype(str)
    expected = known | table
    return Reconciliation(
        with_history=len(known),
        table_only=len(table - fees),
        only_after_as_of=len(later - table),
        scored=len(scores),
        duplicated=int(ids.duplicated().sum()),
        missing=len(expected - set(ids)),
        non_product_only=len(table & fees),
    )


__all__ = [
    "CONF",
    "ROOT",
    "SMOKE_DATA",
    "compose_config",
    "java_available",
    "load_script",
    "loaded_of",
    "reconcile",
    "run_script",
]
