"""The built wheel holds every subpackage: install it in a clean venv and import them all.

The fast test borrows the dependencies of the running environment through a .pth line (which
does not activate the editable install), so only the wheel can provide `custlens`. The slow
test installs the wheel with its pinned dependencies from scratch.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import ROOT

SUBPACKAGES = sorted(
    "custlens" + "".join(f".{part}" for part in p.parent.relative_to(ROOT / "src").parts)
    for p in (ROOT / "src").rglob("__init__.py")
)
IMPORT_ALL = (
    "import importlib, sys, custlens\n"
    "for name in sys.argv[1:]:\n"
    "    importlib.import_module(name)\n"
    "print(custlens.__file__)\n"
)


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, ROOT)
    [built] = out.glob("custlens-*.whl")
    return built


def new_venv(folder: Path) -> Path:
    run(sys.executable, "-m", "venv", folder)
    return folder / "bin" / "python"


def test_src_tree_has_the_required_subpackages() -> None:
    assert {"custlens.data", "custlens.features", "custlens.models"} <= set(SUBPACKAGES)


def test_wheel_installs_and_imports_every_subpackage(wheel: Path, tmp_path: Path) -> None:
    python = new_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel)
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(purelib.strip()) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"])
    where = run(python, "-c", IMPORT_ALL, *SUBPACKAGES, cwd=tmp_path)
    assert where.strip().startswith(str(tmp_path / "venv"))
    assert where.strip().endswith("custlens/__init__.py")


@pytest.mark.slow
def test_wheel_installs_with_pinned_dependencies(wheel: Path, tmp_path: Path) -> None:
    python = new_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements.lock", wheel)
    where = run(python, "-c", IMPORT_ALL, *SUBPACKAGES, cwd=tmp_path)
    assert where.strip().startswith(str(tmp_path / "venv"))


LOAD_MODEL = (
    "import sys, mlflow, pandas as pd\n"
    "mlflow.set_tracking_uri(sys.argv[1])\n"
    "model = mlflow.pyfunc.load_model(sys.argv[2])\n"
    "rows = pd.read_parquet(sys.argv[3])\n"
    "out = model.predict(rows)\n"
    "import custlens; print(custlens.__file__); print(len(out), len(rows))\n"
)


def test_logged_scorer_loads_where_only_the_wheel_is_installed(
    trained, wheel: Path, tmp_path: Path
) -> None:
    import mlflow
    import pandas as pd

    from custlens.features.build import build_features
    from custlens.tracking.mlflow_io import use_store
    from custlens.tracking.registry import log_scorer

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    use_store(uri, "custlens")
    features = build_features(
        trained.loaded.transactions, "2023-06-01", trained.scorer.feature_spec
    )
    features.insert(1, "as_of", pd.Timestamp("2023-06-01"))
    with mlflow.start_run():
        info = log_scorer(trained.scorer, features)
    rows = tmp_path / "rows.parquet"
    features.head(200).to_parquet(rows)
    python = new_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel)
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(purelib.strip()) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"])
    out = run(python, "-c", LOAD_MODEL, uri, info.model_uri, rows, cwd=tmp_path)
    # custlens comes from the code shipped inside the model (or the wheel), never from src/
    where, counts = out.strip().splitlines()[-2:]
    assert not where.startswith(str(ROOT)) and counts == "200 200"
