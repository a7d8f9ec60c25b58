"""The report in a real headless Chromium: no console errors, every image drawn, one table row
per segment, and a screenshot kept as a test artifact.

The browser comes from the system packages (`make browser`, run by `make test`). Without it the
test skips with the reason, unless CUSTLENS_REQUIRE_BROWSER=1 (set by `make test`, so CI cannot
skip it silently).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from custlens.reporting import report as rpt
from tests.helpers import ROOT
from tests.reporting.reports import build

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine's network is closed: without these Chromium keeps dialling out and logs errors.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CUSTLENS_TEST_ARTIFACTS", ROOT / "reports" / "test-artifacts"))


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "Chromium not installed (run `make browser`, which installs Debian's chromium)"
        if os.environ.get("CUSTLENS_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def test_report_renders_in_chromium(trained, scored, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    scores = scored[1]
    report = build(trained, scored, "s", shap_rows=300)
    page_file = tmp_path / "report.html"
    page_file.write_text(rpt.render(report), encoding="utf-8")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri(), wait_until="load")
            images = page.evaluate(
                """Array.from(document.images).map(i => ({alt: i.alt, w: i.naturalWidth,
                     h: i.naturalHeight, shown: i.getBoundingClientRect().width}))"""
            )
            rows = page.locator("#segment-table tbody tr").count()
            heading = page.locator("h1").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(images) == len(report.images) > 5
    assert all(i["w"] > 0 and i["h"] > 0 and i["shown"] > 0 for i in images), images
    assert rows == scores["segment_id"].nunique()
    assert heading == report.title
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
