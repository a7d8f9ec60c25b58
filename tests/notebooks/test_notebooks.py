"""The notebooks are stored without outputs and run top to bottom on the bundled data (and, for
the explanation notebook, a scored file and a registered champion in a throwaway store)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import ROOT, SMOKE_DATA

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_exploration", "02_segmentation", "03_explanations"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    source = "\n".join(c.source for c in code)
    assert "import custlens" in source or "from custlens" in source


def run(path: Path, cwd: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return notebook


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["01_exploration", "02_segmentation"])
def test_notebook_runs_on_the_bundled_sample(name: str, tmp_path: Path) -> None:
    notebook = run(ROOT / "notebooks" / f"{name}.ipynb", tmp_path)
    text = outputs_text(notebook)
    assert "Error" not in text
    images = sum(
        "image/png" in out.get("data", {}) for c in notebook.cells for out in c.get("outputs", [])
    )
    assert images >= 1


def test_explanation_notebook_runs_on_a_scored_file(
    trained, champion_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custlens.scoring.batch import features_as_of

    uri, _ = champion_store
    loaded = trained.loaded
    features = features_as_of(loaded.transactions, str(trained.last_day), trained.scorer)
    scores_file = tmp_path / "scores.parquet"
    trained.scorer.score_features(features).to_parquet(scores_file)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CUSTLENS_MODEL_URI", "models:/custlens-synthetic@champion")
    monkeypatch.setenv("CUSTLENS_SCORES", str(scores_file))
    monkeypatch.setenv("CUSTLENS_DATA", " ".join(SMOKE_DATA))
    notebook = run(ROOT / "notebooks" / "03_explanations.ipynb", tmp_path)
    text = outputs_text(notebook)
    assert f"{len(features):,} customers scored as of" in text
    assert "custlens-synthetic/1" in text
    # Customers appear under pseudonyms only.
    shown = set(loaded.transactions["customer_id"].astype(str))
    assert "c-" in text and not [i for i in shown if f"'{i}'" in text or f" {i} " in text]
    waterfalls = sum(
        "image/png" in out.get("data", {}) for c in notebook.cells for out in c.get("outputs", [])
    )
    assert waterfalls >= 5  # shap's beeswarm, three waterfalls and bar plot
