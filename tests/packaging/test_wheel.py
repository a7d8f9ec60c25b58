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

from tests.conftest import ROOT

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
